// Kept-neuron lists for the benchmark, and density-driven policies for e2e.
//
// The ffn and layer suites time kernels, not neuron choice: a seeded random kept
// list of the requested density touches the same number of rows as any real mask
// (rows are scattered either way, as real TDA masks are).
//
// e2e runs the real decoder with real policies. TDA and TT take thresholds; to run
// them "at density d" the thresholds are set from the prompt itself: per layer, the
// statistic (TDA) or per-token magnitude (TT) quantile that keeps a fraction d.
// This is calibration on the prompt, which only affects *which* neurons are kept,
// not how fast a kept count runs.

import type { Model } from '../core/model.js';
import { downColumnNorms } from '../reference/ffn.js';
import { Rng } from '../reference/random.js';
import { TdaStatistic, tdaMask } from '../reference/policies/tda.js';
import { ttPolicy } from '../reference/policies/tt.js';
import { type FfnPolicy, type Method, planForMask } from '../reference/policies/types.js';
import { griffinPolicy } from '../reference/policies/griffin.js';
import { densePolicy } from '../reference/policies/dense.js';

/** round(density · n) distinct ids, ascending, seeded (partial Fisher–Yates). */
export function randomKept(n: number, density: number, seed: number): Int32Array {
  const k = Math.round(density * n);
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = 0; i < k; i++) {
    const j = i + rng.nextInt(n - i);
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
  }
  return ids.subarray(0, k).sort();
}

/** The value v such that a fraction `keep` of `values` is ≥ v. */
export function keepThreshold(values: ArrayLike<number>, keep: number): number {
  const s = Float64Array.from(values).sort();
  const k = Math.round(keep * s.length);
  if (k <= 0) return Infinity;
  return s[s.length - k];
}

/** TDA with per-layer thresholds set so each layer's mask keeps `density` of its neurons. */
export function tdaAtDensity(model: Model, density: number): FfnPolicy {
  const { dim, hiddenDim } = model.config;
  const stats = model.weights.layers.map((l) => new TdaStatistic(downColumnNorms(l.ffn, dim)));
  let masks: Int32Array[] = [];
  return {
    method: 'tda',
    observePrompt: (layer, a) => stats[layer].add(a),
    endPrompt() {
      masks = stats.map((s) => {
        const v = s.values();
        return tdaMask(v, keepThreshold(v, density));
      });
    },
    plan: (layer) => planForMask(masks[layer], hiddenDim),
    selectForToken: () => null,
    masks: () => masks,
  };
}

/**
 * TT with per-layer thresholds at the `density` quantile of the prompt tokens'
 * magnitudes |a|·‖W_down[:, i]‖: generation tokens then keep about that fraction.
 */
export function ttAtDensity(model: Model, density: number): FfnPolicy & { thresholds(): number[] | null } {
  const { dim, nLayers } = model.config;
  const norms = model.weights.layers.map((l) => downColumnNorms(l.ffn, dim));
  const seen: number[][] = Array.from({ length: nLayers }, () => []);
  let inner: FfnPolicy | null = null;
  let taus: number[] | null = null;
  return {
    method: 'tt',
    /** The per-layer thresholds, once the prompt has ended. */
    thresholds: () => taus,
    observePrompt(layer, a) {
      for (let i = 0; i < a.length; i++) seen[layer].push(Math.abs(a[i]) * norms[layer][i]);
    },
    endPrompt() {
      taus = seen.map((v) => keepThreshold(v, density));
      inner = ttPolicy(model, taus);
    },
    plan: () => ({ kind: 'perToken' }),
    selectForToken: (layer, a) => inner!.selectForToken(layer, a),
    masks: () => [],
  };
}

export function policyAtDensity(model: Model, method: Method, density: number): FfnPolicy {
  switch (method) {
    case 'dense':
      return densePolicy();
    case 'griffin':
      return griffinPolicy(model, density);
    case 'tda':
      return tdaAtDensity(model, density);
    case 'tt':
      return ttAtDensity(model, density);
  }
}
