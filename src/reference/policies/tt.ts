// TT — threshold truncation (ReLU² paper; TDA paper Section 4, first paragraphs).
//
// For every generated token and layer l, keep the neurons whose output magnitude
// (Eq 18) passes the layer's threshold:  kept_t = { i : |a_{t,i}| · ‖W_down[:, i]‖ ≥ τ_l }.
// The decision needs a_t, so gate and up are computed in full for every token;
// only the down projection shrinks. This is why TT saves little (Table 4), and
// the kit's op and byte counts show it.
//
// Tie rule: a magnitude exactly equal to τ_l is kept (≥). τ_l = 0 keeps everything,
// which is reported as "all neurons" so TT with zero thresholds is exactly Dense.

import { downColumnNorms } from '../ffn.js';
import type { Model } from '../../core/model.js';
import type { FfnPolicy } from './types.js';

export function ttPolicy(model: Model, thresholds: ArrayLike<number>): FfnPolicy {
  const { dim, hiddenDim, nLayers } = model.config;
  if (thresholds.length !== nLayers) throw new RangeError(`TT needs ${nLayers} thresholds, got ${thresholds.length}`);
  const downNorms = model.weights.layers.map((l) => downColumnNorms(l.ffn, dim));
  return {
    method: 'tt',
    observePrompt: () => {},
    endPrompt: () => {},
    plan: () => ({ kind: 'perToken' }),
    selectForToken(layer, a) {
      const tau = thresholds[layer];
      const norms = downNorms[layer];
      const ids: number[] = [];
      for (let i = 0; i < hiddenDim; i++) if (Math.abs(a[i]) * norms[i] >= tau) ids.push(i);
      return ids.length === hiddenDim ? null : Int32Array.from(ids);
    },
    masks: () => [],
  };
}
