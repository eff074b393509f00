// One kernel case as data: the kernel's name, its scalar arguments (`params`) and
// its array arguments (`arrays`, under their names in src/core/kernels.ts), the
// reference's output (`expected`) and a bound per output element (`bound`).
//
// The same case feeds three consumers, so that there is one judging rule:
//  - the property checks of kernels.ts (generated, shrunk, judged in process);
//  - `tda vectors export`, which writes cases to files for kernels in any language;
//  - `tda vectors check`, which judges outputs written by anything.
//
// Array names: matvec w, x; rmsnorm x, weight; rope vec (rotated in place: the
// output is the rotated vec); attention q, keyCache, valueCache; ffnActivations
// x, ffn.gate, ffn.up, ffn.upBias; ffnDown a, ffn.downT, ffn.downBias, kept;
// ffnSliced x, ffn.gate, ffn.up, ffn.upBias, ffn.downT, ffn.downBias, kept.
// An FFN array that is null in FfnWeights is absent; `kept` absent means null
// (all neurons), an empty Int32Array means no neuron. An attention case with
// params.kvCache = 'f16' holds cache values that F16 represents exactly, and the
// kernel gets them as F16 words (kvArg below).

import { referenceKernels } from '../reference/kernels.js';
import type { AttentionShape, Kernels } from '../core/kernels.js';
import { f16Table, type KvRows } from '../core/kv-cache.js';
import { f32ToF16 } from '../models/dtypes.js';
import { type FfnKind, type FfnWeights, isGated } from '../core/model.js';
import {
  activationOf,
  attentionBound,
  softmaxWeightDeviation,
  dotBound,
  dotTerms,
  gamma,
  gatedActivationBound,
  plainActivationBound,
  type Precision,
  rmsnormBound,
  ropeBound,
} from './tolerance.js';

