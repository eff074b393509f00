// Seeded randomness for everything reproducible in the kit: synthetic models,
// calibration samples and sampling during generation.
//
// The generator is llama2.c's xorshift* (run.c `random_u32`): 64-bit state,
// shifts 12/25/27, multiplier 0x2545F4914F6CDD1D, upper 32 bits returned. With the
// same seed it yields the same stream as run.c, so seeded sampling can be compared
// against it token for token.

const MASK64 = (1n << 64n) - 1n;

export class Rng {
  private state: bigint;

  constructor(seed: number | bigint) {
    this.state = BigInt.asUintN(64, BigInt(seed));
    if (this.state === 0n) this.state = 0x9e3779b97f4a7c15n; // xorshift must not start at 0
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    let s = this.state;
    s ^= s >> 12n;
    s = (s ^ (s << 25n)) & MASK64;
    s ^= s >> 27n;
    this.state = s;
    return Number(((s * 0x2545f4914f6cdd1dn) & MASK64) >> 32n);
  }

  /** Uniform float in [0, 1) with 24 random bits, as run.c's random_f32. */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** Standard normal (Box–Muller). */
  nextNormal(): number {
    const u = 1 - this.nextFloat(); // (0, 1]
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}
