// Tensor element types shared by the GGUF and safetensors loaders, decoded to the
// reference's float32 on load (exactly: F16 and BF16 widen without rounding; a Q8_0
// block is its float16 scale d times each int8 q, a Q4_0 block d times each 4-bit q − 8,
// a Q4_K block d·scale·q − dmin·min with 6-bit sub-block scales and mins, computed in
// float32 as ggml's dequantize_row_q8_0 / _q4_0 / _q4_K do). The encoders exist to write
// test files (Q4_K is read only).

/** float16 bits → float32 value (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** bfloat16 bits → float32 value (exact: the high half of the float32 bits). */
export function bf16ToF32(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0];
}

/** float32 → float16 bits, round to nearest even (as numpy / torch convert). */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** float32 → bfloat16 bits, round to nearest even (torch's conversion). */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Element types the loaders understand. Q8_0, Q4_0 and Q4_K exist in GGUF only (the kit writes no Q4_K). */
export type DType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_K';

/** Values per block of the block-quantised types (both Q8_0 and Q4_0). */
export const Q8_0_BLOCK = 32;
export const QUANT_BLOCK = Q8_0_BLOCK;
const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;
const Q4_0_BLOCK_BYTES = 2 + Q8_0_BLOCK / 2;

/**
 * ggml's block_q4_K (QK_K = 256 values in 144 bytes): f16 d, f16 dmin, 12 bytes holding
 * eight 6-bit sub-block scales and eight 6-bit mins, then 128 bytes of 4-bit quants.
 */
export const Q4_K_BLOCK = 256;
const Q4_K_BLOCK_BYTES = 2 + 2 + 12 + Q4_K_BLOCK / 2;

export function isBlockQuantised(type: DType): boolean {
  return type === 'Q8_0' || type === 'Q4_0' || type === 'Q4_K';
}

/** Values per block of `type` (1 for the plain types): rows and reads must be whole blocks. */
export function blockValues(type: DType): number {
  return type === 'Q4_K' ? Q4_K_BLOCK : isBlockQuantised(type) ? Q8_0_BLOCK : 1;
}

/** Bytes holding `n` elements of `type` (n a multiple of 32 for Q8_0). */
export function byteSize(type: DType, n: number): number {
  switch (type) {
    case 'F32': return 4 * n;
    case 'F16': case 'BF16': return 2 * n;
    case 'Q8_0': return (n / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
    case 'Q4_0': return (n / Q8_0_BLOCK) * Q4_0_BLOCK_BYTES;
    case 'Q4_K': return (n / Q4_K_BLOCK) * Q4_K_BLOCK_BYTES;
  }
}

let f16Table: Uint32Array | null = null;
/**
 * The float32 bits of all 65536 float16 values: decoding a multi-GB F16 file is then one
 * integer lookup per value (no float arithmetic, so every bit pattern comes out as
 * f16ToF32 gives it, NaN payloads included).
 */
function f16Bits(): Uint32Array {
  if (!f16Table) {
    const values = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) values[h] = f16ToF32(h);
    f16Table = new Uint32Array(values.buffer);
  }
  return f16Table;
}

/** The float32 value of every float16 word, as one table (the same storage as f16Bits). */
export function f16Values(): Float32Array {
  return new Float32Array(f16Bits().buffer);
}

/** The 16-bit words of `bytes` (a view when aligned, else a copy); the host is little-endian, as the files. */
function words(bytes: Uint8Array, n: number): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return new Uint16Array(Uint8Array.from(bytes.subarray(0, 2 * n)).buffer);
}

/** float32 bits with an all-ones exponent: ±Inf or NaN. */
const F32_EXP = 0x7f800000;

/**
 * Decodes `n` elements of `type` from `bytes` (little-endian) into out[at … at + n) and
 * returns the index (within those n) of the first non-finite value, or −1. The finite
 * check rides along in the same pass: for F16/BF16 it reads the 16-bit exponent field,
 * and only a chunk that holds a non-finite value is scanned again to say where.
 */
