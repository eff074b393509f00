// Heavy hitters in a model's own attention (H2O, Zhang et al. 2023; MOYU §4.2 /
// TDA §3.3 Claim 3 build on it): the accumulated attention score of a key position is
// the sum, over every query that can see it, of the probability that query gives it.
// A heavy hitter is a position whose accumulated score is among the largest.
//
// Two facts make a raw "top-k share" misleading, so the spec measures around them:
//  - causality: position j is seen by T − j queries, so early positions accumulate more
//    even under uniform attention (p_ij = 1/(i+1)). The spec therefore sums only the last
//    queries' rows over the keys all of them can see.
//  - peaked rows alone make a high top-k share by chance; heavy hitters are keys that
//    many rows pick. Control: each row's probabilities shuffled among those keys, which
//    keeps every row's distribution of values and destroys agreement between rows.

import { type KvRows, widenKv } from '../core/kv-cache.js';
import type { AttentionShape, Kernels } from '../core/kernels.js';
import { topKAbs } from './patterns.js';
import type { Rng } from './rng.js';

/** probs[layer][head][query i] = the attention probabilities of query i over key positions 0..i. */
export type AttentionMaps = Float64Array[][][];

/**
 * Kernels that behave exactly like `base` and record, for each attention call, the
 * softmax probabilities of every head. The decoder calls attention once per layer, in
 * layer order, so the call count modulo nLayers is the layer. Probabilities are
 * recomputed here in float64 from q and the key cache (the same scores the kernel uses).
 */
export function recordingAttention(base: Kernels, nLayers: number): { kernels: Kernels; maps: AttentionMaps } {
  const maps: AttentionMaps = Array.from({ length: nLayers }, () => []);
  let calls = 0;
  const kernels: Kernels = Object.create(base);
  kernels.attention = (out: Float32Array, q: Float32Array, keyCache: KvRows, valueCache: KvRows, pos: number, shape: AttentionShape) => {
    const layer = calls++ % nLayers;
    const heads = maps[layer];
    const keys = widenKv(keyCache, (pos + 1) * shape.kvDim);
    for (let h = 0; h < shape.nHeads; h++) {
      (heads[h] ??= []).push(attentionRow(q, keys, pos, h, shape));
    }
    base.attention(out, q, keyCache, valueCache, pos, shape);
  };
  return { kernels, maps };
}

/** softmax_t(q_h · k_{t,g} / sqrt(headSize)) for t ≤ pos, g the KV head of query head h. */
export function attentionRow(q: Float32Array, keyCache: Float32Array, pos: number, h: number, shape: AttentionShape): Float64Array {
  const { nHeads, nKvHeads, headSize, kvDim } = shape;
  const kvOff = Math.floor(h / (nHeads / nKvHeads)) * headSize;
  const scores = new Float64Array(pos + 1);
  let max = -Infinity;
  for (let t = 0; t <= pos; t++) {
    let dot = 0;
    for (let d = 0; d < headSize; d++) dot += q[h * headSize + d] * keyCache[t * kvDim + kvOff + d];
    scores[t] = dot / Math.sqrt(headSize);
    if (scores[t] > max) max = scores[t];
  }
  let sum = 0;
  for (let t = 0; t <= pos; t++) sum += scores[t] = Math.exp(scores[t] - max);
  for (let t = 0; t <= pos; t++) scores[t] /= sum;
  return scores;
}

/**
 * H2O's accumulated attention score of keys 0..keys−1 from queries from..T−1 (row i has
 * i + 1 entries): acc[j] = Σ_{i ≥ from} p_ij. With from = 0 and keys = T it is H2O's full
 * causal sum, where early keys win by being visible to more queries; with from ≥ keys − 1
 * every query counted sees every key counted, so no key is favoured by causality.
 */
export function accumulatedScores(rows: ArrayLike<number>[], from = 0, keys = rows.length): Float64Array {
  const acc = new Float64Array(keys);
  for (let i = from; i < rows.length; i++) {
    const row = rows[i];
    if (row.length !== i + 1) throw new Error(`accumulatedScores: row ${i} has ${row.length} entries, a causal row has ${i + 1}`);
    for (let j = 0; j < Math.min(keys, i + 1); j++) acc[j] += row[j];
  }
  return acc;
}

/** The causal-uniform control: p_ij = 1/(i + 1) for j ≤ i. */
export function causalUniformRows(T: number): Float64Array[] {
  return Array.from({ length: T }, (_, i) => new Float64Array(i + 1).fill(1 / (i + 1)));
}

/**
 * The shuffled control: each row's first min(keys, length) probabilities permuted among
 * themselves (Fisher–Yates); the rest of the row is left in place.
 */
export function shuffledRows(rows: ArrayLike<number>[], rng: Rng, keys = Infinity): Float64Array[] {
  return rows.map((row) => {
    const r = Float64Array.from(row);
    for (let i = Math.min(keys, r.length) - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = r[i];
      r[i] = r[j];
      r[j] = t;
    }
    return r;
  });
}

/** Share of the total score held by the top-k positions (the concentration measure; scores ≥ 0, ties to the lower position). */
export function topShare(scores: ArrayLike<number>, k: number): number {
  let total = 0;
  for (let i = 0; i < scores.length; i++) total += scores[i];
  let top = 0;
  for (const j of topKAbs(scores, k)) top += scores[j];
  return total > 0 ? top / total : 0;
}
