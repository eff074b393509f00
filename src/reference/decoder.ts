// The decoder: one forward pass for one token at one position, top-down like
// llama2.c's run.c `forward`. The same decoder runs Dense, TT, Griffin and TDA —
// the FFN policy (src/reference/policies/) is the only thing that differs — and
// runs on any backend, because every heavy step goes through `kernels`.

import { referenceKernels } from './kernels.js';
import type { AttentionShape, Kernels } from '../core/kernels.js';
import { headSize, kvDim, type Model } from '../core/model.js';
import type { FfnPolicy } from './policies/types.js';

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

export class Decoder {
  readonly keyCache: Float32Array[];
  readonly valueCache: Float32Array[];
  private readonly shape: AttentionShape;
  // Activation buffers, named as in run.c.
  private readonly x: Float32Array; // residual stream
  private readonly xb: Float32Array; // normalised input of a block / attention output
  private readonly xb2: Float32Array; // output of a block before the residual add
  private readonly q: Float32Array;
  private readonly k: Float32Array;
  private readonly v: Float32Array;
  private readonly a: Float32Array; // FFN activations, one per neuron (Eq 17)
  readonly logits: Float32Array;

  constructor(readonly model: Model, readonly kernels: Kernels = referenceKernels) {
    const c = model.config;
    const kv = kvDim(c);
    this.keyCache = Array.from({ length: c.nLayers }, () => new Float32Array(c.seqLen * kv));
    this.valueCache = Array.from({ length: c.nLayers }, () => new Float32Array(c.seqLen * kv));
    this.shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headSize: headSize(c), kvDim: kv };
    this.x = new Float32Array(c.dim);
    this.xb = new Float32Array(c.dim);
    this.xb2 = new Float32Array(c.dim);
    this.q = new Float32Array(c.dim);
    this.k = new Float32Array(kv);
    this.v = new Float32Array(kv);
    this.a = new Float32Array(c.hiddenDim);
    this.logits = new Float32Array(c.vocabSize);
  }

  /** Logits for `token` at `pos` (the returned buffer is reused by the next call). */
  forward(token: number, pos: number, phase: Phase, policy: FfnPolicy, usage?: FfnUsage): Float32Array {
    const { model, kernels: K, x, xb, xb2, q, k, v } = this;
    const c = model.config;
    const w = model.weights;
    if (!(token >= 0 && token < c.vocabSize)) throw new RangeError(`token ${token} outside vocabulary 0..${c.vocabSize - 1}`);
    if (!(pos >= 0 && pos < c.seqLen)) throw new RangeError(`position ${pos} outside context 0..${c.seqLen - 1}`);
    const kv = this.shape.kvDim;
    x.set(w.tokenEmbedding.subarray(token * c.dim, (token + 1) * c.dim));

    for (let l = 0; l < c.nLayers; l++) {
      const layer = w.layers[l];
      // Attention block: x += Wo · attention(RoPE(Wq·xb), RoPE(Wk·xb), Wv·xb)
      K.rmsnorm(xb, x, layer.rmsAtt, c.normEps);
      K.matvec(q, layer.wq, xb, c.dim, c.dim);
      K.matvec(k, layer.wk, xb, kv, c.dim);
      K.matvec(v, layer.wv, xb, kv, c.dim);
      K.rope(q, pos, this.shape.headSize, c.ropeTheta);
      K.rope(k, pos, this.shape.headSize, c.ropeTheta);
      this.keyCache[l].set(k, pos * kv);
      this.valueCache[l].set(v, pos * kv);
      K.attention(xb, q, this.keyCache[l], this.valueCache[l], pos, this.shape);
      K.matvec(xb2, layer.wo, xb, c.dim, c.dim);
      for (let i = 0; i < c.dim; i++) x[i] += xb2[i];

      // FFN block: x += FFN(rmsnorm(x)), computed as the policy says.
      K.rmsnorm(xb, x, layer.rmsFfn, c.normEps);
      this.ffn(l, phase, policy, usage);
      for (let i = 0; i < c.dim; i++) x[i] += xb2[i];
    }

    K.rmsnorm(x, x, w.rmsFinal, c.normEps);
    K.matvec(this.logits, w.classifier, x, c.vocabSize, c.dim);
    if (usage && phase === 'generate') usage.tokens++;
    return this.logits;
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
