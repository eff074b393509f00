// The model as plain data: a configuration record and Float32Array weights.
//
// Layout choice (see ARCHITECTURE "Data layout that pays everywhere"): every FFN
// neuron i owns three contiguous rows of length `dim` — gate row i, up row i and
// down *column* i, stored as row i of the transposed down matrix (`downT`).
// An FFN restricted to a list of kept neurons then reads only kept rows, in every
// backend, and the bytes it touches are exactly the bytes the method claims to save.
//
// Weights are immutable once loaded: backends cache device copies and the policies
// cache per-neuron norms keyed by the weight arrays themselves. (The one exception is
// a matrix loaded as its file's 16-bit words only, whose float32 array is written once,
// in place, before anything reads its values: StoredHalf.pending below.)

import { decodeInto } from '../models/dtypes.js';

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
  // Architecture details beyond llama2.c. All optional: absent means llama2.c's choice,
  // so a model record written before them keeps its meaning (see the helpers below).
  /** Width of one attention head; Gemma's differs from dim / nHeads. Default dim / nHeads. */
  headDim?: number;
  /** Which lanes RoPE rotates together (see RopeStyle). Default 'pairs'. */
  ropeStyle?: RopeStyle;
  /**
   * Per-lane RoPE frequency factors, headDim / 2 of them (LLaMA-3.1's `llama3` scaling,
   * src/models/rope-scaling.ts): lane pair j turns by pos · θ^(-2j/headDim) / factor[j].
   * Stored as factors that divide the base frequency, not as frequencies, because that is
   * what a GGUF file holds (`rope_freqs.weight`, ggml_rope_ext's freq_factors) and because
   * factors of 1 then give plain RoPE bit for bit. Absent: every factor is 1.
   */
  ropeFreqFactors?: Float32Array;
  /** The token embedding is multiplied by this before layer 0 (Gemma: √dim). Default 1. */
  embeddingScale?: number;
  /** RMSNorm (LLaMA family) or LayerNorm with bias (OPT). Default 'rmsnorm'. */
  normKind?: NormKind;
  /** Where each block's norm sits: before it (pre-LN) or after its residual add (OPT-350M). Default 'pre'. */
  normPlacement?: NormPlacement;
  /** Learned positional embeddings are read at row pos + positionOffset (OPT: 2). Default 0. */
  positionOffset?: number;
  /** Width of the token embedding when it differs from dim (OPT-350M's project_in / project_out). Default dim. */
  embedDim?: number;
  /** The architecture name the loader recognised ('llama', 'qwen2', 'gemma', 'opt', …), for reports. */
  architecture?: string;
}

/**
 * RoPE lane pairing inside each head of size h (both rotate lane pair j by pos·θ^(-2j/h)):
 * 'pairs'  — lanes (2j, 2j+1): Meta's original layout, llama2.c, GGUF `llama` (its converter permutes to it);
 * 'halves' — lanes (j, j + h/2): "rotate_half" of Hugging Face transformers, GGUF `qwen2`/`gemma` (NeoX).
 */
export type RopeStyle = 'pairs' | 'halves' | 'none'; // 'none': learned positional embeddings instead (OPT)
export type NormKind = 'rmsnorm' | 'layernorm';
export type NormPlacement = 'pre' | 'post';

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
  rmsAtt: Float32Array; // dim: the attention norm's weight (RMSNorm or LayerNorm)
  wq: Float32Array; // qDim × dim   (row-major: out × in; qDim = nHeads · headDim, = dim in llama2.c)
  wk: Float32Array; // kvDim × dim
  wv: Float32Array; // kvDim × dim
  wo: Float32Array; // dim × qDim
  rmsFfn: Float32Array; // dim: the FFN norm's weight
  ffn: FfnWeights;
  // Optional biases (absent or null: zero). Qwen2 has bq/bk/bv; OPT has all four and LayerNorm biases.
  bq?: Float32Array | null; // qDim
  bk?: Float32Array | null; // kvDim
  bv?: Float32Array | null; // kvDim
  bo?: Float32Array | null; // dim
  attNormBias?: Float32Array | null; // dim (LayerNorm)
  ffnNormBias?: Float32Array | null; // dim (LayerNorm)
}

