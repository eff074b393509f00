// Multiply-adds and weight bytes touched per generated token — the quantities a
// method saves. Decode at batch 1 is memory-bound, so weight bytes are the ceiling
// on speed-up (see `tda bench`). Counts assume fp32 weights (4 bytes).

import type { FfnUsage } from './decoder.js';
import { isGated, kvDim, type ModelConfig } from '../core/model.js';

export interface TokenCost {
  /** FFN multiply-adds: gate/up rows computed × dim (×2 if gated) + kept down columns × dim. */
  ffnMacs: number;
  /** Extra per-token work to *decide* which neurons to keep (TT: one |a|·‖w‖ and compare per neuron). */
  decisionOps: number;
  ffnWeightBytes: number;
  /** Attention projections, classifier and the FFN together (KV-cache reads excluded). */
  totalMacs: number;
  totalWeightBytes: number;
  /** The same two FFN numbers for Dense, for ratios. */
  denseFfnMacs: number;
  denseFfnWeightBytes: number;
}

const BYTES_PER_WEIGHT = 4;

/** Average cost per generated token from the decoder's usage counters. */
export function tokenCost(c: ModelConfig, usage: FfnUsage, perTokenDecision: boolean): TokenCost {
  const tokens = Math.max(usage.tokens, 1);
  const gateUp = isGated(c.ffnKind) ? 2 : 1;
  let ffnWeights = 0;
  for (let l = 0; l < c.nLayers; l++) {
    ffnWeights += (gateUp * usage.computed[l] + usage.kept[l]) * c.dim / tokens;
  }
  const denseFfnWeights = c.nLayers * (gateUp + 1) * c.hiddenDim * c.dim;
  const attentionWeights = c.nLayers * (2 * c.dim * c.dim + 2 * kvDim(c) * c.dim);
  const classifierWeights = c.vocabSize * c.dim;
  const decisionOps = perTokenDecision ? c.nLayers * c.hiddenDim : 0;
  return {
    ffnMacs: ffnWeights,
    decisionOps,
    ffnWeightBytes: ffnWeights * BYTES_PER_WEIGHT,
    totalMacs: ffnWeights + attentionWeights + classifierWeights + decisionOps,
    totalWeightBytes: (ffnWeights + attentionWeights + classifierWeights) * BYTES_PER_WEIGHT,
    denseFfnMacs: denseFfnWeights,
    denseFfnWeightBytes: denseFfnWeights * BYTES_PER_WEIGHT,
  };
}
