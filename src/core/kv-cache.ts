// The KV cache's element type. A decoder keeps, per layer, the keys and values of every
// position so far ([seqLen][kvDim]); long contexts read them once per generated token, as
// many bytes as a large share of the weights (TDA paper, Table 4's 1024 + 1024 setting on
// a model without grouped-query attention). So, like llama.cpp (its default cache type is
// F16), a backend may keep them as IEEE half:
//   'f32'  Float32Array: each K/V row as the projections computed it;
//   'f16'  Uint16Array of F16 bits: each row rounded to nearest even when it is written,
//          and widened exactly when attention reads it.
// The rounding happens once, at the write: attention over an F16 cache computes what
// attention over the float32 widening of its words computes, so every attention kernel
// and its tolerance stay as they are (conformance gives the backend the words and the
// reference their widening). What the F16 cache changes is the model's run, not the
// kernels: keys and values carry a relative error of at most 2^-11 each (F16's unit
// roundoff), the same kind of perturbation as storing the weights as F16. Values beyond
// F16's range (±65504) would turn into infinities; writing one is an error.

import { UserError } from '../errors.js';
import { f16Values, f32ToF16 } from '../models/dtypes.js';

export type KvType = 'f32' | 'f16';

/** One layer's keys or values: float32, or F16 bits. */
export type KvRows = Float32Array | Uint16Array;

export const KV_TYPES: readonly KvType[] = ['f32', 'f16'];

/** The element type of a cache array. */
export function kvTypeOf(rows: KvRows): KvType {
  return rows instanceof Uint16Array ? 'f16' : 'f32';
}

/** A zeroed cache of n elements of type `type`. */
export function allocKv(type: KvType, n: number): KvRows {
  return type === 'f16' ? new Uint16Array(n) : new Float32Array(n);
}

/** F16's largest finite value. */
const F16_MAX = 65504;

/**
 * cache[at + i] = values[i] (rounded to nearest-even F16 for an F16 cache). A value that
 * F16 cannot hold (beyond ±65504, rounded) is refused with a clear error rather than
 * stored as an infinity that attention would turn into NaN.
 */
export function writeKvRow(cache: KvRows, at: number, values: Float32Array): void {
  if (cache instanceof Float32Array) {
    cache.set(values, at);
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const h = f32ToF16(values[i]);
    if ((h & 0x7c00) === 0x7c00 && Number.isFinite(values[i])) throw kvOverflow(`${values[i]}`);
    cache[at + i] = h;
  }
}

/**
 * Index of the first word of an F16 cache's [from, to) that is not a finite value, or −1.
 * A backend that rounds K/V rows itself (native prefillLayer) is checked with it afterwards.
 */
export function firstNonFiniteKv(cache: Uint16Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if ((cache[i] & 0x7c00) === 0x7c00) return i;
  return -1;
}

/** The error for a key or value F16 cannot hold; `what` says which (its value, or where it is). */
export function kvOverflow(what: string): UserError {
  return new UserError(
    `numerical overflow: a key or value (${what}) does not fit the F16 KV cache (largest magnitude ${F16_MAX}); run with --kv-cache f32`,
  );
}

/** The float32 value of every F16 word (exact): the loaders' decoding table (src/models/dtypes.ts). */
export const f16Table = f16Values;

/**
 * The float32 values of a cache's first n elements (all by default): the cache itself, or
 * the exact widening of its F16 words (a copy).
 */
export function widenKv(cache: KvRows, n = cache.length): Float32Array {
  if (cache instanceof Float32Array) return cache;
  const table = f16Table();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[cache[i]];
  return out;
}

/** The F16 words of float32 values, rounded to nearest even (overflow refused, as writeKvRow). */
export function toF16Kv(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  writeKvRow(out, 0, values);
  return out;
}

/** The cache types a kernels object accepts (kvCacheTypes, default ['f32']). */
export function acceptedKvTypes(K: { readonly kvCacheTypes?: readonly KvType[] }): readonly KvType[] {
  return K.kvCacheTypes && K.kvCacheTypes.length > 0 ? K.kvCacheTypes : ['f32'];
}

/**
 * The cache type a decoder on kernels K keeps: `requested` when given (it must be one K
 * accepts), else K's first. `who` names the kernels in the error.
 */
export function kvTypeFor(K: { readonly kvCacheTypes?: readonly KvType[] }, requested?: KvType, who = 'the backend'): KvType {
  const accepted = acceptedKvTypes(K);
  if (requested === undefined) return accepted[0];
  if (!accepted.includes(requested)) {
    throw new UserError(`${who} keeps no ${requested.toUpperCase()} KV cache (it accepts ${accepted.join(', ')})`);
  }
  return requested;
}

/**
 * A cache as a Float32Array, for kernels that keep float32 caches only (no kvCacheTypes):
 * the decoder never gives them another (kvTypeFor), so an F16 cache here is a caller's
 * mistake, refused rather than read as wrong numbers.
 */
export function f32Kv(cache: KvRows, who: string): Float32Array {
  if (cache instanceof Float32Array) return cache;
  throw new TypeError(`${who} reads float32 KV caches only, got F16 words`);
}

/**
 * dst[0, n) = src[0, n) for two caches of the same type (a decoder forked from another's
 * prompt). Typed-array `set` between a Float32Array and a Uint16Array would convert the
 * numbers silently, so caches of different types are refused.
 */
export function copyKvRows(dst: KvRows, src: KvRows, n: number): void {
  if (kvTypeOf(dst) !== kvTypeOf(src)) throw new TypeError(`cannot copy a ${kvTypeOf(src)} KV cache into a ${kvTypeOf(dst)} one`);
  dst.set(src.subarray(0, n));
}
