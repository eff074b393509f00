// `ffn` suite: one FFN block (SwiGLU), LLaMA-2-7B shape by default (d 4096, d_ff 11008).
// The three kernel paths are the decoder's (src/reference/decoder.ts):
//   dense          ffnActivations + ffnDown(all)
//   TT             ffnActivations + ffnDown(kept)   — gate/up in full, down sliced
//   Griffin, TDA   ffnSliced(kept)                   — gate, up and down rows of kept neurons
// TT's per-token decision (|a|·‖w‖ ≥ τ over d_ff neurons, a few µs) is not in the timing.

import type { Backend } from '../core/kernels.js';
import type { FfnWeights } from '../core/model.js';
import type { Method } from '../reference/policies/types.js';
import { ffnBytes } from './ceiling.js';
import { runKernelSuite } from './kernel-suite.js';
import type { BenchRow } from './types.js';

export interface FfnSuiteOptions {
  dim: number;
  hiddenDim: number;
  methods: Method[];
  densities: number[];
  warmup: number;
  runs: number;
  seed: number;
  onRound?: () => void;
  maxStepMs?: number;
}

/** One step of `method` on `ffn`, with scratch buffers a (d_ff) and out (d). */
export function ffnStep(b: Backend, ffn: FfnWeights, x: Float32Array, a: Float32Array, out: Float32Array) {
  const K = b.kernels;
  return (method: Method, kept: Int32Array | null): void => {
    if (method === 'dense' || method === 'tt') {
      K.ffnActivations(a, x, ffn, 'swiglu');
      K.ffnDown(out, a, ffn, method === 'dense' ? null : kept);
    } else {
      K.ffnSliced(out, x, ffn, 'swiglu', kept);
    }
  };
}

export function runFfnSuite(b: Backend, ffn: FfnWeights, o: FfnSuiteOptions): BenchRow[] {
  const x = new Float32Array(o.dim).map((_, i) => Math.sin(i) * 0.5);
  const a = new Float32Array(o.hiddenDim);
  const out = new Float32Array(o.dim);
  return runKernelSuite({
    backend: b.name,
    suite: 'ffn',
    shape: `${o.dim}x${o.hiddenDim}`,
    hiddenDim: o.hiddenDim,
    methods: o.methods,
    densities: o.densities,
    warmup: o.warmup,
    runs: o.runs,
    seed: o.seed,
    bytes: (m, kept) => ffnBytes(o, m, kept),
    step: ffnStep(b, ffn, x, a, out),
    onRound: o.onRound,
    maxStepMs: o.maxStepMs,
  });
}
