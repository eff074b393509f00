// A small seeded random source for the spec checks. Every check draws from its own
// stream (`fork(label)`), so adding draws to one check never changes another's
// numbers, and a verdict is a function of (seed, heavy) only.

/** 32-bit string hash (FNV-1a), used to derive sub-stream seeds from labels. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** sfc32 generator: four 32-bit words of state, period ~2^128, fast in JS. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextU32(); // mix the seed through the state
  }

  /** An independent stream for `label`, derived from this stream's seed (not its position). */
  fork(label: string): Rng {
    return new Rng((hash32(label) ^ Math.imul(this.seed >>> 0, 0x85ebca6b)) >>> 0);
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with rate 1. */
  exponential(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    return -Math.log(u);
  }

  /** Chi-square with `k` (integer) degrees of freedom. */
  chiSquare(k: number): number {
    let s = 0;
    for (let i = 0; i < k; i++) {
      const z = this.normal();
      s += z * z;
    }
    return s;
  }

  /** Fisher–Yates shuffle of 0..n-1, first `k` returned. */
  sample(n: number, k: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, k);
  }
}
