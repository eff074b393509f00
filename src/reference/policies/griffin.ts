// Griffin (Dong, Chen & Chi 2024) — the training-free baseline of the TDA paper.
//
// Over the prompt, each token's activation vector is normalised to unit length,
// z_t = a_t / ‖a_t‖₂, and each neuron is scored by s_i = sqrt(Σ_t z_{t,i}²)
// ("flocking": neurons that fire together across the sequence). Every layer keeps
// the same number k = round(density · d_ff) of top-scored neurons — the fixed
// top-k that the TDA paper (Section 5.2) blames for Griffin's quality loss.
//
// Tie rule: equal scores are ordered by lower neuron id first.

import type { Model } from '../../core/model.js';
import { type FfnPolicy, planForMask } from './types.js';

/** Griffin's neuron score over the prompt: s_i = sqrt(Σ_t (a_{t,i}/‖a_t‖)²). */
export class GriffinScore {
  readonly sumSq: Float64Array;
  constructor(hiddenDim: number) {
    this.sumSq = new Float64Array(hiddenDim);
  }
  add(a: Float32Array): void {
    let norm2 = 0;
    for (let i = 0; i < a.length; i++) norm2 += a[i] * a[i];
    if (norm2 === 0) return; // a token with no activation carries no direction
    for (let i = 0; i < a.length; i++) this.sumSq[i] += (a[i] * a[i]) / norm2;
  }
  scores(): Float64Array {
    return this.sumSq.map(Math.sqrt);
  }
}

/** The k best-scored ids in ascending id order (ties: lower id first). */
export function topK(scores: ArrayLike<number>, k: number): Int32Array {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((x, y) => scores[y] - scores[x] || x - y);
  return Int32Array.from(order.slice(0, k)).sort();
}

export function griffinK(density: number, hiddenDim: number): number {
  if (!(density >= 0 && density <= 1)) throw new RangeError(`density must be in [0, 1], got ${density}`);
  return Math.round(density * hiddenDim);
}

export function griffinPolicy(model: Model, density: number): FfnPolicy {
  const { hiddenDim, nLayers } = model.config;
  const k = griffinK(density, hiddenDim);
  const scores = Array.from({ length: nLayers }, () => new GriffinScore(hiddenDim));
  let masks: Int32Array[] = [];
  return {
    method: 'griffin',
    observePrompt: (layer, a) => scores[layer].add(a),
    endPrompt() {
      masks = scores.map((s) => topK(s.scores(), k));
    },
    plan: (layer) => planForMask(masks[layer], hiddenDim),
    selectForToken: () => null,
    masks: () => masks,
  };
}
