// The one judging rule for kernel outputs, shared by the in-process checks and by
// `tda vectors check`: every element within its own bound, NaN or ∞ where the
// reference is finite fails, and a bound that is not a finite number fails too
// (a NaN bound would accept anything).

import type { Kernels } from '../core/kernels.js';
import { type KernelCase, runCall } from './cases.js';

/** Outcome of one case: the worst element and, if any element broke its bound, why. */
export interface CaseResult {
  maxAbs: number;
  maxRatio: number;
  fail?: string;
}

export function compare(out: Float32Array, ref: Float32Array, bound: ArrayLike<number>, what: string): CaseResult {
  let maxAbs = 0;
  let maxRatio = 0;
  let fail: string | undefined;
  if (out.length !== ref.length) return { maxAbs: Infinity, maxRatio: Infinity, fail: `${what} has ${out.length} elements, expected ${ref.length}` };
  for (let i = 0; i < ref.length; i++) {
    const o = out[i];
    const r = ref[i];
    const b = bound[i];
    if (!(b >= 0 && b < Infinity)) {
      fail ??= `${what}[${i}]: the bound is ${b}, not a finite number (the case cannot be judged)`;
      maxAbs = maxRatio = Infinity;
      continue;
    }
    if (Object.is(o, r) || o === r) continue;
    const err = Math.abs(o - r);
    if (Number.isNaN(err) || err === Infinity) {
      fail ??= `${what}[${i}] = ${o}, reference ${r}`;
      maxAbs = maxRatio = Infinity;
      continue;
    }
    const ratio = b > 0 ? err / b : Infinity;
    if (err > maxAbs) maxAbs = err;
    if (ratio > maxRatio) maxRatio = ratio;
    if (err > b && !fail) fail = `${what}[${i}] = ${o}, reference ${r}: error ${err.toExponential(3)} > bound ${b.toExponential(3)}`;
  }
  return { maxAbs, maxRatio, fail };
}

export function mergeResults(a: CaseResult, b: CaseResult): CaseResult {
  return { maxAbs: Math.max(a.maxAbs, b.maxAbs), maxRatio: Math.max(a.maxRatio, b.maxRatio), fail: a.fail ?? b.fail };
}

const bits = (a: Float32Array | Int32Array) => new Int32Array(a.buffer, a.byteOffset, a.length);

/** First element where two arrays of 32-bit values differ in their bits, or -1. */
export function firstBitDifference(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  const x = bits(a);
  const y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** Arrays of at least this many elements are remembered by block hashes, not copied. */
const HASHED_FROM = 1 << 20;
const BLOCK = 4096;

/** FNV-1a over the 32-bit words of each BLOCK-element block. */
function blockHashes(x: Int32Array): Uint32Array {
  const h = new Uint32Array(Math.ceil(x.length / BLOCK));
  for (let b = 0; b < h.length; b++) {
    let s = 0x811c9dc5;
    const end = Math.min(x.length, (b + 1) * BLOCK);
    for (let i = b * BLOCK; i < end; i++) s = Math.imul(s ^ x[i], 0x01000193);
    h[b] = s;
  }
  return h;
}

/**
 * What an input held before a call, and a test of whether it still holds it: the
 * changed element (a copy, for small arrays) or the changed block (hashes, for the
 * LLaMA-size weights, where a 180 MB copy per call costs more than the kernel; a
 * change that keeps a block's 32-bit hash is missed with probability ~2^-32).
 */
function snapshotOf(a: Float32Array | Int32Array): () => string | undefined {
  if (a.length < HASHED_FROM) {
    const copy = a.slice();
    return () => {
      const i = firstBitDifference(a, copy);
      return i >= 0 ? `[${i}] (${copy[i]} → ${a[i]})` : undefined;
    };
  }
  const before = blockHashes(bits(a));
  return () => {
    const after = blockHashes(bits(a));
    const b = after.findIndex((h, k) => h !== before[k]);
    return b >= 0 ? ` in elements ${b * BLOCK}…${Math.min(a.length, (b + 1) * BLOCK) - 1}` : undefined;
  };
}

/**
 * Runs a case on K twice and judges it: the first output against the bounds; the
 * inputs (weights, activations, KV cache, kept list) must be unchanged after each
 * call; the second call — same input arrays, an output prefilled differently —
 * must give the same bits (a kernel is a function of its inputs: no dependence on
 * the output's old contents, on earlier calls, on thread timing).
 */
export function checkCase(K: Kernels, c: KernelCase, what: string): CaseResult {
  const snapshot = Object.entries(c.arrays).map(([name, a]) => [name, snapshotOf(a)] as const);
  const unchanged = (): string | undefined => {
    for (const [name, changed] of snapshot) {
      const where = changed();
      if (where) return `the kernel modified its input ${name}${where}`;
    }
    return undefined;
  };
  const first = runCall(K, c);
  const r = compare(first, c.expected, c.bound, what);
  if (r.fail) return r;
  const mutated = unchanged();
  if (mutated) return { ...r, fail: mutated };
  const second = runCall(K, c, -1.5e38);
  const i = firstBitDifference(first, second);
  if (i >= 0) return { ...r, fail: `not deterministic: a second call on the same inputs gave ${what}[${i}] = ${second[i]}, the first ${first[i]}` };
  return { ...r, fail: unchanged() };
}