export interface ModelWeights {
  tokenEmbedding: Float32Array; // vocabSize × embedDim
  layers: LayerWeights[];
  rmsFinal: Float32Array; // dim: the final norm's weight
  classifier: Float32Array; // vocabSize × embedDim (the embedding itself when shared)
  /** maxPositions × dim learned positional embeddings (OPT); absent: none (RoPE models). */
  positionEmbedding?: Float32Array | null;
  /** Bias of the final LayerNorm (OPT). */
  finalNormBias?: Float32Array | null;
  /** OPT-350M has no final norm (post-LN): then hasFinalNorm is false. Default true. */
  hasFinalNorm?: boolean;
  /** dim × embedDim: lifts the embedding to the residual width (OPT-350M project_in). */
  projectIn?: Float32Array | null;
  /** embedDim × dim: back to the embedding width before the classifier (OPT-350M project_out). */
  projectOut?: Float32Array | null;
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
  return c.headDim ?? c.dim / c.nHeads;
}

/** Width of all query heads together: nHeads · headDim (= dim unless headDim says otherwise). */
export function qDim(c: ModelConfig): number {
  return c.nHeads * headSize(c);
}

export function kvDim(c: ModelConfig): number {
  return c.nKvHeads * headSize(c);
}

/** Width of the token embedding and the classifier rows (dim unless project_in/out sit between). */
export function embedDim(c: ModelConfig): number {
  return c.embedDim ?? c.dim;
}

/**
 * A weight matrix's raw 16-bit words exactly as an F16 or BF16 file stores them, in the
 * kit's layout (row-major out × in; the down projection transposed like downT). Its
 * float32 array holds the same values widened exactly, so rounding that array back to
 * `type` (round to nearest even) gives these bits again: a half-precision backend may
 * use them instead of converting, with identical results.
 */
export interface StoredHalf {
  type: 'f16' | 'bf16';
  bits: Uint16Array;
  /**
   * True while the float32 array has not been written (a loader's `wordsOnly` mode): it
   * holds zeros, not the weights, until fillStoredHalf widens these words into it.
   */
  pending?: boolean;
}

// Keyed by the float32 array itself, like the backends' own caches (weights are immutable
// once loaded): the model record stays plain data (structuredClone, spreads and workers
// see no new field), and an array that a transform replaces (e.g. q/k rows permuted)
// simply has no entry.
const storedHalves = new WeakMap<Float32Array, StoredHalf>();

/**
 * What a loader keeps with `keepHalf`: true, every F16 and BF16 tensor's words; 'f16' or
 * 'bf16', only tensors stored in that type (the type a half-precision backend computes in:
 * words of the other type would be held and never used).
 */
export type KeepHalf = boolean | StoredHalf['type'];

/**
 * How a loader keeps half-precision words: `keepHalf` as above; `wordsOnly` as well keeps
 * the weight matrices that reach only the kernels (attention projections, FFN gate / up /
 * down, an untied classifier) as their words alone: each float32 array is allocated but
 * never written (an untouched allocation costs no resident memory on Linux) and its
 * StoredHalf is `pending`. Norm gains, biases and the token embedding (read in JS by the
 * decoder, and the tied classifier) are widened as always. For a backend whose kernels
 * read the words (Kernels.readsStoredHalf): everything else gets the float32 values
 * filled first (fillPendingWeights). A copy of a pending array (slice, structuredClone)
 * copies the zeros and has no words: fill before copying.
 */
export interface HalfLoad {
  keepHalf?: KeepHalf;
  wordsOnly?: boolean;
}

/** The file's own 16-bit words of a weight array, when the loader was asked to keep them (`keepHalf`). */
export function storedHalf(w: Float32Array): StoredHalf | undefined {
  return storedHalves.get(w);
}

/** Records the raw words `w` was widened from (the model loaders call this). */
export function rememberStoredHalf(w: Float32Array, stored: StoredHalf): void {
  if (stored.bits.length !== w.length) throw new Error(`stored ${stored.type} words (${stored.bits.length}) do not match the array (${w.length})`);
  storedHalves.set(w, stored);
}

/** Whether `w` is a matrix loaded as words only whose float32 values are not written yet. */
export function isPending(w: Float32Array): boolean {
  return storedHalves.get(w)?.pending === true;
}

const DTYPE = { f16: 'F16', bf16: 'BF16' } as const;

/**
 * Writes the float32 values of a `pending` array in place from its stored words and marks
 * it filled; does nothing to any other array (so calling it again is harmless). The
 * widening is the loaders' own (decodeInto, exact for F16 and BF16), and widening commutes
 * with the transposition of downT, so the array ends bit for bit as a normal load makes it.
 */
