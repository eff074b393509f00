// The backend interface: the few kernels the decoder needs, nothing more.
//
// A backend only *computes*. It never decides which neurons to keep — that is the
// job of an FFN policy (src/reference/policies/). A kept-neuron list is an
// Int32Array of neuron ids in ascending order; `null` means "all neurons".
//
// All arrays are Float32Array in the layouts documented in src/core/model.ts.
// A backend that keeps device copies of weights (GPU, WASM heap) may cache them
// keyed by the identity of the Float32Array it is given (a WeakMap): the decoder
// passes the same weight arrays on every call, and the same kept-list object for
// every generated token of one prompt, so slicing can happen once per prompt.

import type { KvRows, KvType } from './kv-cache.js';
import type { FfnKind, FfnWeights, LayerWeights } from './model.js';

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headSize: number;
  /** Row length of the KV cache: nKvHeads · headSize. */
  kvDim: number;
}

/** What a whole-layer kernel needs beside the weights (from the model's config). */
export interface LayerShape extends AttentionShape {
  dim: number;
  hiddenDim: number;
  ffnKind: FfnKind;
  normEps: number;
  ropeTheta: number;
}

export interface Kernels {
  /**
   * Optional, a declaration rather than a kernel: these kernels read an F16 (BF16) weight
   * matrix's stored words (storedHalf, src/core/model.ts) instead of its float32 values
   * whenever it has words of this type, and never read its float32 values then. Only for
   * such kernels does the decoder leave a `wordsOnly` load's matrices unfilled (their
   * float32 arrays are zeros until filled: fillPendingWeights); every other kernels object,
   * a wrapper that spreads this one included unless it only forwards, must leave it unset.
   */
  readonly readsStoredHalf?: 'f16' | 'bf16';

  /**
   * Optional, a declaration: the KV cache element types (src/core/kv-cache.ts) that
   * attention, attentionBlock and prefillLayer accept, the first being the one a decoder
   * on these kernels keeps by default. Absent: ['f32'] (Float32Array caches only). A
   * kernels object that lists 'f16' reads Uint16Array caches of F16 words, widened
   * exactly, and its attentionBlock / prefillLayer write rows rounded to nearest even
   * (writeKvRow); a wrapper that spreads this one keeps the list only if it forwards
   * those three kernels.
   */
  readonly kvCacheTypes?: readonly KvType[];

  /** out[r] = Σ_c w[r·cols + c] · x[c], for r < rows. */
  matvec(out: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number): void;

