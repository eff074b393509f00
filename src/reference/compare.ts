// Quality of a sparse method against Dense on the same tokens: the dense model
// generates greedily; the method is then teacher-forced on the dense continuation,
// so both distributions are compared at the same positions.

import { argmax } from './sampler.js';

/** KL(p‖q) between the softmax distributions of two logit vectors, in nats. */
export function klDivergence(logitsP: Float32Array, logitsQ: Float32Array): number {
  const lp = logSoftmax(logitsP);
  const lq = logSoftmax(logitsQ);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) {
    const p = Math.exp(lp[i]);
    if (p > 0) kl += p * (lp[i] - lq[i]);
  }
  return Math.max(kl, 0); // rounding can give −1e-17 for identical inputs
}

export function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const l of logits) if (l > max) max = l;
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(logits, (l) => l - logZ);
}

export interface QualityComparison {
  positions: number;
  /** Fraction of positions where both argmaxes agree. */
  top1Agreement: number;
  /** Mean KL(dense‖method) per position, nats. */
  meanKl: number;
  /** Mean negative log-likelihood of the dense tokens under the method, nats. */
  methodNll: number;
  denseNll: number;
}

/** denseLogits[i] and methodLogits[i] predict targets[i]. */
export function compareLogits(denseLogits: Float32Array[], methodLogits: Float32Array[], targets: number[]): QualityComparison {
  const n = Math.min(denseLogits.length, methodLogits.length, targets.length);
  let agree = 0;
  let kl = 0;
  let nllM = 0;
  let nllD = 0;
  for (let i = 0; i < n; i++) {
    if (argmax(denseLogits[i]) === argmax(methodLogits[i])) agree++;
    kl += klDivergence(denseLogits[i], methodLogits[i]);
    nllM -= logSoftmax(methodLogits[i])[targets[i]];
    nllD -= logSoftmax(denseLogits[i])[targets[i]];
  }
  const d = Math.max(n, 1);
  return { positions: n, top1Agreement: agree / d, meanKl: kl / d, methodNll: nllM / d, denseNll: nllD / d };
}