export function decodeInto(type: DType, bytes: Uint8Array, out: Float32Array, at: number, n: number): number {
  const bits = new Uint32Array(out.buffer, out.byteOffset + 4 * at, n);
  switch (type) {
    case 'F32': {
      new Uint8Array(bits.buffer, bits.byteOffset, 4 * n).set(bytes.subarray(0, 4 * n));
      for (let i = 0; i < n; i++) if ((bits[i] & F32_EXP) === F32_EXP) return i;
      return -1;
    }
    case 'F16': {
      // exponent + 1 carries into bit 15 only when the exponent field is all ones (Inf/NaN):
      // OR-ing that carry over the chunk is a branch-free finite check; the scan below finds where.
      const table = f16Bits();
      const w = words(bytes, n);
      let carry = 0;
      for (let i = 0; i < n; i++) {
        const h = w[i];
        bits[i] = table[h];
        carry |= (h & 0x7c00) + 0x0400;
      }
      if (!(carry & 0x8000)) return -1;
      break;
    }
    case 'BF16': {
      // bfloat16 is the high half of the float32 bits; the finite check as for F16 (8-bit exponent).
      const w = words(bytes, n);
      let carry = 0;
      for (let i = 0; i < n; i++) {
        const h = w[i];
        bits[i] = h << 16;
        carry |= (h & 0x7f80) + 0x0080;
      }
      if (!(carry & 0x8000)) return -1;
      break;
    }
    case 'Q8_0': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let b = 0; b < n / Q8_0_BLOCK; b++) {
        const base = b * Q8_0_BLOCK_BYTES;
        const d = Math.fround(f16ToF32(view.getUint16(base, true)));
        for (let j = 0; j < Q8_0_BLOCK; j++) out[at + b * Q8_0_BLOCK + j] = d * view.getInt8(base + 2 + j);
      }
      break;
    }
    case 'Q4_0': {
      // ggml dequantize_row_q4_0: byte j holds value j (low nibble) and value j + 16 (high), each (q − 8)·d.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let b = 0; b < n / Q8_0_BLOCK; b++) {
        const base = b * Q4_0_BLOCK_BYTES;
        const d = Math.fround(f16ToF32(view.getUint16(base, true)));
        const o = at + b * Q8_0_BLOCK;
        for (let j = 0; j < Q8_0_BLOCK / 2; j++) {
          const q = bytes[base + 2 + j];
          out[o + j] = ((q & 0x0f) - 8) * d;
          out[o + j + 16] = ((q >> 4) - 8) * d;
        }
      }
      break;
    }
    case 'Q4_K':
      decodeQ4K(bytes, out, at, n);
      break;
  }
  for (let i = 0; i < n; i++) if ((bits[i] & F32_EXP) === F32_EXP) return i;
  return -1;
}

/**
 * The 6-bit scale and min of sub-block j (0–7) of a Q4_K block, from its 12 packed bytes
 * (ggml's get_scale_min_k4): sub-blocks 0–3 keep theirs in the low 6 bits of bytes j and
 * j + 4; sub-blocks 4–7 keep the low 4 bits in the nibbles of byte j + 4 and the high 2 bits
 * in the top bits of bytes j − 4 (scale) and j (min).
 */
function q4kScaleMin(s: Uint8Array, base: number, j: number): [scale: number, min: number] {
  if (j < 4) return [s[base + j] & 63, s[base + j + 4] & 63];
  return [(s[base + j + 4] & 0x0f) | ((s[base + j - 4] >> 6) << 4), (s[base + j + 4] >> 4) | ((s[base + j] >> 6) << 4)];
}

/**
 * ggml dequantize_row_q4_K: each 64 values share 32 quant bytes; values 0–31 are the low
 * nibbles (sub-block 2i), 32–63 the high nibbles (sub-block 2i + 1); value = d·scale·q −
 * dmin·min in float32. d·scale and d·q·scale are exact in float32 (11 + 6 + 4 bits), so the
 * one rounding is the subtraction, with or without a fused multiply-add.
 */
