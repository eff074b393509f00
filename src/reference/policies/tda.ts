// TDA — Threshold-based Dynamic Activation (TDA paper, Section 4, Algorithm 1).
//
// Prefill: run the dense FFN over the prompt and, per layer, gather a per-neuron
// statistic of the prompt tokens' *relative* magnitudes. After the prompt, the
// neurons whose statistic passes the layer's threshold form the layer's mask
// (the paper's mask_array). Generation: every token uses only those neurons —
// gate and up rows and down columns sliced (src/reference/ffn.ts `ffnSliced`).
//
// The paper leaves the exact statistic open ("normalizes these activations to
// obtain relative magnitudes in accordance with TT", thresholds "per layer",
// Appendix E). The choice made here, and why:
//
//   1. Per token, the TT metric: the neuron output magnitude of Eq 18,
//        m_{t,i} = |a_{t,i}| · ‖W_down[:, i]‖₂.
//      This is what CETT (Eq 20) truncates, so a threshold found by CETT speaks
//      the same units; plain |a| would ignore how large the neuron's output is.
//   2. Relative magnitude: r_{t,i} = m_{t,i} / ‖m_t‖₂. Without it, one token with
//      huge activations (BOS carries "massive activations", Sun et al. 2024a, the
//      heavy hitters of TDA Section 3.3) would decide the mask alone; normalising
//      per token is also what Griffin does with z_t.
//   3. Sequence statistic: the root mean square over the prompt's T tokens,
//        s_i = sqrt( (1/T) Σ_t r_{t,i}² ).
//      RMS, not Griffin's plain sum, so that the same threshold means the same thing
//      for a 5-token and a 500-token prompt; squares, like Griffin, so that a neuron
//      that fires strongly on a few tokens still counts.
//   4. Mask: kept_l = { i : s_i ≥ τ_l }. Tie rule: equal to τ_l is kept. τ_l = 0
//      keeps every neuron, and a mask of every neuron runs the dense FFN, so TDA
//      with zero thresholds is exactly Dense.
//
// The thresholds τ_l are calibrated offline (src/reference/calibrate.ts): either to
// a CETT target measured on *generation* tokens under the prompt's mask, or to a
// target average density with per-layer thresholds still differing.

import { downColumnNorms } from '../ffn.js';
import type { Model } from '../../core/model.js';
import { type FfnPolicy, keptWhere, planForMask } from './types.js';

/**
 * Running TDA statistic of one layer: s_i = sqrt(mean_t (m_{t,i} / ‖m_t‖)²),
 * with m_{t,i} = |a_{t,i}| · ‖W_down[:, i]‖ (Eq 18).
 */
export class TdaStatistic {
  private readonly sumSq: Float64Array;
  private tokens = 0;
  private readonly m: Float64Array;

  constructor(private readonly downNorms: Float64Array) {
    this.sumSq = new Float64Array(downNorms.length);
    this.m = new Float64Array(downNorms.length);
  }

  add(a: Float32Array): void {
    let norm2 = 0;
    for (let i = 0; i < a.length; i++) {
      this.m[i] = Math.abs(a[i]) * this.downNorms[i];
      norm2 += this.m[i] * this.m[i];
    }
    this.tokens++;
    if (norm2 === 0) return; // an all-zero token contributes r = 0 everywhere
    for (let i = 0; i < a.length; i++) this.sumSq[i] += (this.m[i] * this.m[i]) / norm2;
  }

  values(): Float64Array {
    const t = Math.max(this.tokens, 1);
    return this.sumSq.map((s) => Math.sqrt(s / t));
  }
}

/** The mask of one layer: ascending ids with statistic ≥ τ (ties kept). */
export function tdaMask(statistic: ArrayLike<number>, tau: number): Int32Array {
  return keptWhere(statistic.length, (i) => statistic[i] >= tau);
}

export function tdaPolicy(model: Model, thresholds: ArrayLike<number>): FfnPolicy {
  const { dim, hiddenDim, nLayers } = model.config;
  if (thresholds.length !== nLayers) throw new RangeError(`TDA needs ${nLayers} thresholds, got ${thresholds.length}`);
  const stats = model.weights.layers.map((l) => new TdaStatistic(downColumnNorms(l.ffn, dim)));
  let masks: Int32Array[] = [];
  return {
    method: 'tda',
    observePrompt: (layer, a) => stats[layer].add(a),
    endPrompt() {
      masks = stats.map((s, l) => tdaMask(s.values(), thresholds[l]));
    },
    plan: (layer) => planForMask(masks[layer], hiddenDim),
    selectForToken: () => null,
    masks: () => masks,
  };
}
