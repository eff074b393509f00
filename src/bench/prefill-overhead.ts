// What TDA adds to the prefill of a prompt: the per-token statistic (accumulated for
// every prompt token and layer), the per-layer mask (statistic → kept list), and any
// slicing a backend does to serve the kept rows — against the prefill time of the
// same prompt on the same backend.
//
// The denominator here is the token-by-token prefill (Decoder.forward, a matvec per
// token): a 1024-token prompt on a few-hundred-million-parameter model takes minutes, so
// it is estimated from forward passes timed at sampled positions (cost grows linearly with
// position through attention), integrated over 0..T−1. The statistic is timed on
// `statTokens` tokens and scaled to T (it is linear in T). llama.cpp's batched
// prefill of the same length, if measured, is the stricter comparison; the kit's own
// batched prefill (src/reference/prefill.ts) is timed end to end by the paper suite.

import type { Backend } from '../core/kernels.js';
import { Decoder } from '../reference/decoder.js';
import { downColumnNorms } from '../reference/ffn.js';
import type { Model } from '../core/model.js';
import { densePolicy } from '../reference/policies/dense.js';
import { TdaStatistic, tdaMask } from '../reference/policies/tda.js';
import { randomKept } from './masks.js';
import { median } from './stats.js';
import { withSeqLen } from './suite-e2e.js';
import type { PrefillOverhead } from './types.js';

export interface PrefillOptions {
  promptTokens: number;
  /** Positions at which a forward pass is timed (ascending, within 0..promptTokens−1). */
  positions: number[];
  repeats: number;
  statTokens: number;
  /** Layers on which slicing is timed (scaled to all layers). */
  sliceLayers: number;
  density: number;
}

export function measurePrefillOverhead(b: Backend, full: Model, o: PrefillOptions): PrefillOverhead & { normsMs: number } {
  const model = withSeqLen(full, o.promptTokens);
  const c = model.config;
  const K = b.kernels;

  // Prefill: forward passes at sampled positions, trapezoid over 0..T−1.
  const dec = new Decoder(model, K);
  const policy = densePolicy();
  const times = o.positions.map((pos) => {
    const s: number[] = [];
    for (let r = 0; r < o.repeats + 1; r++) {
      const t0 = performance.now();
      dec.forward(1 + ((pos * 7) % (c.vocabSize - 1)), pos, 'prefill', policy);
      if (r > 0) s.push(performance.now() - t0); // the first pass at a position warms it up
    }
    return median(s);
  });
  let prefillMs = 0;
  for (let p = 0; p < o.promptTokens; p++) {
    let i = 0;
    while (i < o.positions.length - 1 && o.positions[i + 1] < p) i++;
    const p0 = o.positions[i];
    const p1 = o.positions[Math.min(i + 1, o.positions.length - 1)];
    const f = p1 > p0 ? Math.min(Math.max((p - p0) / (p1 - p0), 0), 1) : 0;
    prefillMs += times[i] + f * (times[Math.min(i + 1, times.length - 1)] - times[i]);
  }

  // W_down column norms: the reference policy computes them when a policy is built;
  // they depend only on the weights, so they are reported apart (cacheable per model).
  let t0 = performance.now();
  const norms = model.weights.layers.map((l) => downColumnNorms(l.ffn, c.dim));
  const normsMs = performance.now() - t0;

  // Statistic: statTokens tokens through every layer, scaled to the prompt length.
  const a = new Float32Array(c.hiddenDim).map((_, i) => Math.sin(i * 0.37) * 2);
  const stats = norms.map((nm) => new TdaStatistic(nm));
  t0 = performance.now();
  for (let t = 0; t < o.statTokens; t++) for (const s of stats) s.add(a);
  const statisticsMs = ((performance.now() - t0) * o.promptTokens) / o.statTokens;

  // Mask: statistic → kept list, every layer.
  t0 = performance.now();
  for (const s of stats) tdaMask(s.values(), 0.5 / Math.sqrt(c.hiddenDim));
  const maskMs = performance.now() - t0;

  // Slicing: the first two sliced calls with a new kept list minus two steady calls (0
  // for a backend that reads kept rows in place). Two, because a backend may copy the
  // rows on the second call with a list rather than the first (native-cpu does:
  // src/backends/native-cpu/kept-rows.ts).
  const x = new Float32Array(c.dim).map((_, i) => Math.cos(i) * 0.5);
  const out = new Float32Array(c.dim);
  let slice = 0;
  const layers = Math.min(o.sliceLayers, c.nLayers);
  for (let l = 0; l < layers; l++) {
    const ffn = model.weights.layers[l].ffn;
    const kept = randomKept(c.hiddenDim, o.density, 1000 + l);
    t0 = performance.now();
    K.ffnSliced(out, x, ffn, c.ffnKind, kept);
    K.ffnSliced(out, x, ffn, c.ffnKind, kept);
    const firstTwoMs = performance.now() - t0;
    const steady: number[] = [];
    for (let r = 0; r < 3; r++) {
      t0 = performance.now();
      K.ffnSliced(out, x, ffn, c.ffnKind, kept);
      steady.push(performance.now() - t0);
    }
    slice += Math.max(0, firstTwoMs - 2 * median(steady));
  }
  const slicingMs = (slice * c.nLayers) / Math.max(layers, 1);
  const overheadMs = statisticsMs + maskMs + slicingMs;
  return {
    backend: b.name,
    model: model.source,
    promptTokens: o.promptTokens,
    statisticsMs,
    maskMs,
    slicingMs,
    overheadMs,
    normsMs,
    prefillMs,
    prefillHow: `kit decoder, token by token; forward timed at positions ${o.positions.join(', ')} (median of ${o.repeats}) and integrated`,
    fraction: overheadMs / prefillMs,
  };
}
