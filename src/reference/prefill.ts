// Batched prefill: the prompt goes through the decoder in blocks of tokens, one layer
// at a time, instead of one token at a time through every layer.
//
// Why: token by token, every weight byte is read once per prompt token (a matvec per
// token, memory-bound). In a block of B tokens each weight row is read once and used
// B times (a GEMM), which is what makes prefill compute-bound in llama.cpp and here.
//
// Semantics (what every backend's Kernels.prefillLayer must equal): for one layer and
// a block of tokens at positions pos0 … pos0+B−1,
//   1. each token's attention block, exactly as in Decoder.forward: its Q, K, V
//      projections, RoPE at its own position, its K/V rows written to the cache, causal
//      attention over cache rows 0 … its own position (rows of later tokens of the
//      block are in the cache already but never read by earlier ones), Wo, residual;
//   2. each token's dense FFN block (prefill runs the dense FFN: the methods differ in
//      generation only, TDA paper Algorithm 1), its activations a_t (Eq 17) kept.
// The activations of a layer are shown to the policy token by token, in prompt order,
// after the layer's block ran: every statistic of the kit (TDA's s_i, Griffin's score)
// is per layer and sums over tokens in order, so it sees exactly the sequence it sees
// in token-by-token prefill, and the masks are the same (the same tie rules apply to
// the same values). Only calls for *different* layers interleave differently.
//
// The reference form below runs the per-token kernels of any backend in that block
// order; native-cpu implements the same arithmetic as GEMMs (native/README.md).
//
// What a batched layer describes: LayerShape carries one RoPE base and nothing else of
// the architecture, so a backend's own prefillLayer rotates llama2.c pairs with plain
// frequencies, and both forms know RMSNorm, pre-LN, no biases and qDim = dim only. A
// model outside that never reaches a backend's prefillLayer (prefillPrompt below): a
// rotate-half or frequency-table RoPE (LLaMA-3.1) runs the per-token form with the
// decoder's own rope (src/reference/rope.ts), anything else prefills token by token
// through Decoder.forward. So no model silently gets a rope or a layer it does not have.

import type { Kernels, LayerShape } from '../core/kernels.js';
import { firstNonFiniteKv, type KvRows, kvOverflow, writeKvRow } from '../core/kv-cache.js';
import { UserError } from '../errors.js';
import { embedDim, headSize, kvDim, type Model, type ModelConfig, qDim } from '../core/model.js';
import type { Decoder } from './decoder.js';
import { referenceKernels } from './kernels.js';
import type { FfnPolicy } from './policies/types.js';
import { type RopeAt, ropeFor } from './rope.js';

/** Prompt tokens per block: 64 rows of activations keep a block's working set in L2. */
export const DEFAULT_PREFILL_BLOCK = 64;

export type PrefillLayer = NonNullable<Kernels['prefillLayer']>;

export function layerShape(c: ModelConfig): LayerShape {
  return {
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    headSize: headSize(c),
    kvDim: kvDim(c),
    dim: c.dim,
    hiddenDim: c.hiddenDim,
    ffnKind: c.ffnKind,
    normEps: c.normEps,
    ropeTheta: c.ropeTheta,
  };
}

/**
 * Kernels.prefillLayer as the composition of a backend's own per-token kernels; `rope`
 * (the decoder's, from ropeFor) replaces K.rope when the model rotates otherwise.
 */
export function prefillLayerWith(K: Kernels, rope?: RopeAt): PrefillLayer {
  return (x, a, layer, keyCache, valueCache, pos0, count, s) => {
    const rot = rope ?? ((v: Float32Array, pos: number) => K.rope(v, pos, s.headSize, s.ropeTheta));
    const { dim, hiddenDim, kvDim: kv } = s;
    const xb = new Float32Array(dim);
    const q = new Float32Array(count * dim);
    const out = new Float32Array(dim);
    const kt = new Float32Array(kv);
    const vt = new Float32Array(kv);
    // Q, K, V of every token of the block, K and V into their cache rows (writeKvRow:
    // rounded there for an F16 cache, as Decoder.forward stores them).
    for (let t = 0; t < count; t++) {
      const xt = x.subarray(t * dim, (t + 1) * dim);
      const qt = q.subarray(t * dim, (t + 1) * dim);
      K.rmsnorm(xb, xt, layer.rmsAtt, s.normEps);
      K.matvec(qt, layer.wq, xb, dim, dim);
      K.matvec(kt, layer.wk, xb, kv, dim);
      K.matvec(vt, layer.wv, xb, kv, dim);
      rot(qt, pos0 + t);
      rot(kt, pos0 + t);
      writeKvRow(keyCache, (pos0 + t) * kv, kt);
      writeKvRow(valueCache, (pos0 + t) * kv, vt);
    }
    for (let t = 0; t < count; t++) {
      const xt = x.subarray(t * dim, (t + 1) * dim);
      K.attention(xb, q.subarray(t * dim, (t + 1) * dim), keyCache, valueCache, pos0 + t, s);
      K.matvec(out, layer.wo, xb, dim, dim);
      for (let i = 0; i < dim; i++) xt[i] += out[i];
      const at = a.subarray(t * hiddenDim, (t + 1) * hiddenDim);
      K.rmsnorm(xb, xt, layer.rmsFfn, s.normEps);
      K.ffnActivations(at, xb, layer.ffn, s.ffnKind);
      K.ffnDown(out, at, layer.ffn, null);
      for (let i = 0; i < dim; i++) xt[i] += out[i];
    }
  };
}

/** The reference semantics of Kernels.prefillLayer. */
export const referencePrefillLayer: PrefillLayer = prefillLayerWith(referenceKernels);

