// TDA Appendix E, Eq 17–20 as numeric identities on the reference's functions:
// the FFN written in matrix form (Eq 17), as a sum of neuron outputs (Eq 18–19),
// and CETT (Eq 20) computed straight from its definition.

import type { Kernels } from '../core/kernels.js';
import { referenceKernels } from '../reference/kernels.js';
import { ffnDown, neuronOutput } from '../reference/ffn.js';
import type { FfnKind, FfnWeights } from '../core/model.js';

export type NeuronOutputFn = (a: Float32Array, ffn: FfnWeights, i: number, dim: number) => Float64Array;

/**
 * Eq 19 residual for one token: max over output coordinates j of
 * |ffnDown(a)_j − Σ_i n_i(a)_j| / (2^-24·|Σ_i n_i(a)_j| + 1e-30). ffnDown accumulates in
 * float64 and rounds once to float32, so a correct implementation stays ≤ 1 (half an
 * ulp of float32); a wrong neuron output (or a wrong ffnDown) gives orders of magnitude more.
 */
export function eq19Residual(a: Float32Array, ffn: FfnWeights, dim: number, neuronOut: NeuronOutputFn = neuronOutput): number {
  const out = new Float32Array(dim);
  ffnDown(out, a, ffn, null);
  const sum = new Float64Array(dim);
  for (let i = 0; i < a.length; i++) {
    const n = neuronOut(a, ffn, i, dim);
    for (let j = 0; j < dim; j++) sum[j] += n[j];
  }
  let worst = 0;
  for (let j = 0; j < dim; j++) worst = Math.max(worst, Math.abs(out[j] - sum[j]) / (2 ** -24 * Math.abs(sum[j]) + 1e-30));
  return worst;
}

const silu = (x: number) => x / (1 + Math.exp(-x));

/** Eq 17 in matrix form, float64, written independently of ffn.ts: W_down (silu(W_gate x) ⊙ W_up x). SwiGLU only. */
export function eq17Matrix(x: Float32Array, ffn: FfnWeights, kind: FfnKind): Float64Array {
  if (kind !== 'swiglu' || !ffn.gate) throw new Error('eq17Matrix: written for SwiGLU (LLaMA) only');
  const dim = x.length;
  const hidden = ffn.up.length / dim;
  const y = new Float64Array(dim);
  for (let i = 0; i < hidden; i++) {
    let g = 0;
    let u = 0;
    for (let c = 0; c < dim; c++) {
      g += ffn.gate[i * dim + c] * x[c];
      u += ffn.up[i * dim + c] * x[c];
    }
    const ai = silu(g) * u;
    for (let j = 0; j < dim; j++) y[j] += ai * ffn.downT[i * dim + j];
  }
  return y;
}

export interface FfnCall {
  x: Float32Array;
  a: Float32Array;
  y: Float32Array;
}

/**
 * Kernels that compute exactly as `base` and record every dense FFN call of the
 * decoder: its input x (the normalised residual), the activations a and the output y.
 * Calls come in decoder order: token by token, layer 0..L−1 within a token.
 */
export function recordingKernels(calls: FfnCall[], base: Kernels = referenceKernels): Kernels {
  let pending: { x: Float32Array; a: Float32Array } | null = null;
  return {
    ...base,
    ffnActivations(a, x, ffn, kind) {
      base.ffnActivations(a, x, ffn, kind);
      pending = { x: Float32Array.from(x), a: Float32Array.from(a) };
    },
    ffnDown(out, a, ffn, kept) {
      base.ffnDown(out, a, ffn, kept);
      if (pending && kept === null) calls.push({ ...pending, y: Float32Array.from(out) });
      pending = null;
    },
  };
}

/** Eq 20 for one token from its definition: ‖Σ_{i: v_i < τ} n_i‖ / ‖Σ_i n_i‖, with n_i from `neuronOut`. */
export function directTokenCett(
  a: Float32Array,
  values: ArrayLike<number>,
  ffn: FfnWeights,
  dim: number,
  tau: number,
  neuronOut: NeuronOutputFn = neuronOutput,
): number {
  const all = new Float64Array(dim);
  const dropped = new Float64Array(dim);
  for (let i = 0; i < a.length; i++) {
    const n = neuronOut(a, ffn, i, dim);
    for (let j = 0; j < dim; j++) {
      all[j] += n[j];
      if (values[i] < tau) dropped[j] += n[j];
    }
  }
  const ny = Math.hypot(...all);
  return ny === 0 ? NaN : Math.hypot(...dropped) / ny;
}

/** Mean of directTokenCett over every token of every unit (tokens with zero output skipped). */
export function directCett(
  units: { values: ArrayLike<number>; tokens: Float32Array[] }[],
  ffn: FfnWeights,
  dim: number,
  tau: number,
  neuronOut: NeuronOutputFn = neuronOutput,
): number {
  let s = 0;
  let n = 0;
  for (const u of units) {
    for (const a of u.tokens) {
      const c = directTokenCett(a, u.values, ffn, dim, tau, neuronOut);
      if (Number.isNaN(c)) continue;
      s += c;
      n++;
    }
  }
  return n ? s / n : 0;
}
