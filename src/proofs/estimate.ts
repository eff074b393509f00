// A rough run-time estimate of `tda spec`, printed before long runs. The simulation checks
// do not depend on the model; the real-model checks scale with the forward passes they run
// and the parameters each pass reads (the reference decoder is memory- and loop-bound).
// Constants measured on stories260K on a 2-core machine with nothing else running.

import type { Model } from '../core/model.js';

/** Seconds of the simulation checks per seed (claims 1, 1-relu-vs-swiglu, 2, table-2), 2 cores. */
const SIMULATION_SECONDS_PER_SEED = 40;
/** Forward passes of the real-model checks per seed (table-3: 100 prompts of 16 + 8 tokens, 14 methods; claim-4; claim-3-real-attention: 24 samples and 24 random lists of 48 tokens). */
const REAL_TOKENS_PER_SEED = 19_500;
/** The latency step: a fixed synthetic model on native-cpu, run once after the seeds (independent of the model). */
const LATENCY_SECONDS = 6;
/** Forward passes of the seed-free real-model checks, run once (eq-17-20, table-4, table-5). */
const REAL_TOKENS_ONCE = 2_500;
/** Seconds per parameter per forward pass of the reference decoder. */
const SECONDS_PER_PARAM_TOKEN = 2.2e-9;

/** Parameters one forward pass reads: attention and FFN matrices of every layer, plus the classifier. */
export function forwardParams(model: Model): number {
  const c = model.config;
  const kv = (c.dim / c.nHeads) * c.nKvHeads;
  const ffnMatrices = c.ffnKind === 'relu' || c.ffnKind === 'gelu' ? 2 : 3;
  return c.nLayers * (c.dim * (2 * c.dim + 2 * kv) + ffnMatrices * c.dim * c.hiddenDim) + c.vocabSize * c.dim;
}

/** Estimated wall seconds of `tda spec` with `seeds` seeds (the seeds run two at a time on 2 cores). */
export function estimateSpecSeconds(params: number, seeds: number): number {
  const parallel = Math.max(1, seeds / 2);
  return Math.round(parallel * (SIMULATION_SECONDS_PER_SEED + REAL_TOKENS_PER_SEED * SECONDS_PER_PARAM_TOKEN * params) + REAL_TOKENS_ONCE * SECONDS_PER_PARAM_TOKEN * params + LATENCY_SECONDS);
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