/**
 * Why the batched layer does not describe `model` (see the top of this file), or null
 * when it does. Such a model is prefilled token by token.
 */
export function batchedLayerMisfit(model: Model): string | null {
  const c = model.config;
  const w = model.weights;
  if ((c.ropeStyle ?? 'pairs') === 'none') return 'learned positions';
  if ((c.normKind ?? 'rmsnorm') !== 'rmsnorm' || (c.normPlacement ?? 'pre') !== 'pre') return 'LayerNorm or post-LN';
  if ((c.embeddingScale ?? 1) !== 1) return 'embedding scale';
  if (qDim(c) !== c.dim || embedDim(c) !== c.dim) return 'head width or embedding width ≠ dim';
  if (w.positionEmbedding || w.projectIn || w.projectOut || w.hasFinalNorm === false || w.finalNormBias) return 'positions, projections or final norm';
  const biased = (l: Model['weights']['layers'][number]) => l.bq || l.bk || l.bv || l.bo || l.attNormBias || l.ffnNormBias || l.ffn.upBias || l.ffn.downBias;
  if (w.layers.some(biased)) return 'biases';
  return null;
}

/** Whether a backend's own prefillLayer (pairs RoPE, one base frequency) rotates as this model does. */
export function plainRope(c: ModelConfig): boolean {
  return (c.ropeStyle ?? 'pairs') === 'pairs' && !c.ropeFreqFactors;
}

/**
 * Prefills `tokens` (positions 0 … n−1) into the decoder's KV cache in blocks of
 * `blockSize`, showing every layer's activations to the policy; returns the logits of
 * the last prompt token in decoder.logits. Uses the decoder's kernels' prefillLayer,
 * or the reference form on its per-token kernels when the backend has none.
 */
export function prefillPrompt(decoder: Decoder, tokens: number[], policy: FfnPolicy, blockSize = DEFAULT_PREFILL_BLOCK): Float32Array {
  const { model, kernels: K } = decoder;
  const c = model.config;
  const w = model.weights;
  const n = tokens.length;
  if (!(Number.isInteger(blockSize) && blockSize >= 1)) throw new UserError(`the prefill block size must be a positive integer, got ${blockSize}`);
  if (n < 1) throw new UserError('the prompt must hold at least one token (BOS)');
  if (n > c.seqLen) throw new UserError(`the prompt has ${n} tokens but the model's context (seq_len) is ${c.seqLen}`);
  if (batchedLayerMisfit(model)) {
    for (let pos = 0; pos < n; pos++) decoder.forward(tokens[pos], pos, 'prefill', policy);
    return decoder.logits;
  }
  const layerFn = K.prefillLayer && plainRope(c) ? K.prefillLayer.bind(K) : prefillLayerWith(K, plainRope(c) ? undefined : ropeFor(c, K)!);
  const shape = layerShape(c);
  const B = Math.min(blockSize, n);
  const x = new Float32Array(B * c.dim);
  const a = new Float32Array(B * c.hiddenDim);
  for (let pos0 = 0; pos0 < n; pos0 += B) {
    const count = Math.min(B, n - pos0);
    const xs = x.subarray(0, count * c.dim);
    for (let t = 0; t < count; t++) {
      const token = tokens[pos0 + t];
      if (!(Number.isInteger(token) && token >= 0 && token < c.vocabSize)) throw new RangeError(`token ${token} outside vocabulary 0..${c.vocabSize - 1}`);
      xs.set(w.tokenEmbedding.subarray(token * c.dim, (token + 1) * c.dim), t * c.dim);
    }
    for (let l = 0; l < c.nLayers; l++) {
      layerFn(xs, a.subarray(0, count * c.hiddenDim), w.layers[l], decoder.keyCache[l], decoder.valueCache[l], pos0, count, shape);
      if (decoder.kvCache === 'f16') assertKvFits(decoder.keyCache[l], decoder.valueCache[l], pos0, count, shape.kvDim, l);
      for (let t = 0; t < count; t++) policy.observePrompt(l, a.subarray(t * c.hiddenDim, (t + 1) * c.hiddenDim));
    }
    assertFiniteBlock(xs, c.dim, pos0);
    if (pos0 + count === n) {
      // Only the last prompt token's logits are needed (they pick the first new token).
      const last = xs.subarray((count - 1) * c.dim, count * c.dim);
      const xf = new Float32Array(c.dim);
      K.rmsnorm(xf, last, w.rmsFinal, c.normEps);
      K.matvec(decoder.logits, w.classifier, xf, c.vocabSize, c.dim);
    }
  }
  return decoder.logits;
}

/**
 * A backend's own prefillLayer rounds K/V rows to F16 itself: a value beyond F16's range
 * became an infinity there, which ends here in the error writeKvRow gives.
 */
function assertKvFits(keys: KvRows, values: KvRows, pos0: number, count: number, kvDim: number, layer: number): void {
  for (const cache of [keys, values]) {
    if (!(cache instanceof Uint16Array)) continue; // a float32 cache holds what assertFiniteBlock checks
    const i = firstNonFiniteKv(cache, pos0 * kvDim, (pos0 + count) * kvDim);
    if (i >= 0) throw kvOverflow(`layer ${layer}, position ${Math.floor(i / kvDim)}`);
  }
}

/** Overflowing weights end in a clear error, never in silent NaN/Inf (as generate checks logits). */
function assertFiniteBlock(x: Float32Array, dim: number, pos0: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new UserError(`numerical overflow: hidden state ${i % dim} at position ${pos0 + Math.floor(i / dim)} is ${x[i]} (weights out of float32 range?)`);
    }
  }
}
