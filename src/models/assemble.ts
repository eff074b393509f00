// One decoder model from named tensors, for every format that stores the weights by
// name (GGUF, Hugging Face safetensors). Each format says what its tensors are called
// (a TensorNames record) and how to fetch one (a TensorSource); the layout rules of
// the kit (src/core/model.ts) are applied here once: out × in row-major matrices,
// the down projection stored transposed (one row per neuron), biases optional.

import { embedDim, kvDim, type LayerWeights, type Model, type ModelConfig, type ModelWeights, qDim, isGated } from '../core/model.js';

/** The KV cache is allocated for the whole context: the kit holds at most this many positions. */
export const MAX_CONTEXT = 4096;

/** Called as tensors are read: bytes of tensor data read so far, of about `total`. */
export type LoadProgress = (done: number, total: number) => void;

/** Fetches one tensor as float32, checked against `shape` ([rows, cols] of the row-major matrix, or [n]). */
export interface TensorSource {
  /**
   * The tensor, or null when it is absent and `optional`; a UserError names the file and tensor otherwise.
   * `matrix`: a weight matrix that only the kernels read (never JS code of the decoder), so
   * a source loading `wordsOnly` (HalfLoad in src/core/model.ts) may leave its float32 values unwritten.
   */
  get(name: string, shape: number[], optional?: boolean, matrix?: boolean): Float32Array | null;
  /**
   * The rows × cols tensor `name` (shape [rows, cols]) as its cols × rows transpose, read
   * straight into place (W_down becomes downT without a float32 copy of W_down). Always a
   * `matrix` in the sense of get.
   */
  getTransposed(name: string, shape: [rows: number, cols: number]): Float32Array;
  /** Names of all tensors in the source (to report unused or missing ones). */
  has(name: string): boolean;
}

/** Where each weight lives; `{l}` stands for the layer index. Absent entries: the model has no such tensor. */
export interface TensorNames {
  embed: string;
  positions?: string;
  projectIn?: string;
  projectOut?: string;
  attNorm: string;
  attNormBias?: string;
  wq: string;
  wk: string;
  wv: string;
  wo: string;
  bq?: string;
  bk?: string;
  bv?: string;
  bo?: string;
  ffnNorm: string;
  ffnNormBias?: string;
  gate?: string;
  up: string;
  down: string;
  upBias?: string;
  downBias?: string;
  finalNorm?: string;
  finalNormBias?: string;
  /** Classifier; when absent from the file, the token embedding is used (tied). */
  output?: string;
}

export interface AssembleOptions {
  /** Maps a norm weight as stored to the weight the model multiplies by (HF Gemma stores w − 1). */
  normWeight?: (w: Float32Array) => Float32Array;
  /** Number of learned position rows (OPT: max_position_embeddings + 2). */
  positionRows?: number;
}

const at = (template: string, l: number) => template.replace('{l}', String(l));

/** rows × cols row-major → cols × rows: W_down's column i becomes downT's row i. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(r0 + B, rows);
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) t[c * rows + r] = m[r * cols + c];
    }
  }
  return t;
}

export function assembleModel(
  config: ModelConfig,
  names: TensorNames,
  src: TensorSource,
  meta: { fingerprint: string; source: string },
  opts: AssembleOptions = {},
): Model {
  const c = config;
  const qd = qDim(c);
  const kv = kvDim(c);
  const ed = embedDim(c);
  const need = (name: string, shape: number[]) => src.get(name, shape)!;
  // The matrices the decoder hands to the kernels only; everything else (norm gains, biases,
  // embeddings) is read in JS and always arrives as float32.
  const mat = (name: string, shape: number[]) => src.get(name, shape, false, true)!;
  const maybe = (name: string | undefined, shape: number[]) => (name ? src.get(name, shape, true) : null);
  const norm = (w: Float32Array) => (opts.normWeight ? opts.normWeight(w) : w);

  const tokenEmbedding = need(names.embed, [c.vocabSize, ed]);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const n = (t: string) => at(t, l);
    const opt = (t: string | undefined, shape: number[]) => (t ? maybe(n(t), shape) : null);
    const downT = src.getTransposed(n(names.down), [c.dim, c.hiddenDim]); // read first: its shape names hiddenDim's disagreement
    layers.push({
      rmsAtt: norm(need(n(names.attNorm), [c.dim])),
      attNormBias: opt(names.attNormBias, [c.dim]),
      wq: mat(n(names.wq), [qd, c.dim]),
      wk: mat(n(names.wk), [kv, c.dim]),
      wv: mat(n(names.wv), [kv, c.dim]),
      wo: mat(n(names.wo), [c.dim, qd]),
      bq: opt(names.bq, [qd]),
      bk: opt(names.bk, [kv]),
      bv: opt(names.bv, [kv]),
      bo: opt(names.bo, [c.dim]),
      rmsFfn: norm(need(n(names.ffnNorm), [c.dim])),
      ffnNormBias: opt(names.ffnNormBias, [c.dim]),
      ffn: {
        gate: isGated(c.ffnKind) ? mat(n(names.gate!), [c.hiddenDim, c.dim]) : null,
        up: mat(n(names.up), [c.hiddenDim, c.dim]),
        downT,
        upBias: opt(names.upBias, [c.hiddenDim]),
        downBias: opt(names.downBias, [c.dim]),
      },
    });
  }
  const weights: ModelWeights = {
    tokenEmbedding,
    layers,
    rmsFinal: names.finalNorm ? norm(need(names.finalNorm, [c.dim])) : new Float32Array(c.dim).fill(1),
    hasFinalNorm: names.finalNorm !== undefined,
    finalNormBias: maybe(names.finalNormBias, [c.dim]),
    // Tied (no output tensor): the embedding itself, float32 because the decoder reads its rows.
    classifier: (names.output && src.has(names.output) ? mat(names.output, [c.vocabSize, ed]) : null) ?? tokenEmbedding,
    positionEmbedding: names.positions ? need(names.positions, [opts.positionRows ?? c.seqLen, c.dim]) : null,
    projectIn: names.projectIn ? need(names.projectIn, [c.dim, ed]) : null,
    projectOut: names.projectOut ? need(names.projectOut, [ed, c.dim]) : null,
  };
  return { config, weights, ...meta };
}

/** One-line description of a shape for errors: [rows, cols] → "rows × cols". */
export function shapeText(shape: readonly number[]): string {
  return shape.join(' × ');
}
