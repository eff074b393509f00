// Causal multi-head attention with grouped KV heads over a KV cache — one step,
// for the token at position `pos` (llama2.c run.c, "multihead attention").

import type { AttentionShape } from '../core/kernels.js';
import { type KvRows, widenKv } from '../core/kv-cache.js';
import { softmax } from './math.js';

/**
 * out[h·headSize + d] = Σ_{t ≤ pos} softmax_t(q_h · k_{t,g} / sqrt(headSize)) · v_{t,g}[d]
 * where g = floor(h / (nHeads / nKvHeads)) is the KV head shared by query head h.
 * An F16 cache (Uint16Array) is read through its words' exact float32 values.
 */
export function attentionStep(
  out: Float32Array,
  q: Float32Array,
  keyCache: KvRows,
  valueCache: KvRows,
  pos: number,
  shape: AttentionShape,
): void {
  if (keyCache instanceof Uint16Array || valueCache instanceof Uint16Array) {
    // Rows 0..pos only: the rest of the cache is not read.
    const n = (pos + 1) * shape.kvDim;
    attentionStep(out, q, widenKv(keyCache, n), widenKv(valueCache, n), pos, shape);
    return;
  }
  const { nHeads, nKvHeads, headSize, kvDim } = shape;
  const groupSize = nHeads / nKvHeads; // query heads per KV head
  const scale = 1 / Math.sqrt(headSize);
  const scores = new Float32Array(pos + 1);
  const acc = new Float64Array(headSize);
  for (let h = 0; h < nHeads; h++) {
    const qOff = h * headSize;
    const kvOff = Math.floor(h / groupSize) * headSize;
    for (let t = 0; t <= pos; t++) {
      const kOff = t * kvDim + kvOff;
      let dot = 0;
      for (let d = 0; d < headSize; d++) dot += q[qOff + d] * keyCache[kOff + d];
      scores[t] = dot * scale;
    }
    softmax(scores, pos + 1);
    acc.fill(0);
    for (let t = 0; t <= pos; t++) {
      const vOff = t * kvDim + kvOff;
      const p = scores[t];
      for (let d = 0; d < headSize; d++) acc[d] += p * valueCache[vOff + d];
    }
    for (let d = 0; d < headSize; d++) out[qOff + d] = acc[d];
  }
}

