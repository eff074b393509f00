// The decoder: one forward pass for one token at one position, top-down like
// llama2.c's run.c `forward`. The same decoder runs Dense, TT, Griffin and TDA —
// the FFN policy (src/reference/policies/) is the only thing that differs — and
// runs on any backend, because every heavy step goes through `kernels`.
//
// Beyond llama2.c's LLaMA (the default of every optional field of ModelConfig), the
// record describes the paper's other families (TDA paper, Section 5.1):
//   Qwen2      q/k/v biases, rotate-half RoPE;
//   Gemma      embedding × √dim, headDim ≠ dim/nHeads, GeGLU (the FFN kind);
//   OPT        LayerNorm with bias, learned positions at pos + 2, biases everywhere,
//              pre-LN (OPT-2.7B) or post-LN with project_in/out (OPT-350M).
// The FFN block is Eq 17–19 in every case (src/reference/ffn.ts): only its input
// (normed or not) and the policy's plan decide what it computes.

import { type AttentionBlock, fusedAttentionFor } from './attention-block.js';
import { referenceKernels } from './kernels.js';
import type { AttentionShape, Kernels, LayerShape } from '../core/kernels.js';
import { allocKv, type KvRows, type KvType, kvTypeFor, writeKvRow } from '../core/kv-cache.js';
import { embedDim, fillPendingWeights, headSize, kvDim, type Model, qDim } from '../core/model.js';
import { layernorm } from './math.js';
import type { FfnPolicy } from './policies/types.js';
import { type RopeAt, ropeFor } from './rope.js';

/** Prompt tokens run the dense FFN and are shown to the policy; generated tokens follow its plan. */
export type Phase = 'prefill' | 'generate';

/** Neurons touched per layer, summed over generated tokens (for op and byte counts). */
export class FfnUsage {
  tokens = 0;
  /** Σ over tokens of neurons whose gate/up rows were computed. */
  readonly computed: Float64Array;
  /** Σ over tokens of neurons whose down column was used. */
  readonly kept: Float64Array;
  constructor(nLayers: number) {
    this.computed = new Float64Array(nLayers);
    this.kept = new Float64Array(nLayers);
  }
}

function addInPlace(x: Float32Array, b: Float32Array | null | undefined): void {
  if (b) for (let i = 0; i < x.length; i++) x[i] += b[i];
}

export interface DecoderOptions {
  /**
   * The KV cache's element type (src/core/kv-cache.ts); default: the kernels' first
   * kvCacheTypes entry ('f32' unless the backend keeps F16). One the kernels do not
   * accept is an error.
   */
  kvCache?: KvType;
}

export class Decoder {
  readonly keyCache: KvRows[];
  readonly valueCache: KvRows[];
  /** The element type of keyCache / valueCache. */
  readonly kvCache: KvType;
  private readonly shape: AttentionShape;
  // Activation buffers, named as in run.c.
  private readonly x: Float32Array; // residual stream
  private readonly xb: Float32Array; // normalised input of a block
  private readonly xb2: Float32Array; // output of a block before the residual add
  private readonly q: Float32Array;
  private readonly k: Float32Array;
  private readonly v: Float32Array;
  private readonly att: Float32Array; // attention output, all heads (qDim)
  private readonly e: Float32Array | null; // embedDim-wide buffer (project_in / project_out)
  private readonly a: Float32Array; // FFN activations, one per neuron (Eq 17)
  readonly logits: Float32Array;
  private readonly ropeAt: RopeAt | null;
  /** The backend's one-call attention block, where it has one and the model fits it. */
  private readonly fusedAttention: { block: AttentionBlock; shape: LayerShape } | null;

