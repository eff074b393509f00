// The FFN block written as a sum of neuron outputs (TDA paper, Appendix E).
//
//   FFN(x) = W_down a(x) (+ b_down)                                   (Eq 17)
//   a_i(x) = act(gate_i · x) · (up_i · x)        gated (SwiGLU / GeGLU)
//          = act(up_i · x + b_up,i)              non-gated (OPT ReLU / GELU)
//   neuron output  n_i(x) = a_i(x) · W_down[:, i]                      (Eq 18)
//   FFN(x) = Σ_{i=1}^{d_ff} n_i(x) (+ b_down)                          (Eq 19)
//
// Every method of this kit (Dense, TT, Griffin, TDA) only chooses *which* terms of
// Eq 19 to add. The kept set is an ascending Int32Array of neuron ids; null = all.

import { type FfnKind, type FfnWeights, weightRow } from '../core/model.js';
import { geluTanh, relu, silu } from './math.js';

/** Activation a_i of one neuron (the factor that multiplies W_down[:, i] in Eq 18). */
export function neuronActivation(x: Float32Array, ffn: FfnWeights, kind: FfnKind, i: number): number {
  const dim = x.length;
  const base = i * dim;
  let up = 0;
  for (let c = 0; c < dim; c++) up += ffn.up[base + c] * x[c];
  if (kind === 'swiglu' || kind === 'geglu') {
    const gateW = ffn.gate!;
    let gate = 0;
    for (let c = 0; c < dim; c++) gate += gateW[base + c] * x[c];
    // Round each projection to float32 as a float32 engine stores them.
    const g = Math.fround(gate);
    const u = Math.fround(up);
    return (kind === 'swiglu' ? silu(g) : geluTanh(g)) * u;
  }
  const pre = Math.fround(up + (ffn.upBias ? ffn.upBias[i] : 0));
  return kind === 'relu' ? relu(pre) : geluTanh(pre);
}

/** a = activations of all neurons (full gate and up projections). */
export function ffnActivations(a: Float32Array, x: Float32Array, ffn: FfnWeights, kind: FfnKind): void {
  for (let i = 0; i < a.length; i++) a[i] = neuronActivation(x, ffn, kind, i);
}

/** out = Σ_{i ∈ kept} a_i · W_down[:, i] (+ b_down) — Eq 19 restricted to `kept`. */
export function ffnDown(out: Float32Array, a: Float32Array, ffn: FfnWeights, kept: Int32Array | null): void {
  const dim = out.length;
  const acc = new Float64Array(dim);
  const count = kept ? kept.length : a.length;
  for (let k = 0; k < count; k++) {
    const i = kept ? kept[k] : k;
    const ai = a[i];
    if (ai === 0) continue; // adds exactly nothing; skipping keeps -0/+0 irrelevant
    const base = i * dim;
    for (let j = 0; j < dim; j++) acc[j] += ai * ffn.downT[base + j];
  }
  for (let j = 0; j < dim; j++) out[j] = acc[j] + (ffn.downBias ? ffn.downBias[j] : 0);
}

/**
 * The sliced FFN: reads gate/up/down rows of kept neurons only. Bit-identical to
 * ffnActivations followed by ffnDown over the same kept list (same roundings,
 * same summation order), which the tests check.
 */
export function ffnSliced(
  out: Float32Array,
  x: Float32Array,
  ffn: FfnWeights,
  kind: FfnKind,
  kept: Int32Array | null,
): void {
  const dim = out.length;
  const acc = new Float64Array(dim);
  const count = kept ? kept.length : ffn.up.length / x.length;
  for (let k = 0; k < count; k++) {
    const i = kept ? kept[k] : k;
    const ai = Math.fround(neuronActivation(x, ffn, kind, i));
    if (ai === 0) continue;
    const base = i * dim;
    for (let j = 0; j < dim; j++) acc[j] += ai * ffn.downT[base + j];
  }
  for (let j = 0; j < dim; j++) out[j] = acc[j] + (ffn.downBias ? ffn.downBias[j] : 0);
}

/**
 * ‖W_down[:, i]‖₂ for every neuron: the constant factor of Eq 18. It depends on
 * the weights only, so it is computed once per weight matrix and remembered
 * (weights are never changed in place once loaded). The result is shared: read only.
 */
export function downColumnNorms(ffn: FfnWeights, dim: number): Float64Array {
  const cached = normsCache.get(ffn.downT);
  if (cached) return cached;
  const hidden = ffn.downT.length / dim;
  const norms = new Float64Array(hidden);
  // Row by row through weightRow: a downT still held as its file's words (a wordsOnly load,
  // as native-cpu-f16 runs TT and TDA) gives the same values without a float32 copy.
  const scratch = new Float32Array(dim);
  for (let i = 0; i < hidden; i++) {
    const row = weightRow(ffn.downT, i, dim, scratch);
    let s = 0;
    for (let j = 0; j < dim; j++) s += row[j] ** 2;
    norms[i] = Math.sqrt(s);
  }
  normsCache.set(ffn.downT, norms);
  return norms;
}

const normsCache = new WeakMap<Float32Array, Float64Array>();

/** Eq 18 magnitude: ‖n_i(x)‖₂ = |a_i| · ‖W_down[:, i]‖₂, for every neuron. */
export function neuronOutputMagnitudes(out: Float64Array, a: Float32Array, downNorms: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]) * downNorms[i];
}

/** Eq 18 as a vector: n_i(x) = a_i · W_down[:, i]. */
export function neuronOutput(a: Float32Array, ffn: FfnWeights, i: number, dim: number): Float64Array {
  const row = weightRow(ffn.downT, i, dim, new Float32Array(dim)); // one row: no float32 copy of a words-only W_down
  const v = new Float64Array(dim);
  for (let j = 0; j < dim; j++) v[j] = a[i] * row[j];
  return v;
}
