// Choosing the next token from logits (run.c `sample`): greedy argmax, or seeded
// sampling with temperature and nucleus (top-p) truncation.

import { softmax } from './math.js';
import { Rng } from './random.js';

/** Index of the largest logit; the first one on ties (run.c `sample_argmax`). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export interface SamplerOptions {
  temperature: number; // 0 = greedy
  topp: number; // in (0, 1): nucleus sampling; otherwise plain multinomial
  seed: number;
}

export class Sampler {
  private readonly rng: Rng;

  constructor(readonly opts: SamplerOptions) {
    if (!(opts.temperature >= 0) || !Number.isFinite(opts.temperature)) throw new RangeError('temperature must be ≥ 0');
    if (!(opts.topp >= 0 && opts.topp <= 1)) throw new RangeError('topp must be in [0, 1]');
    this.rng = new Rng(opts.seed);
  }

  sample(logits: Float32Array): number {
    if (this.opts.temperature === 0) return argmax(logits);
    const probs = Float32Array.from(logits, (l) => l / this.opts.temperature);
    softmax(probs);
    const coin = this.rng.nextFloat();
    const { topp } = this.opts;
    return topp > 0 && topp < 1 ? sampleTopP(probs, topp, coin) : sampleMultinomial(probs, coin);
  }
}

/** Inverse-CDF draw: first index whose cumulative probability exceeds `coin`. */
export function sampleMultinomial(probs: Float32Array, coin: number): number {
  let cdf = 0;
  for (let i = 0; i < probs.length; i++) {
    cdf += probs[i];
    if (coin < cdf) return i;
  }
  return probs.length - 1; // rounding: the cumulative sum may end just below 1
}

/**
 * Nucleus sampling: keep the most probable tokens whose mass first exceeds `topp`,
 * draw among them. Tokens below (1 − topp)/(n − 1) cannot be in the nucleus and
 * are dropped before sorting (the same shortcut as run.c, same result).
 */
export function sampleTopP(probs: Float32Array, topp: number, coin: number): number {
  const n = probs.length;
  const cutoff = (1 - topp) / (n - 1);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (probs[i] >= cutoff) candidates.push(i);
  candidates.sort((a, b) => probs[b] - probs[a] || a - b);
  let mass = 0;
  let last = candidates.length - 1;
  for (let k = 0; k < candidates.length; k++) {
    mass += probs[candidates[k]];
    if (mass > topp) {
      last = k;
      break;
    }
  }
  const r = coin * mass;
  let cdf = 0;
  for (let k = 0; k <= last; k++) {
    cdf += probs[candidates[k]];
    if (r < cdf) return candidates[k];
  }
  return candidates[last];
}