  constructor(readonly model: Model, readonly kernels: Kernels = referenceKernels, options: DecoderOptions = {}) {
    // A model loaded `wordsOnly` holds some matrices as their file's words, with float32
    // arrays of zeros: every path that computes with the model (generate, prefill,
    // calibration, the benches) builds a Decoder, so this one call makes sure that no
    // kernels see those zeros, except kernels that declare they read the words instead
    // (native-cpu-f16 / -bf16). What the decoder reads itself (embeddings, norm gains,
    // biases) is never held as words only.
    fillPendingWeights(model, kernels);
    const c = model.config;
    const kv = kvDim(c);
    this.kvCache = kvTypeFor(kernels, options.kvCache);
    this.keyCache = Array.from({ length: c.nLayers }, () => allocKv(this.kvCache, c.seqLen * kv));
    this.valueCache = Array.from({ length: c.nLayers }, () => allocKv(this.kvCache, c.seqLen * kv));
    this.shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headSize: headSize(c), kvDim: kv };
    this.x = new Float32Array(c.dim);
    this.xb = new Float32Array(c.dim);
    this.xb2 = new Float32Array(c.dim);
    this.q = new Float32Array(qDim(c));
    this.k = new Float32Array(kv);
    this.v = new Float32Array(kv);
    this.att = new Float32Array(qDim(c));
    this.e = embedDim(c) !== c.dim ? new Float32Array(embedDim(c)) : null;
    this.a = new Float32Array(c.hiddenDim);
    this.logits = new Float32Array(c.vocabSize);
    this.ropeAt = ropeFor(c, kernels);
    this.fusedAttention = fusedAttentionFor(model, kernels);
  }

  /** out = norm(x) with the model's norm kind (RMSNorm, or LayerNorm with its bias). */
  private norm(out: Float32Array, x: Float32Array, weight: Float32Array, bias: Float32Array | null | undefined): void {
    const c = this.model.config;
    if (c.normKind === 'layernorm') {
      const zero = bias ?? new Float32Array(weight.length);
      (this.kernels.layernorm ?? layernorm)(out, x, weight, zero, c.normEps);
    } else {
      this.kernels.rmsnorm(out, x, weight, c.normEps);
    }
  }

  /** The model's RoPE (layout, frequency table) on this decoder's kernels: src/reference/rope.ts. */
  private rope(vec: Float32Array, pos: number): void {
    this.ropeAt?.(vec, pos);
  }

  /** x = the input of layer 0: scaled token embedding (lifted by project_in) plus learned position. */
  private embed(token: number, pos: number): void {
    const { x, e } = this;
    const c = this.model.config;
    const w = this.model.weights;
    const width = embedDim(c);
    const row = w.tokenEmbedding.subarray(token * width, (token + 1) * width);
    if (w.projectIn && e) this.kernels.matvec(x, w.projectIn, row, c.dim, width);
    else x.set(row);
    const scale = c.embeddingScale ?? 1;
    if (scale !== 1) for (let i = 0; i < c.dim; i++) x[i] *= scale;
    if (w.positionEmbedding) {
      const p = pos + (c.positionOffset ?? 0);
      addInPlace(x, w.positionEmbedding.subarray(p * c.dim, (p + 1) * c.dim));
    }
  }

  /** Logits for `token` at `pos` (the returned buffer is reused by the next call). */
  forward(token: number, pos: number, phase: Phase, policy: FfnPolicy, usage?: FfnUsage): Float32Array {
    const { model, kernels: K, x, xb, xb2 } = this;
    const c = model.config;
    const w = model.weights;
    if (!(token >= 0 && token < c.vocabSize)) throw new RangeError(`token ${token} outside vocabulary 0..${c.vocabSize - 1}`);
    if (!(pos >= 0 && pos < c.seqLen)) throw new RangeError(`position ${pos} outside context 0..${c.seqLen - 1}`);
    const postNorm = c.normPlacement === 'post';
    this.embed(token, pos);

    for (let l = 0; l < c.nLayers; l++) {
      const layer = w.layers[l];
      // The backend's one-call attention block computes the same floats (src/reference/attention-block.ts).
      if (this.fusedAttention) this.fusedAttention.block(x, layer, this.keyCache[l], this.valueCache[l], pos, this.fusedAttention.shape);
      else this.attentionBlock(l, pos);

      // FFN block: x += FFN(norm(x)) (pre-LN) or x = norm(x + FFN(x)) (post-LN), computed as the policy says.
      if (postNorm) xb.set(x);
      else this.norm(xb, x, layer.rmsFfn, layer.ffnNormBias);
      this.ffn(l, phase, policy, usage);
      for (let i = 0; i < c.dim; i++) x[i] += xb2[i];
      if (postNorm) this.norm(x, x, layer.rmsFfn, layer.ffnNormBias);
    }

    if (w.hasFinalNorm !== false) this.norm(x, x, w.rmsFinal, w.finalNormBias);
    if (w.projectOut && this.e) {
      K.matvec(this.e, w.projectOut, x, this.e.length, c.dim);
      K.matvec(this.logits, w.classifier, this.e, c.vocabSize, this.e.length);
    } else {
      K.matvec(this.logits, w.classifier, x, c.vocabSize, c.dim);
    }
    if (usage && phase === 'generate') usage.tokens++;
    return this.logits;
  }

  /** x += the attention block of layer l for the token at pos (its K/V rows written to the caches). */
  private attentionBlock(l: number, pos: number): void {
    const { model, kernels: K, x, xb, xb2, q, k, v, att } = this;
    const c = model.config;
    const layer = model.weights.layers[l];
    const kv = this.shape.kvDim;
    const qd = q.length;
    const postNorm = c.normPlacement === 'post';
    // Attention block: x += Wo · attention(RoPE(Wq·xb + bq), RoPE(Wk·xb + bk), Wv·xb + bv) + bo,
    // xb = norm(x) before the block (pre-LN), or x itself with the norm after the add (post-LN).
    if (postNorm) xb.set(x);
    else this.norm(xb, x, layer.rmsAtt, layer.attNormBias);
    K.matvec(q, layer.wq, xb, qd, c.dim);
    K.matvec(k, layer.wk, xb, kv, c.dim);
    K.matvec(v, layer.wv, xb, kv, c.dim);
    addInPlace(q, layer.bq);
    addInPlace(k, layer.bk);
    addInPlace(v, layer.bv);
    this.rope(q, pos);
    this.rope(k, pos);
    writeKvRow(this.keyCache[l], pos * kv, k);
    writeKvRow(this.valueCache[l], pos * kv, v);
    K.attention(att, q, this.keyCache[l], this.valueCache[l], pos, this.shape);
    K.matvec(xb2, layer.wo, att, c.dim, qd);
    addInPlace(xb2, layer.bo);
    for (let i = 0; i < c.dim; i++) x[i] += xb2[i];
    if (postNorm) this.norm(x, x, layer.rmsAtt, layer.attNormBias);
  }

  /** xb2 = FFN(xb) for layer l: dense in prefill, the policy's plan in generation. */
  private ffn(l: number, phase: Phase, policy: FfnPolicy, usage?: FfnUsage): void {
    const { kernels: K, xb, xb2, a } = this;
    const ffn = this.model.weights.layers[l].ffn;
    const { ffnKind, hiddenDim } = this.model.config;
    if (phase === 'prefill') {
      K.ffnActivations(a, xb, ffn, ffnKind);
      policy.observePrompt(l, a, xb);
      K.ffnDown(xb2, a, ffn, null);
      return;
    }
    const plan = policy.plan(l);
    let computed = hiddenDim;
    let kept = hiddenDim;
    if (plan.kind === 'dense') {
      K.ffnActivations(a, xb, ffn, ffnKind);
      K.ffnDown(xb2, a, ffn, null);
    } else if (plan.kind === 'sliced') {
      K.ffnSliced(xb2, xb, ffn, ffnKind, plan.kept);
      computed = kept = plan.kept.length;
    } else {
      K.ffnActivations(a, xb, ffn, ffnKind);
      const ids = policy.selectForToken(l, a);
      K.ffnDown(xb2, a, ffn, ids);
      kept = ids ? ids.length : hiddenDim;
    }
    if (usage) {
      usage.computed[l] += computed;
      usage.kept[l] += kept;
    }
  }
}
