// A synthetic GGUF `llama` model of any shape, in F16 (or BF16), written cheaply: for the scale
// benchmark (TinyLlama-1.1B's shape: a 2.2 GB file) no real weights are needed, only
// realistic sizes. Each matrix is streamed to disk one tensor at a time, straight as
// 16-bit words tiled from a seeded table of normal values (period prime so rows do not
// repeat in step), never as a whole model in memory, never through float32.

import { Rng } from '../reference/random.js';
import { Q4_K_BLOCK, byteSize, f32ToBf16, f32ToF16 } from './dtypes.js';
import { syntheticVocab } from './gguf-export.js';
import { type GgufTensor, f32, i32s, str, strings, f32s, u32, writeGguf } from './gguf-writer.js';

export interface SyntheticGgufShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
}

/** TinyLlama-1.1B's shape (the scale target). */
export const TINYLLAMA_SHAPE: SyntheticGgufShape = { dim: 2048, hiddenDim: 5632, nLayers: 22, nHeads: 32, nKvHeads: 4, vocabSize: 32000, seqLen: 2048 };

const PERIOD = 65521; // prime

/**
 * Writes the synthetic model with every matrix in `type`: F16 (default) or BF16 tiled from
 * the table, or Q4_K as seeded random blocks whose d and dmin are set to 1/(16·√cols) (so
 * values stay about ±1/√cols; rows must then be whole 256-value blocks).
 */
export function writeSyntheticGguf(file: string, s: SyntheticGgufShape, seed = 1, type: 'F16' | 'BF16' | 'Q4_K' = 'F16'): { bytes: number } {
  const encode = type === 'BF16' ? f32ToBf16 : f32ToF16;
  const rng = new Rng(seed);
  // One table of N(0,1) values per fan-in, scaled by 1/√cols like a trained layer's weights.
  const tables = new Map<number, Uint16Array>();
  const table = (cols: number) => {
    let t = tables.get(cols);
    if (!t) {
      t = new Uint16Array(PERIOD);
      for (let i = 0; i < PERIOD; i++) t[i] = encode(rng.nextNormal() / Math.sqrt(cols));
      tables.set(cols, t);
    }
    return t;
  };
  let tensorIndex = 0;
  const mat = (name: string, rows: number, cols: number): GgufTensor => {
    const shift = (tensorIndex++ * 7919) % PERIOD;
    return {
      name,
      ne: [cols, rows],
      type,
      data: () => new Float32Array(0),
      raw: () => {
        if (type === 'Q4_K') return randomQ4K(rng, rows * cols, f32ToF16(1 / (16 * Math.sqrt(cols))));
        const t = table(cols);
        const n = rows * cols;
        const out = new Uint16Array(n);
        for (let i = 0; i < n; i++) out[i] = t[(i + shift) % PERIOD];
        return new Uint8Array(out.buffer);
      },
    };
  };
  const gains = (name: string): GgufTensor => ({ name, ne: [s.dim], data: () => Float32Array.from({ length: s.dim }, () => 1 + 0.1 * rng.nextNormal()) });
  const kv = (s.dim / s.nHeads) * s.nKvHeads;
  const tensors: GgufTensor[] = [mat('token_embd.weight', s.vocabSize, s.dim)];
  for (let l = 0; l < s.nLayers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      gains(`${p}attn_norm.weight`),
      mat(`${p}attn_q.weight`, s.dim, s.dim),
      mat(`${p}attn_k.weight`, kv, s.dim),
      mat(`${p}attn_v.weight`, kv, s.dim),
      mat(`${p}attn_output.weight`, s.dim, s.dim),
      gains(`${p}ffn_norm.weight`),
      mat(`${p}ffn_gate.weight`, s.hiddenDim, s.dim),
      mat(`${p}ffn_up.weight`, s.hiddenDim, s.dim),
      mat(`${p}ffn_down.weight`, s.dim, s.hiddenDim),
    );
  }
  tensors.push(gains('output_norm.weight'), mat('output.weight', s.vocabSize, s.dim));
  const vocab = syntheticVocab(s.vocabSize);
  return writeGguf(
    file,
    [
      ['general.architecture', str('llama')],
      ['general.name', str('synthetic')],
      ['general.alignment', u32(32)],
      ['general.file_type', u32({ F16: 1, BF16: 32, Q4_K: 15 }[type])], // llama_ftype: mostly F16 / BF16 / Q4_K_M
      ['llama.context_length', u32(s.seqLen)],
      ['llama.embedding_length', u32(s.dim)],
      ['llama.block_count', u32(s.nLayers)],
      ['llama.feed_forward_length', u32(s.hiddenDim)],
      ['llama.rope.dimension_count', u32(s.dim / s.nHeads)],
      ['llama.attention.head_count', u32(s.nHeads)],
      ['llama.attention.head_count_kv', u32(s.nKvHeads)],
      ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
      ['llama.rope.freq_base', f32(10000)],
      ['tokenizer.ggml.model', str('llama')],
      ['tokenizer.ggml.tokens', strings(vocab.tokens)],
      ['tokenizer.ggml.scores', f32s(vocab.scores)],
      ['tokenizer.ggml.token_type', i32s(vocab.types)],
      ['tokenizer.ggml.bos_token_id', u32(1)],
      ['tokenizer.ggml.eos_token_id', u32(2)],
      ['tokenizer.ggml.unknown_token_id', u32(0)],
    ],
    tensors,
  );
}

/** `n` values of seeded random Q4_K blocks (144 bytes per 256 values), each block's d and dmin = the float16 `scale`. */
function randomQ4K(rng: Rng, n: number, scale: number): Uint8Array {
  const bytes = new Uint8Array(byteSize('Q4_K', n));
  const words = new Uint32Array(bytes.buffer);
  for (let i = 0; i < words.length; i++) words[i] = rng.nextU32();
  const view = new DataView(bytes.buffer);
  for (let b = 0; b < n / Q4_K_BLOCK; b++) {
    view.setUint16(144 * b, scale, true);
    view.setUint16(144 * b + 2, scale, true);
  }
  return bytes;
}