function decodeQ4K(bytes: Uint8Array, out: Float32Array, at: number, n: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < n / Q4_K_BLOCK; b++) {
    const base = b * Q4_K_BLOCK_BYTES;
    const d = f16ToF32(view.getUint16(base, true));
    const dmin = f16ToF32(view.getUint16(base + 2, true));
    const scales = base + 4;
    const qs = base + 16;
    for (let i = 0; i < 4; i++) {
      const [sc1, m1] = q4kScaleMin(bytes, scales, 2 * i);
      const [sc2, m2] = q4kScaleMin(bytes, scales, 2 * i + 1);
      const d1 = Math.fround(d * sc1);
      const d2 = Math.fround(d * sc2);
      const min1 = Math.fround(dmin * m1);
      const min2 = Math.fround(dmin * m2);
      const o = at + b * Q4_K_BLOCK + 64 * i;
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + 32 * i + l];
        out[o + l] = Math.fround(Math.fround(d1 * (q & 0x0f)) - min1);
        out[o + 32 + l] = Math.fround(Math.fround(d2 * (q >> 4)) - min2);
      }
    }
  }
}

/**
 * The index of the first non-finite F16 / BF16 word among words[at … at + n), or −1: the
 * finite check of decodeInto (all-ones exponent field) for words kept without decoding.
 */
export function nonFiniteWord(type: 'F16' | 'BF16', words: Uint16Array, at: number, n: number): number {
  const exp = type === 'F16' ? 0x7c00 : 0x7f80;
  for (let i = 0; i < n; i++) if ((words[at + i] & exp) === exp) return i;
  return -1;
}

/** Decodes `n` elements of `type` from `bytes` (little-endian) into a new float32 array. */
export function decodeTensor(type: DType, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  decodeInto(type, bytes, out, 0, n);
  return out;
}

/** Encodes float32 values as `type` (for writing test files; Q8_0 as ggml's quantize_row_q8_0_ref). */
export function encodeTensor(type: DType, data: Float32Array): Uint8Array {
  if (type === 'Q4_K') throw new Error('the kit reads Q4_K but does not write it');
  const n = data.length;
  const bytes = new Uint8Array(byteSize(type, n));
  const view = new DataView(bytes.buffer);
  switch (type) {
    case 'F32':
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      break;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, f32ToF16(data[i]), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, f32ToBf16(data[i]), true);
      break;
    case 'Q8_0':
      if (n % Q8_0_BLOCK !== 0) throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, not ${n}`);
      for (let b = 0; b < n / Q8_0_BLOCK; b++) {
        let amax = 0;
        for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(data[b * Q8_0_BLOCK + j]));
        const d = Math.fround(amax / 127);
        const id = d ? Math.fround(1 / d) : 0;
        const base = b * Q8_0_BLOCK_BYTES;
        view.setUint16(base, f32ToF16(d), true);
        for (let j = 0; j < Q8_0_BLOCK; j++) {
          const v = Math.fround(data[b * Q8_0_BLOCK + j] * id);
          view.setInt8(base + 2 + j, Math.sign(v) * Math.round(Math.abs(v))); // roundf: half away from zero
        }
      }
      break;
    case 'Q4_0':
      // ggml quantize_row_q4_0_ref: d = (the value of largest magnitude) / −8, q = min(15, trunc(x/d + 8.5)).
      if (n % Q8_0_BLOCK !== 0) throw new Error(`Q4_0 needs a multiple of ${Q8_0_BLOCK} values, not ${n}`);
      for (let b = 0; b < n / Q8_0_BLOCK; b++) {
        let amax = 0;
        let max = 0;
        for (let j = 0; j < Q8_0_BLOCK; j++) {
          const v = data[b * Q8_0_BLOCK + j];
          if (Math.abs(v) > amax) [amax, max] = [Math.abs(v), v];
        }
        const d = Math.fround(max / -8);
        const id = d ? Math.fround(1 / d) : 0;
        const base = b * Q4_0_BLOCK_BYTES;
        view.setUint16(base, f32ToF16(d), true);
        const q = (x: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(x * id) + 8.5)));
        for (let j = 0; j < Q8_0_BLOCK / 2; j++) bytes[base + 2 + j] = q(data[b * Q8_0_BLOCK + j]) | (q(data[b * Q8_0_BLOCK + j + 16]) << 4);
      }
      break;
  }
  return bytes;
}
