// The model as plain data: a configuration record and Float32Array weights.
//
// Layout choice (see ARCHITECTURE "Data layout that pays everywhere"): every FFN
// neuron i owns three contiguous rows of length `dim` — gate row i, up row i and
// down *column* i, stored as row i of the transposed down matrix (`downT`).
// An FFN restricted to a list of kept neurons then reads only kept rows, in every
// backend, and the bytes it touches are exactly the bytes the method claims to save.
//
// Weights are immutable once loaded: backends cache device copies and the policies
// cache per-neuron norms keyed by the weight arrays themselves.

/** The FFN activation families used by the six models of the TDA paper (Section 5.1). */
export type FfnKind =
  | 'swiglu' // LLaMA-2/3, Mistral:  a = silu(gate·x) ⊙ (up·x)
  | 'geglu' //  Gemma:               a = gelu_tanh(gate·x) ⊙ (up·x)
  | 'relu' //   OPT (non-gated):     a = relu(up·x + b_up)
  | 'gelu'; //  non-gated GELU:      a = gelu_tanh(up·x + b_up)

export const FFN_KINDS: readonly FfnKind[] = ['swiglu', 'geglu', 'relu', 'gelu'];

export function isGated(kind: FfnKind): boolean {
  return kind === 'swiglu' || kind === 'geglu';
}

export interface ModelConfig {
  dim: number; // residual stream width d
  hiddenDim: number; // FFN width d_ff (number of neurons)
  nLayers: number;
  nHeads: number;
  nKvHeads: number; // grouped-query attention: nHeads is a multiple of nKvHeads
  vocabSize: number;
  seqLen: number; // longest context the KV cache holds
  ffnKind: FfnKind;
  normEps: number; // RMSNorm epsilon (1e-5 in llama2.c)
  ropeTheta: number; // RoPE base (10000 in llama2.c)
}

export interface FfnWeights {
  /** hiddenDim × dim, row i = gate weights of neuron i; null for non-gated FFNs. */
  gate: Float32Array | null;
  /** hiddenDim × dim, row i = up (fc1) weights of neuron i. */
  up: Float32Array;
  /** hiddenDim × dim, row i = column i of W_down (the neuron's output direction). */
  downT: Float32Array;
  /** hiddenDim bias of the up projection (OPT); null for LLaMA-style models. */
  upBias: Float32Array | null;
  /** dim bias of the down projection (OPT); null for LLaMA-style models. */
  downBias: Float32Array | null;
}

export interface LayerWeights {
  rmsAtt: Float32Array; // dim
  wq: Float32Array; // dim × dim   (row-major: out × in)
  wk: Float32Array; // kvDim × dim
  wv: Float32Array; // kvDim × dim
  wo: Float32Array; // dim × dim
  rmsFfn: Float32Array; // dim
  ffn: FfnWeights;
}

export interface ModelWeights {
  tokenEmbedding: Float32Array; // vocabSize × dim
  layers: LayerWeights[];
  rmsFinal: Float32Array; // dim
  classifier: Float32Array; // vocabSize × dim (the embedding itself when shared)
}

export interface Model {
  config: ModelConfig;
  weights: ModelWeights;
  /** sha256 of the checkpoint bytes (or of the synthetic model's seed description). */
  fingerprint: string;
  /** Where the model came from, for reports. */
  source: string;
}

export function headSize(c: ModelConfig): number {
  return c.dim / c.nHeads;
}

export function kvDim(c: ModelConfig): number {
  return (c.dim * c.nKvHeads) / c.nHeads;
}
