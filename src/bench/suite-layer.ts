// `layer` suite: one decoder layer for the token at position ctx−1 — RMSNorm, Q/K/V
// projections, RoPE, attention over a KV cache of `ctx` tokens (32 heads for the
// LLaMA-2-7B shape), output projection, RMSNorm and the FFN by method — the same
// sequence of kernel calls as one layer of src/reference/decoder.ts. Only the FFN
// differs between methods, so the ceiling is below the FFN's: attention weights and
// the KV cache are read in full by every method.

import type { AttentionShape, Backend } from '../core/kernels.js';
import type { LayerWeights } from '../core/model.js';
import type { Method } from '../reference/policies/types.js';
import { layerBytes } from './ceiling.js';
import { runKernelSuite } from './kernel-suite.js';
import { type FfnSuiteOptions, ffnStep } from './suite-ffn.js';
import type { BenchRow } from './types.js';

export interface LayerSuiteOptions extends FfnSuiteOptions {
  nHeads: number;
  ctx: number;
}

export interface LayerState {
  weights: LayerWeights;
  keyCache: Float32Array;
  valueCache: Float32Array;
}

export function runLayerSuite(b: Backend, st: LayerState, o: LayerSuiteOptions): BenchRow[] {
  const K = b.kernels;
  const { dim, hiddenDim, ctx } = o;
  const shape: AttentionShape = { nHeads: o.nHeads, nKvHeads: o.nHeads, headSize: dim / o.nHeads, kvDim: dim };
  const w = st.weights;
  const x0 = new Float32Array(dim).map((_, i) => Math.sin(i) * 0.5);
  const x = new Float32Array(dim);
  const xb = new Float32Array(dim);
  const xb2 = new Float32Array(dim);
  const q = new Float32Array(dim);
  const k = new Float32Array(dim);
  const v = new Float32Array(dim);
  const a = new Float32Array(hiddenDim);
  const ffn = ffnStep(b, w.ffn, xb, a, xb2);
  const pos = ctx - 1;
  const step = (method: Method, kept: Int32Array | null): void => {
    x.set(x0); // the same input every run, so no state drifts between runs
    K.rmsnorm(xb, x, w.rmsAtt, 1e-5);
    K.matvec(q, w.wq, xb, dim, dim);
    K.matvec(k, w.wk, xb, dim, dim);
    K.matvec(v, w.wv, xb, dim, dim);
    K.rope(q, pos, shape.headSize, 10000);
    K.rope(k, pos, shape.headSize, 10000);
    st.keyCache.set(k, pos * dim);
    st.valueCache.set(v, pos * dim);
    K.attention(xb, q, st.keyCache, st.valueCache, pos, shape);
    K.matvec(xb2, w.wo, xb, dim, dim);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];
    K.rmsnorm(xb, x, w.rmsFfn, 1e-5);
    ffn(method, kept);
    for (let i = 0; i < dim; i++) x[i] += xb2[i];
  };
  return runKernelSuite({
    backend: b.name,
    suite: 'layer',
    shape: `${dim}x${hiddenDim} h${o.nHeads} ctx${ctx}`,
    hiddenDim,
    methods: o.methods,
    densities: o.densities,
    warmup: o.warmup,
    runs: o.runs,
    seed: o.seed,
    bytes: (m, kept) => layerBytes({ dim, hiddenDim, kvDim: dim }, m, kept, ctx),
    step,
    onRound: o.onRound,
    maxStepMs: o.maxStepMs,
  });
}
