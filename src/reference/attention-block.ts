// Kernels.attentionBlock: one token's attention block of one layer in a single call.
//
// Semantics (what every backend's attentionBlock must equal, bit for bit): the first
// half of a layer in Decoder.forward, for a model that prefillLayer's layer description
// fits (src/reference/prefill.ts: RMSNorm, pre-LN, llama2.c pairs RoPE with one base,
// no biases, qDim = dim):
//   xb = rmsnorm(x, rmsAtt);  q = Wq·xb;  k = Wk·xb;  v = Wv·xb;
//   rope(q, pos);  rope(k, pos);  keyCache[pos] = k;  valueCache[pos] = v;
//   (rounded to nearest-even F16 for an F16 cache: writeKvRow, src/core/kv-cache.ts);
//   x += Wo · attention(q, keyCache, valueCache, rows 0..pos).
// It computes nothing the per-token kernels do not; it only lets a backend whose every
// call is a round trip (the webgpu backend: a queue submission and a readback) do the
// eight calls in one. The decoder asks for it through fusedAttentionFor, which refuses
// every model the description does not fit, so no model gets a block it does not have.

import type { Kernels, LayerShape } from '../core/kernels.js';
import { writeKvRow } from '../core/kv-cache.js';
import type { LayerWeights, Model } from '../core/model.js';
import { batchedLayerMisfit, layerShape, plainRope } from './prefill.js';

export type AttentionBlock = NonNullable<Kernels['attentionBlock']>;

/** Kernels.attentionBlock as the composition of a backend's own per-token kernels. */
export function attentionBlockWith(K: Kernels): AttentionBlock {
  return (x, layer: LayerWeights, keyCache, valueCache, pos, s: LayerShape) => {
    const { dim, kvDim: kv } = s;
    const xb = new Float32Array(dim);
    const q = new Float32Array(dim);
    const k = new Float32Array(kv);
    const v = new Float32Array(kv);
    const att = new Float32Array(dim);
    const out = new Float32Array(dim);
    K.rmsnorm(xb, x, layer.rmsAtt, s.normEps);
    K.matvec(q, layer.wq, xb, dim, dim);
    K.matvec(k, layer.wk, xb, kv, dim);
    K.matvec(v, layer.wv, xb, kv, dim);
    K.rope(q, pos, s.headSize, s.ropeTheta);
    K.rope(k, pos, s.headSize, s.ropeTheta);
    writeKvRow(keyCache, pos * kv, k);
    writeKvRow(valueCache, pos * kv, v);
    K.attention(att, q, keyCache, valueCache, pos, s);
    K.matvec(out, layer.wo, att, dim, dim);
    for (let i = 0; i < dim; i++) x[i] += out[i];
  };
}

/**
 * The backend's attentionBlock bound to its kernels, with the model's layer shape, when
 * the backend has one and the model fits the batched layer description; null otherwise
 * (the decoder then composes the per-token kernels itself).
 */
export function fusedAttentionFor(model: Model, K: Kernels): { block: AttentionBlock; shape: LayerShape } | null {
  if (!K.attentionBlock || batchedLayerMisfit(model) || !plainRope(model.config)) return null;
  return { block: K.attentionBlock.bind(K), shape: layerShape(model.config) };
}