export const KERNEL_NAMES = ['matvec', 'rmsnorm', 'rope', 'attention', 'ffnActivations', 'ffnDown', 'ffnSliced'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

export type CaseArrays = Record<string, Float32Array | Int32Array>;
export type CaseParams = Record<string, number | string>;

/** What a kernel is called with. */
export interface KernelCall {
  kernel: KernelName;
  params: CaseParams;
  arrays: CaseArrays;
}

/** A call with its judgement: the reference's output and the bound of every element. */
export interface KernelCase extends KernelCall {
  expected: Float32Array;
  bound: Float64Array;
}

function f32(c: KernelCall, name: string): Float32Array {
  const a = c.arrays[name];
  if (!(a instanceof Float32Array)) throw new Error(`${c.kernel} case: array "${name}" missing or not float32`);
  return a;
}

function num(c: KernelCall, name: string): number {
  const v = c.params[name];
  if (typeof v !== 'number') throw new Error(`${c.kernel} case: parameter "${name}" missing or not a number`);
  return v;
}

// The F16 words of a case's cache array, one Uint16Array per Float32Array (by identity)
// refreshed on every call: a call sequence that reuses its cache arrays with new rows
// (calls.ts) hands the kernel the same word arrays with new rows, as a decoder does.
const kvWords = new WeakMap<Float32Array, Uint16Array>();

/** Cache array `name` as the kernel gets it: the float32 array, or (kvCache 'f16') its F16 words. */
function kvArg(c: KernelCall, name: string): KvRows {
  const a = f32(c, name);
  if (c.params.kvCache !== 'f16') return a;
  let words = kvWords.get(a);
  if (!words || words.length !== a.length) kvWords.set(a, (words = new Uint16Array(a.length)));
  const table = f16Table();
  for (let i = 0; i < a.length; i++) {
    const h = f32ToF16(a[i]);
    if (table[h] !== a[i] && !(Number.isNaN(a[i]) && Number.isNaN(table[h]))) {
      throw new Error(`attention case: ${name}[${i}] = ${a[i]} is not an F16 value`);
    }
    words[i] = h;
  }
  return words;
}

// The latest placeholder, reused while the size stays (LLaMA size: 180 MB) and zeroed
// again on every use (memset speed), in case a kernel wrote into it.
let placeholder = new Float32Array(0);
function zeros(n: number): Float32Array {
  if (placeholder.length !== n) placeholder = new Float32Array(n);
  else placeholder.fill(0);
  return placeholder;
}

/**
 * The FfnWeights of a call. A kernel gets a complete FFN (a backend may take the
 * shapes from any of its arrays): the matrices a kernel does not read (up for
 * ffnDown, downT for ffnActivations) are zeros of the right size.
 */
export function ffnOf(c: KernelCall): FfnWeights {
  const opt = (n: string) => (c.arrays[n] instanceof Float32Array ? (c.arrays[n] as Float32Array) : null);
  const size = num(c, 'dim') * num(c, 'hidden');
  return {
    gate: opt('ffn.gate'),
    up: opt('ffn.up') ?? zeros(size),
    downT: opt('ffn.downT') ?? zeros(size),
    upBias: opt('ffn.upBias'),
    downBias: opt('ffn.downBias'),
  };
}

export function keptOf(c: KernelCall): Int32Array | null {
  const k = c.arrays.kept;
  return k instanceof Int32Array ? k : null;
}

export function shapeOf(c: KernelCall): AttentionShape {
  return { nHeads: num(c, 'nHeads'), nKvHeads: num(c, 'nKvHeads'), headSize: num(c, 'headSize'), kvDim: num(c, 'kvDim') };
}

/** Length of the output of a call. */
export function outputLength(c: KernelCall): number {
  switch (c.kernel) {
    case 'matvec':
      return num(c, 'rows');
    case 'rmsnorm':
      return f32(c, 'x').length;
    case 'rope':
      return f32(c, 'vec').length;
    case 'attention':
      return num(c, 'nHeads') * num(c, 'headSize');
    case 'ffnActivations':
      return num(c, 'hidden');
    case 'ffnDown':
    case 'ffnSliced':
      return num(c, 'dim');
  }
}

/**
 * Runs one call on kernels K into a fresh output prefilled with `fill` (NaN by
 * default: an element the kernel forgets to write fails). rope works in place on
 * a copy of vec; rmsnorm with params.alias = 1 is called with out === x (on a copy).
 */
export function runCall(K: Kernels, c: KernelCall, fill = NaN): Float32Array {
  const out = new Float32Array(outputLength(c)).fill(fill);
  const p = c.params;
  switch (c.kernel) {
    case 'matvec':
      K.matvec(out, f32(c, 'w'), f32(c, 'x'), num(c, 'rows'), num(c, 'cols'));
      return out;
    case 'rmsnorm':
      if (p.alias === 1) {
        out.set(f32(c, 'x'));
        K.rmsnorm(out, out, f32(c, 'weight'), num(c, 'eps'));
      } else K.rmsnorm(out, f32(c, 'x'), f32(c, 'weight'), num(c, 'eps'));
      return out;
    case 'rope':
      out.set(f32(c, 'vec'));
      K.rope(out, num(c, 'pos'), num(c, 'headSize'), num(c, 'theta'));
      return out;
    case 'attention':
      K.attention(out, f32(c, 'q'), kvArg(c, 'keyCache'), kvArg(c, 'valueCache'), num(c, 'pos'), shapeOf(c));
      return out;
    case 'ffnActivations':
      K.ffnActivations(out, f32(c, 'x'), ffnOf(c), p.kind as FfnKind);
      return out;
    case 'ffnDown':
      K.ffnDown(out, f32(c, 'a'), ffnOf(c), keptOf(c));
      return out;
    case 'ffnSliced':
      K.ffnSliced(out, f32(c, 'x'), ffnOf(c), p.kind as FfnKind, keptOf(c));
      return out;
  }
}

/** The call judged: the reference's output and every element's bound at precision p. */
export function judgeCall(c: KernelCall, p: Precision): KernelCase {
  return { ...c, expected: runCall(referenceKernels, c), bound: boundsOf(c, p) };
}

/** Bound of every output element of a call (tolerance.ts; derivations in docs/tolerances.md). */
export function boundsOf(c: KernelCall, p: Precision): Float64Array {
  switch (c.kernel) {
    case 'matvec': {
      const w = f32(c, 'w');
      const x = f32(c, 'x');
      const rows = num(c, 'rows');
      const cols = num(c, 'cols');
      return Float64Array.from({ length: rows }, (_, r) => dotBound(dotTerms(w, r * cols, x, 0, cols, p)));
    }
    case 'rmsnorm': {
      const x = f32(c, 'x');
      const weight = f32(c, 'weight');
      const eps = num(c, 'eps');
      let ss = 0;
      for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
      const scale = 1 / Math.sqrt(ss / x.length + eps);
      return Float64Array.from(x, (xi, i) => rmsnormBound(xi, weight[i], scale, x.length, p));
    }
    case 'rope': {
      const v = f32(c, 'vec');
      const pos = num(c, 'pos');
      const hs = num(c, 'headSize');
      const theta = num(c, 'theta');
      return Float64Array.from(v, (_, i) => {
        const i0 = i & ~1;
        const j = i0 % hs;
        return ropeBound(v[i0], v[i0 + 1], pos * (1 / Math.pow(theta, j / hs)), j, hs, theta);
      });
    }
    case 'attention':
      return attentionBounds(f32(c, 'q'), f32(c, 'keyCache'), f32(c, 'valueCache'), num(c, 'pos'), shapeOf(c));
    case 'ffnActivations':
      return activationBounds(f32(c, 'x'), ffnOf(c), c.params.kind as FfnKind, p);
    case 'ffnDown':
      return downBounds(f32(c, 'a'), null, ffnOf(c), keptOf(c), p);
    case 'ffnSliced': {
      const x = f32(c, 'x');
      const ffn = ffnOf(c);
      const kind = c.params.kind as FfnKind;
      const aRef = new Float32Array(ffn.up.length / x.length);
      referenceKernels.ffnActivations(aRef, x, ffn, kind);
      return downBounds(aRef, activationBounds(x, ffn, kind, p), ffn, keptOf(c), p);
    }
  }
}

/** Bound of every neuron's activation a_i for input x. */
export function activationBounds(x: Float32Array, ffn: FfnWeights, kind: FfnKind, p: Precision): Float64Array {
  const dim = x.length;
  const hidden = ffn.up.length / dim;
  const E = new Float64Array(hidden);
  const act = activationOf(kind);
  for (let i = 0; i < hidden; i++) {
    if (isGated(kind)) {
      const g = dotTerms(ffn.gate!, i * dim, x, 0, dim, p);
      const u = dotTerms(ffn.up, i * dim, x, 0, dim, p);
      E[i] = gatedActivationBound(act as 'silu' | 'gelu', g, u);
    } else {
      const pre = dotTerms(ffn.up, i * dim, x, 0, dim, p, ffn.upBias ? ffn.upBias[i] : 0);
      E[i] = plainActivationBound(act as 'relu' | 'gelu', pre);
    }
  }
  return E;
}

/**
 * Bound of out_j = Σ_{i ∈ kept} a_i·downT[i][j] (+ bias_j). With activation
 * errors E (the sliced FFN computes a itself) they propagate through the down
 * projection, its own rounding on top (γ_{n+1}), then the dot-product bound.
 * The kept rows are gathered and transposed once, so that each output is one
 * contiguous dot product (LLaMA size: 4096 outputs × 11008 neurons).
 */
function downBounds(a: Float32Array, E: Float64Array | null, ffn: FfnWeights, kept: Int32Array | null, p: Precision): Float64Array {
  const hidden = a.length;
  const dim = ffn.downT.length / hidden;
  const ids = kept ?? Int32Array.from({ length: hidden }, (_, i) => i);
  const k = ids.length;
  const dT = new Float32Array(dim * k);
  const aK = new Float32Array(k);
  for (let m = 0; m < k; m++) aK[m] = a[ids[m]];
  // Transposed in 64×64 tiles: a column-at-a-time copy misses the cache on every write.
  const T = 64;
  for (let m0 = 0; m0 < k; m0 += T) {
    const m1 = Math.min(k, m0 + T);
    for (let j0 = 0; j0 < dim; j0 += T) {
      const j1 = Math.min(dim, j0 + T);
      for (let m = m0; m < m1; m++) {
        const row = ids[m] * dim;
        for (let j = j0; j < j1; j++) dT[j * k + m] = ffn.downT[row + j];
      }
    }
  }
  return Float64Array.from({ length: dim }, (_, j) => {
    const t = dotTerms(dT, j * k, aK, 0, k, p, ffn.downBias ? ffn.downBias[j] : undefined);
    if (!E) return dotBound(t);
    let prop = 0;
    for (let m = 0; m < k; m++) prop += E[ids[m]] * Math.abs(dT[j * k + m]);
    return dotBound(t) + prop * (1 + gamma(t.n + 1));
  });
}

/** Exact (float64) scores and softmax weights per head, their deviations, then attentionBound per output. */
function attentionBounds(q: Float32Array, keyCache: Float32Array, valueCache: Float32Array, pos: number, s: AttentionShape): Float64Array {
  const { nHeads, nKvHeads, headSize: hs, kvDim } = s;
  const group = nHeads / nKvHeads;
  const T = pos + 1;
  const bounds = new Float64Array(nHeads * hs);
  const scale = 1 / Math.sqrt(hs);
  const score = new Float64Array(T);
  const scoreAbs = new Float64Array(T);
  const pr = new Float64Array(T);
  const vcol = new Float64Array(T);
  for (let h = 0; h < nHeads; h++) {
    const kvOff = Math.floor(h / group) * hs;
    let max = -Infinity;
    for (let t = 0; t < T; t++) {
      let sum = 0;
      let sa = 0;
      for (let d = 0; d < hs; d++) {
        const prod = q[h * hs + d] * keyCache[t * kvDim + kvOff + d];
        sum += prod;
        sa += Math.abs(prod);
      }
      score[t] = sum * scale;
      scoreAbs[t] = sa * scale;
      if (score[t] > max) max = score[t];
    }
    let z = 0;
    for (let t = 0; t < T; t++) z += (pr[t] = Math.exp(score[t] - max));
    for (let t = 0; t < T; t++) pr[t] /= z;
    const w = softmaxWeightDeviation(scoreAbs, score, pr, T, hs);
    for (let d = 0; d < hs; d++) {
      for (let t = 0; t < T; t++) vcol[t] = valueCache[t * kvDim + kvOff + d];
      bounds[h * hs + d] = attentionBound(w, pr, vcol, T);
    }
  }
  return bounds;
}