export function fillStoredHalf(w: Float32Array): Float32Array {
  const s = storedHalves.get(w);
  if (s?.pending) {
    decodeInto(DTYPE[s.type], new Uint8Array(s.bits.buffer, s.bits.byteOffset, s.bits.byteLength), w, 0, w.length);
    s.pending = false;
  }
  return w;
}

/**
 * Row `row` (of `cols` values) of weight matrix `w` as float32: a view of `w`, or, while
 * `w` is pending, its stored words widened into `scratch` (exactly the values filling would
 * write). For a reader that wants a few rows' values without a float32 copy of the matrix.
 */
export function weightRow(w: Float32Array, row: number, cols: number, scratch: Float32Array): Float32Array {
  const s = storedHalves.get(w);
  if (!s?.pending) return w.subarray(row * cols, (row + 1) * cols);
  const words = s.bits.subarray(row * cols, (row + 1) * cols);
  decodeInto(DTYPE[s.type], new Uint8Array(words.buffer, words.byteOffset, words.byteLength), scratch, 0, cols);
  return scratch.subarray(0, cols);
}

/** Every Float32Array of the weights record once, layers and FFNs included (whatever fields they have). */
function weightArrays(w: ModelWeights): Set<Float32Array> {
  const arrays = (o: object) => Object.values(o).filter((v): v is Float32Array => v instanceof Float32Array);
  return new Set([...arrays(w), ...w.layers.flatMap((l) => [...arrays(l), ...arrays(l.ffn)])]);
}

/**
 * The one guard against reading a `wordsOnly` matrix's unwritten zeros: fills every pending
 * weight array of `model` except those whose words `reader` declares it reads itself
 * (Kernels.readsStoredHalf equal to the words' type); returns how many it filled. The
 * Decoder calls it with its kernels, so every generation, calibration and prefill path
 * sees real values on any backend but the half-precision ones; code that reads a whole
 * model's values outside the kernels (exports, conformance) calls it without a reader.
 * Readers of single matrices in JS use fillStoredHalf or weightRow on what they read.
 */
export function fillPendingWeights(model: Model, reader?: { readonly readsStoredHalf?: StoredHalf['type'] }): number {
  let filled = 0;
  for (const w of weightArrays(model.weights)) {
    const s = storedHalves.get(w);
    if (!s?.pending || s.type === reader?.readsStoredHalf) continue;
    fillStoredHalf(w);
    filled++;
  }
  return filled;
}

/**
 * A copy of the model record whose pending matrices are new pending arrays over the same
 * words (every other array shared). What a float32 reader widens into the copy (the
 * decoder's fillPendingWeights) leaves `model` unwritten, and is released with the copy:
 * a run that needs the float32 values for a while (the bench's f32 rows) need not leave
 * them resident beside the words afterwards.
 */
export function unfilledTwin(model: Model): Model {
  const w = model.weights;
  const top = pendingTwins(float32Fields(w));
  const layers = w.layers.map((l) => {
    const twins = pendingTwins([...float32Fields(l), ...float32Fields(l.ffn)]);
    return { ...withTwins(l, twins), ffn: withTwins(l.ffn, twins) };
  });
  return { ...model, weights: { ...withTwins(w, top), layers } };
}

function float32Fields(o: object): Float32Array[] {
  return Object.values(o).filter((v): v is Float32Array => v instanceof Float32Array);
}

function withTwins<T extends object>(o: T, twins: Map<Float32Array, Float32Array>): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v instanceof Float32Array ? (twins.get(v) ?? v) : v])) as T;
}

/**
 * New pending arrays over the words of the pending ones among `arrays`, all views of one
 * allocation (allocated, not written: no resident memory until filled). One large
 * allocation is mapped and unmapped whole by the C allocator when it is collected; arrays
 * of a few MiB each (a layer's attention matrices) would come from its heap, which keeps
 * freed memory resident (measured: 0.8 GB of 4.4 GB at the TinyLlama shape).
 */
function pendingTwins(arrays: Float32Array[]): Map<Float32Array, Float32Array> {
  const pending = [...new Set(arrays)].filter(isPending);
  const storage = new ArrayBuffer(pending.reduce((n, a) => n + a.byteLength, 0));
  const twins = new Map<Float32Array, Float32Array>();
  let offset = 0;
  for (const a of pending) {
    const t = new Float32Array(storage, offset, a.length);
    offset += a.byteLength;
    const s = storedHalves.get(a)!;
    storedHalves.set(t, { type: s.type, bits: s.bits, pending: true });
    twins.set(a, t);
  }
  return twins;
}
