// Which RoPE a model's q/k rows get, on a given set of kernels: the one place the decoder
// and the batched prefill both ask, so the two can never rotate differently.
//
// Layout (ModelConfig.ropeStyle) picks rope or ropeHalves; a frequency table
// (ModelConfig.ropeFreqFactors, LLaMA-3.1 scaling) picks ropeWithFreqs. A backend lacking
// the optional kernel gets the reference loop (src/reference/math.ts), as for ropeHalves.

import type { Kernels } from '../core/kernels.js';
import { headSize, type ModelConfig } from '../core/model.js';
import { ropeHalves, ropeWithFreqs } from './math.js';

/** Rotates one or more heads of `vec` in place for position `pos`. */
export type RopeAt = (vec: Float32Array, pos: number) => void;

/** The model's RoPE on kernels K, or null when the model has none (learned positions, OPT). */
export function ropeFor(c: ModelConfig, K: Kernels): RopeAt | null {
  const style = c.ropeStyle ?? 'pairs';
  if (style === 'none') return null;
  const hs = headSize(c);
  const theta = c.ropeTheta;
  const factors = c.ropeFreqFactors;
  if (factors) {
    if (factors.length !== hs / 2) throw new Error(`RoPE frequency table has ${factors.length} entries, head width ${hs} needs ${hs / 2}`);
    const f = K.ropeWithFreqs ? K.ropeWithFreqs.bind(K) : ropeWithFreqs;
    return (vec, pos) => f(vec, pos, hs, theta, factors, style);
  }
  if (style === 'halves') {
    const f = K.ropeHalves ? K.ropeHalves.bind(K) : ropeHalves;
    return (vec, pos) => f(vec, pos, hs, theta);
  }
  return (vec, pos) => K.rope(vec, pos, hs, theta);
}
