// Seeded randomness for everything reproducible in the kit: synthetic models,
// calibration samples and sampling during generation.
//
// The generator is llama2.c's xorshift* (run.c `random_u32`): 64-bit state,
// shifts 12/25/27, multiplier 0x2545F4914F6CDD1D, upper 32 bits returned. With the
// same seed it yields the same stream as run.c, so seeded sampling can be compared
// against it token for token.

const M_HI = 0x2545f491; // the multiplier 0x2545F4914F6CDD1D, in two 32-bit halves
const M_LO = 0x4f6cdd1d;

/** High 32 bits of the 64-bit product of two uint32 (exact: 16-bit limbs in doubles). */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = Math.floor((a0 * b0) / 65536) + (p01 % 65536) + (p10 % 65536);
  return (a1 * b1 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) >>> 0;
}

export class Rng {
  // The 64-bit state as two uint32 halves: plain number arithmetic, no BigInt in
  // the hot path (synthetic 7B-sized matrices draw hundreds of millions of values).
  private hi: number;
  private lo: number;

  constructor(seed: number | bigint) {
    let s = BigInt.asUintN(64, BigInt(seed));
    if (s === 0n) s = 0x9e3779b97f4a7c15n; // xorshift must not start at 0
    this.hi = Number(s >> 32n);
    this.lo = Number(s & 0xffffffffn);
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    let { hi, lo } = this;
    // s ^= s >> 12
    lo = (lo ^ ((lo >>> 12) | (hi << 20))) >>> 0;
    hi = (hi ^ (hi >>> 12)) >>> 0;
    // s ^= s << 25
    hi = (hi ^ ((hi << 25) | (lo >>> 7))) >>> 0;
    lo = (lo ^ (lo << 25)) >>> 0;
    // s ^= s >> 27
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    this.hi = hi;
    this.lo = lo;
    // Bits 32..63 of s · M (mod 2^64).
    return (mulHi32(lo, M_LO) + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
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