  /** out = x / sqrt(mean(x²) + eps) ⊙ weight. */
  rmsnorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number): void;

  /**
   * Rotary position embedding in place, llama2.c convention: within each head of
   * size `headSize`, consecutive pairs (2j, 2j+1) are rotated by pos·theta^(-2j/headSize).
   */
  rope(vec: Float32Array, pos: number, headSize: number, theta: number): void;

  /**
   * Optional. RoPE in rotate-half (NeoX) order: lane j pairs with lane j + headSize/2,
   * angle pos·theta^(-2j/headSize) (Hugging Face layouts, GGUF qwen2/gemma). A backend
   * without it gets the reference loop from the decoder (O(dim) per token, on the host).
   */
  ropeHalves?(vec: Float32Array, pos: number, headSize: number, theta: number): void;

  /**
   * Optional. RoPE with a per-lane frequency table (LLaMA-3.1 scaling, ModelConfig.ropeFreqFactors):
   * lane pair j turns by pos·theta^(-2j/headSize) / factors[j], the pair being (2j, 2j+1) for
   * `pairs` and (j, j + headSize/2) for `halves`. With every factor 1 it must equal rope /
   * ropeHalves. A backend without it gets the reference loop from the decoder (on the host),
   * and its batched prefillLayer, which knows no table, is not used for such a model.
   */
  ropeWithFreqs?(vec: Float32Array, pos: number, headSize: number, theta: number, factors: Float32Array, style: 'pairs' | 'halves'): void;

  /**
   * Optional. LayerNorm with bias (OPT): out = weight ⊙ (x − mean)/sqrt(var + eps) + bias.
   * A backend without it gets the reference loop from the decoder (O(dim), on the host).
   */
  layernorm?(out: Float32Array, x: Float32Array, weight: Float32Array, bias: Float32Array, eps: number): void;

  /**
   * One causal attention step for the token at `pos`: for each query head h, attend
   * over cache rows 0..pos of KV head floor(h / (nHeads/nKvHeads)).
   * keyCache/valueCache: [seqLen][kvDim] for this layer, rows 0..pos already written,
   * of one of the types in kvCacheTypes (an F16 cache means its words' float32 values).
   * Scores are scaled by 1/sqrt(headSize) and softmaxed in float.
   */
  attention(
    out: Float32Array,
    q: Float32Array,
    keyCache: KvRows,
    valueCache: KvRows,
    pos: number,
    shape: AttentionShape,
  ): void;

  /**
   * FFN intermediate activations of all neurons (Eq 17, the inner part):
   * a_i = act(gate_i·x) · (up_i·x) for gated kinds, act(up_i·x + b_i) otherwise.
   */
  ffnActivations(a: Float32Array, x: Float32Array, ffn: FfnWeights, kind: FfnKind): void;

  /**
   * Down projection over kept neurons (Eq 19 restricted to a set):
   * out = Σ_{i ∈ kept} a_i · downT[i] (+ downBias).  kept = null: all neurons.
   */
  ffnDown(out: Float32Array, a: Float32Array, ffn: FfnWeights, kept: Int32Array | null): void;

  /**
   * The sliced FFN used by TDA / Griffin generation: gate, up and down rows of the
   * kept neurons only. Must equal ffnActivations + ffnDown over the same kept list.
   */
  ffnSliced(out: Float32Array, x: Float32Array, ffn: FfnWeights, kind: FfnKind, kept: Int32Array | null): void;

  /**
   * Optional. One token's whole attention block of one layer at `pos`, as Decoder.forward
   * composes it from the kernels above (src/reference/attention-block.ts gives the
   * semantics): xb = rmsnorm(x, rmsAtt); q = Wq·xb, k = Wk·xb, v = Wv·xb; `rope` on q and
   * k at pos; k and v written to cache row pos; x += Wo · attention(q, rows 0..pos).
   * It must equal those per-token kernels bit for bit (conformance row `kernel
   * attentionBlock`, exact). Why it exists: a backend whose every call is a round trip
   * (a GPU behind a queue and a readback) pays one instead of eight per layer and token.
   * The decoder uses it only where prefillLayer's layer description fits the model
   * (the same RMSNorm, pre-LN, pairs RoPE, no biases: batchedLayerMisfit).
   */
  attentionBlock?(
    x: Float32Array,
    layer: LayerWeights,
    keyCache: KvRows,
    valueCache: KvRows,
    pos: number,
    shape: LayerShape,
  ): void;

  /**
   * Optional batched prefill of one decoder layer for `count` consecutive prompt tokens
   * at positions pos0 … pos0+count−1 (src/reference/prefill.ts gives the semantics):
   * x is [count][dim], the residual stream, updated in place through the attention block
   * (causal: token t attends over cache rows 0..pos0+t) and the dense FFN block;
   * a is [count][hiddenDim] and receives each token's dense FFN activations (Eq 17),
   * which the decoder then shows to the policy; K/V rows pos0 … of the layer's caches
   * are written. It must equal running the per-token kernels above token by token,
   * within each kernel's tolerance; a backend without it prefills token by token.
   * RoPE here is `rope` (llama2.c pairs, base theta): the decoder never calls it for a
   * model with rotate-half RoPE, a frequency table, biases or another norm
   * (src/reference/prefill.ts, batchedLayerMisfit), and composes the per-token kernels then.
   */
  prefillLayer?(
    x: Float32Array,
    a: Float32Array,
    layer: LayerWeights,
    keyCache: KvRows,
    valueCache: KvRows,
    pos0: number,
    count: number,
    shape: LayerShape,
  ): void;
}

/** What a backend really ran on — reported by every run, never guessed. */
export interface BackendInfo {
  engine: string; // e.g. "typescript", "tfjs-wasm", "gpu.js", "n-api c++", "cuda"
  mode: string; // e.g. "float64-accumulate", "wasm-simd", "webgl", "cpu", "sm_90"
  device: string; // CPU model or GPU name
  threads: number;
  simd: boolean;
  precision: 'fp32' | 'fp16' | 'bf16';
  notes?: string;
}

export interface Backend {
  readonly name: string;
  info(): BackendInfo;
  readonly kernels: Kernels;
  /** Releases device memory or worker threads, if any. */
  dispose?(): void;
}
