// Exports a kit model (llama2.c layout) to GGUF F32 for llama.cpp, so the llama.cpp
// baseline runs exactly the same weights.
//
// Weights: our matrices are row-major out × in, which is llama.cpp's layout (GGUF
// ne = [in, out]). The one exception is the FFN down projection, which the kit
// stores transposed (downT: one row per neuron, see src/reference/model.ts), so it
// is transposed back to W_down (dim × hiddenDim) here.
//
// RoPE: llama2.c rotates consecutive pairs (2j, 2j+1) of each head — Meta's original
// convention, which is llama.cpp's "normal" rope for the llama architecture. The
// half-split permutation that llama.cpp's converter undoes applies only to weights
// that went through Hugging Face's layout, so Wq/Wk are written unpermuted. The
// proof is the stories260K greedy check against the golden run.c tokens.
//
// Tokenizer: llama2.c's tokenizer.bin holds SentencePiece pieces with "▁" turned
// into a space and BOS/EOS as "\n<s>\n" / "\n</s>\n"; they are mapped back to the
// SentencePiece spelling with token types (unknown, control, byte, normal).

import type { Model } from '../core/model.js';
import { headSize, kvDim } from '../core/model.js';
import type { Tokenizer } from '../models/tokenizer.js';
import { type GgufTensor, type GgufValue, f32, f32s, i32s, str, strings, u32, writeGguf } from '../models/gguf-writer.js';

/** llama.cpp token types (llama_token_type). */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

export interface GgufVocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
}

/** The llama2.c vocabulary in SentencePiece spelling. */
export function vocabFromTokenizer(tok: Tokenizer): GgufVocab {
  const n = tok.vocabSize;
  const tokens: string[] = [];
  const types = new Int32Array(n);
  for (let id = 0; id < n; id++) {
    const piece = Buffer.from(tok.vocab[id]).toString('utf8');
    if (id === 0) {
      tokens.push('<unk>');
      types[id] = TOKEN_UNKNOWN;
    } else if (id === 1 || id === 2) {
      tokens.push(id === 1 ? '<s>' : '</s>');
      types[id] = TOKEN_CONTROL;
    } else if (/^<0x[0-9A-F]{2}>$/.test(piece)) {
      tokens.push(piece);
      types[id] = TOKEN_BYTE;
    } else {
      tokens.push(piece.replaceAll(' ', '\u2581'));
      types[id] = TOKEN_NORMAL;
    }
  }
  return { tokens, scores: Float32Array.from(tok.scores), types };
}

/** A placeholder vocabulary for synthetic models: specials, the 256 byte tokens, then "t<id>". */
export function syntheticVocab(n: number): GgufVocab {
  const tokens: string[] = [];
  const types = new Int32Array(n);
  const scores = new Float32Array(n);
  for (let id = 0; id < n; id++) {
    if (id < 3) {
      tokens.push(['<unk>', '<s>', '</s>'][id]);
      types[id] = id === 0 ? TOKEN_UNKNOWN : TOKEN_CONTROL;
    } else if (id < 259) {
      tokens.push(`<0x${(id - 3).toString(16).toUpperCase().padStart(2, '0')}>`);
      types[id] = TOKEN_BYTE;
    } else {
      tokens.push(`\u2581t${id}`);
      types[id] = TOKEN_NORMAL;
      scores[id] = -id;
    }
  }
  return { tokens, scores, types };
}

/** rows × cols row-major → cols × rows, in cache-sized blocks. */
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

export function exportGguf(model: Model, vocab: GgufVocab, file: string, name: string): { bytes: number } {
  const c = model.config;
  if (c.ffnKind !== 'swiglu') throw new Error(`GGUF export supports LLaMA (SwiGLU) models only, not ${c.ffnKind}`);
  if (vocab.tokens.length !== c.vocabSize) throw new Error(`vocabulary has ${vocab.tokens.length} tokens, model ${c.vocabSize}`);
  const kv = kvDim(c);
  const metadata: [string, GgufValue][] = [
    ['general.architecture', str('llama')],
    ['general.name', str(name)],
    ['general.alignment', u32(32)],
    ['general.file_type', u32(0)], // all F32
    ['llama.context_length', u32(c.seqLen)],
    ['llama.embedding_length', u32(c.dim)],
    ['llama.block_count', u32(c.nLayers)],
    ['llama.feed_forward_length', u32(c.hiddenDim)],
    ['llama.rope.dimension_count', u32(headSize(c))],
    ['llama.attention.head_count', u32(c.nHeads)],
    ['llama.attention.head_count_kv', u32(c.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(c.normEps)],
    ['llama.rope.freq_base', f32(c.ropeTheta)],
    ['llama.vocab_size', u32(c.vocabSize)],
    ['tokenizer.ggml.model', str('llama')],
    ['tokenizer.ggml.tokens', strings(vocab.tokens)],
    ['tokenizer.ggml.scores', f32s(vocab.scores)],
    ['tokenizer.ggml.token_type', i32s(vocab.types)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
  ];
  const w = model.weights;
  const mat = (name: string, data: Float32Array, rows: number, cols: number): GgufTensor => ({ name, ne: [cols, rows], data: () => data });
  const vec = (name: string, data: Float32Array): GgufTensor => ({ name, ne: [data.length], data: () => data });
  const tensors: GgufTensor[] = [mat('token_embd.weight', w.tokenEmbedding, c.vocabSize, c.dim)];
  w.layers.forEach((l, i) => {
    const p = `blk.${i}.`;
    tensors.push(
      vec(`${p}attn_norm.weight`, l.rmsAtt),
      mat(`${p}attn_q.weight`, l.wq, c.dim, c.dim),
      mat(`${p}attn_k.weight`, l.wk, kv, c.dim),
      mat(`${p}attn_v.weight`, l.wv, kv, c.dim),
      mat(`${p}attn_output.weight`, l.wo, c.dim, c.dim),
      vec(`${p}ffn_norm.weight`, l.rmsFfn),
      mat(`${p}ffn_gate.weight`, l.ffn.gate!, c.hiddenDim, c.dim),
      mat(`${p}ffn_up.weight`, l.ffn.up, c.hiddenDim, c.dim),
      // Transposed only when written, one layer at a time, to bound memory.
      { name: `${p}ffn_down.weight`, ne: [c.hiddenDim, c.dim], data: () => transpose(l.ffn.downT, c.hiddenDim, c.dim) },
    );
  });
  tensors.push(vec('output_norm.weight', w.rmsFinal), mat('output.weight', w.classifier, c.vocabSize, c.dim));
  return writeGguf(file, metadata, tensors);
}
