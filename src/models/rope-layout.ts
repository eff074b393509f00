// The two RoPE row layouts of q/k projections, and the permutation between them.
// Meta's LLaMA (and llama2.c) rotates consecutive pairs (2j, 2j+1) of each head; Hugging
// Face's conversion (convert_llama_weights_to_hf.py, `permute`) reorders the rows of
// Wq/Wk so that rotate_half pairs (j, j + h/2) instead: within head h, row 2j + i of
// Meta becomes row i·h/2 + j. llama.cpp's converter applies the inverse for `llama`.

import { type Model, fillStoredHalf, headSize } from '../core/model.js';

/** Rows of a (nHeads·headSize) × cols matrix (or a bias, cols = 1) from pairs order to rotate-half order. */
export function pairsToHalves(w: Float32Array, nHeads: number, hs: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < hs / 2; j++) {
      for (let i = 0; i < 2; i++) {
        const from = (h * hs + 2 * j + i) * cols;
        const to = (h * hs + i * (hs / 2) + j) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/** The same function as `model` with q/k rows in rotate-half order and RoPE style 'halves'. */
export function toHalvesModel(model: Model): Model {
  const c = model.config;
  if ((c.ropeStyle ?? 'pairs') !== 'pairs') throw new Error('model is not in pairs layout');
  const hs = headSize(c);
  const layers = model.weights.layers.map((l) => ({
    ...l,
    // The permutation reads the values (a wordsOnly load's q/k get them first); other arrays pass through as they are.
    wq: pairsToHalves(fillStoredHalf(l.wq), c.nHeads, hs, c.dim),
    wk: pairsToHalves(fillStoredHalf(l.wk), c.nKvHeads, hs, c.dim),
    bq: l.bq ? pairsToHalves(l.bq, c.nHeads, hs, 1) : l.bq,
    bk: l.bk ? pairsToHalves(l.bk, c.nKvHeads, hs, 1) : l.bk,
  }));
  return { ...model, config: { ...c, ropeStyle: 'halves' }, weights: { ...model.weights, layers } };
}
