// Bit-level helpers for float32 / float16 / bfloat16 arithmetic, used by the
// tolerance bounds (is a weight representable in the backend's precision?) and by
// the deliberately broken test backends (one-ulp nudges).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** Smallest positive normal float32, 2^-126: below it a backend may flush to zero. */
export const FLT_MIN = 2 ** -126;

/** The next float32 above x (toward +∞). */
export function nextUpF32(x: number): number {
  const v = Math.fround(x);
  if (Number.isNaN(v) || v === Infinity) return v;
  if (v === 0) return 2 ** -149;
  f32[0] = v;
  u32[0] += v > 0 ? 1 : -1;
  return f32[0];
}

/** The next float32 below x (toward −∞). */
export function nextDownF32(x: number): number {
  return -nextUpF32(-x);
}

/** Spacing of float32 numbers at x (ulp(x)); 2^-149 in the subnormal range. */
export function ulpF32(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (a < FLT_MIN) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Round to bfloat16 (8-bit significand, float32 range), nearest-even. */
export function roundBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000) return f32[0]; // inf / nan
  const lsb = (bits >>> 16) & 1;
  u32[0] = ((bits + 0x7fff + lsb) & 0xffff0000) >>> 0;
  return f32[0];
}

/** Round to IEEE half (11-bit significand, max 65504, subnormals below 2^-14), nearest-even. */
export function roundFp16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  // Quantum of the half format at |x|: 2^(e-10) for normals, 2^-24 for subnormals;
  // e is read from the double's exponent bits (exact, unlike floor(log2)).
  const e = Math.max(binaryExponent(a), -14);
  const q = POW2[e - 10 + POW2_BIAS];
  const r = a / q;
  let n = Math.round(r);
  if (r - Math.trunc(r) === 0.5 && n % 2 === 1) n -= 1; // ties to even
  return Math.sign(x) * n * q;
}

const POW2_BIAS = 64;
const POW2 = Float64Array.from({ length: 128 }, (_, i) => 2 ** (i - POW2_BIAS));
const expF64 = new Float64Array(1);
const expHi = new Uint32Array(expF64.buffer, 4, 1); // the high word on little-endian hosts

/** floor(log2(a)) for a finite positive double (subnormal doubles, far below half's range, give -1023). */
function binaryExponent(a: number): number {
  expF64[0] = a;
  return ((expHi[0] >>> 20) & 0x7ff) - 1023;
}

/**
 * Exponent of the lowest set bit of a finite non-zero double: x is an integer
 * multiple of 2^lowestBitExp(x). Used to prove that a sum is exact in float32.
 */
export function lowestBitExp(x: number): number {
  f64[0] = x;
  const bits = u64[0];
  const expField = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e: number;
  if (expField === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expField - 1075;
  }
  if (mant === 0n) return Infinity;
  // count trailing zeros of the 53-bit significand
  let tz = 0;
  while ((mant & 1n) === 0n) {
    mant >>= 1n;
    tz++;
  }
  return e + tz;
}
