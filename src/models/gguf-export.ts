// A kit model written as GGUF the way llama.cpp's converter would write the same
// weights (see the conventions in src/models/gguf.ts): architecture `llama` (pairs
// RoPE, the kit's llama2.c layout as is), `qwen2` (q/k/v biases) or `gemma` (tied
// classifier, √dim embedding scale, head width key_length), in F32, F16, BF16, Q8_0
// or Q4_0 (norms and biases stay F32, as the converter keeps 1-D tensors).
// The model's RoPE style must be the architecture's: a `llama` file needs a 'pairs'
// model, qwen2/gemma files a 'halves' one — no silent permutation.

import { type Model, fillPendingWeights, headSize, kvDim, qDim } from '../core/model.js';
import { transpose } from './assemble.js';
import { type DType, Q8_0_BLOCK, isBlockQuantised } from './dtypes.js';
import { type GgufTensor, type GgufValue, bool, f32, f32s, i32s, str, strings, u32, writeGguf } from './gguf-writer.js';

/** A SentencePiece vocabulary in GGUF spelling: pieces with "▁", scores and llama.cpp token types. */
export interface GgufVocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  /** A byte-level BPE vocabulary (`tokenizer.ggml.model = gpt2`) instead: its merges, pre-tokenizer and specials. */
  bpe?: { merges: string[]; pre: string; bos: number; eos: number };
}

/** llama.cpp token types (llama_token_type). */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

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

export type GgufArchitecture = 'llama' | 'qwen2' | 'gemma';

/** llama.cpp's general.file_type (llama_ftype) for an all-`type` file. */
const FILE_TYPE: Record<DType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, Q4_K: 15, BF16: 32 };

function tokenizerMetadata(v: GgufVocab): [string, GgufValue][] {
  const common: [string, GgufValue][] = [['tokenizer.ggml.tokens', strings(v.tokens)], ['tokenizer.ggml.token_type', i32s(v.types)]];
  if (v.bpe) {
    return [
      ['tokenizer.ggml.model', str('gpt2')],
      ['tokenizer.ggml.pre', str(v.bpe.pre)],
      ...common,
      ['tokenizer.ggml.merges', strings(v.bpe.merges)],
      ['tokenizer.ggml.bos_token_id', u32(v.bpe.bos)],
      ['tokenizer.ggml.eos_token_id', u32(v.bpe.eos)],
      ['tokenizer.ggml.add_bos_token', bool(true)],
    ];
  }
  return [
    ['tokenizer.ggml.model', str('llama')],
    ...common,
    ['tokenizer.ggml.scores', f32s(v.scores)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.add_bos_token', bool(true)],
    ['tokenizer.ggml.add_eos_token', bool(false)],
  ];
}

export function writeModelGguf(
  model: Model,
  vocab: GgufVocab,
  file: string,
  o: { name: string; architecture?: GgufArchitecture; type?: DType; /** Extra metadata after the model's own (tests of refused keys). */ metadata?: [string, GgufValue][] },
): { bytes: number } {
  fillPendingWeights(model); // every value is written out: a wordsOnly load's matrices are widened first
  const c = model.config;
  const arch = o.architecture ?? 'llama';
  const type = o.type ?? 'F32';
  const wantFfn = arch === 'gemma' ? 'geglu' : 'swiglu';
  if (c.ffnKind !== wantFfn) throw new Error(`a GGUF ${arch} model needs the ${wantFfn} FFN, not ${c.ffnKind}`);
  const wantRope = arch === 'llama' ? 'pairs' : 'halves';
  if ((c.ropeStyle ?? 'pairs') !== wantRope) throw new Error(`a GGUF ${arch} model rotates ${wantRope} in RoPE; this model uses ${c.ropeStyle ?? 'pairs'}`);
  if (arch === 'gemma' && c.embeddingScale !== Math.fround(Math.sqrt(c.dim))) throw new Error('a GGUF gemma model scales its embedding by √dim');
  if (arch !== 'gemma' && (c.embeddingScale ?? 1) !== 1) throw new Error(`a GGUF ${arch} model has no embedding scale`);
  if (vocab.tokens.length !== c.vocabSize) throw new Error(`vocabulary has ${vocab.tokens.length} tokens, model ${c.vocabSize}`);
  const kv = kvDim(c);
  const qd = qDim(c);
  const k = (key: string) => `${arch}.${key}`;
  const metadata: [string, GgufValue][] = [
    ['general.architecture', str(arch)],
    ['general.name', str(o.name)],
    ['general.alignment', u32(32)],
    ['general.file_type', u32(FILE_TYPE[type])],
    [k('context_length'), u32(c.seqLen)],
    [k('embedding_length'), u32(c.dim)],
    [k('block_count'), u32(c.nLayers)],
    [k('feed_forward_length'), u32(c.hiddenDim)],
    [k('rope.dimension_count'), u32(headSize(c))],
    [k('attention.head_count'), u32(c.nHeads)],
    [k('attention.head_count_kv'), u32(c.nKvHeads)],
    [k('attention.key_length'), u32(headSize(c))],
    [k('attention.value_length'), u32(headSize(c))],
    [k('attention.layer_norm_rms_epsilon'), f32(c.normEps)],
    [k('rope.freq_base'), f32(c.ropeTheta)],
    ...tokenizerMetadata(vocab),
    ...(o.metadata ?? []),
  ];
  const w = model.weights;
  // Q8_0/Q4_0 need whole 32-value blocks per row; like the converter, other rows fall back to F16.
  const typeFor = (cols: number): DType => (isBlockQuantised(type) && cols % Q8_0_BLOCK !== 0 ? 'F16' : type);
  const mat = (name: string, data: Float32Array, rows: number, cols: number): GgufTensor => ({ name, ne: [cols, rows], data: () => data, type: typeFor(cols) });
  const vec = (name: string, data: Float32Array): GgufTensor => ({ name, ne: [data.length], data: () => data });
  const tensors: GgufTensor[] = [mat('token_embd.weight', w.tokenEmbedding, c.vocabSize, c.dim)];
  w.layers.forEach((l, i) => {
    const p = `blk.${i}.`;
    tensors.push(vec(`${p}attn_norm.weight`, l.rmsAtt), mat(`${p}attn_q.weight`, l.wq, qd, c.dim), mat(`${p}attn_k.weight`, l.wk, kv, c.dim), mat(`${p}attn_v.weight`, l.wv, kv, c.dim));
    if (arch === 'qwen2') {
      const zeros = (n: number) => new Float32Array(n);
      tensors.push(vec(`${p}attn_q.bias`, l.bq ?? zeros(qd)), vec(`${p}attn_k.bias`, l.bk ?? zeros(kv)), vec(`${p}attn_v.bias`, l.bv ?? zeros(kv)));
    } else if (l.bq || l.bk || l.bv || l.bo) {
      throw new Error(`a GGUF ${arch} model has no attention biases`);
    }
    tensors.push(
      mat(`${p}attn_output.weight`, l.wo, c.dim, qd),
      vec(`${p}ffn_norm.weight`, l.rmsFfn),
      mat(`${p}ffn_gate.weight`, l.ffn.gate!, c.hiddenDim, c.dim),
      mat(`${p}ffn_up.weight`, l.ffn.up, c.hiddenDim, c.dim),
      // Transposed only when written, one layer at a time, to bound memory.
      { name: `${p}ffn_down.weight`, ne: [c.hiddenDim, c.dim], data: () => transpose(l.ffn.downT, c.hiddenDim, c.dim), type: typeFor(c.hiddenDim) },
    );
  });
  tensors.push(vec('output_norm.weight', w.rmsFinal));
  // LLaMA-3.1 scaling: the per-pair factors as the F32 tensor convert_hf_to_gguf.py writes (no metadata key).
  if (c.ropeFreqFactors) {
    if (arch !== 'llama') throw new Error(`a GGUF ${arch} model has no rope_freqs.weight`);
    tensors.push(vec('rope_freqs.weight', c.ropeFreqFactors));
  }
  // Gemma's classifier is always the embedding; the others write it unless it is shared.
  if (arch !== 'gemma' && w.classifier !== w.tokenEmbedding) tensors.push(mat('output.weight', w.classifier, c.vocabSize, c.dim));
  else if (arch === 'gemma' && w.classifier !== w.tokenEmbedding) throw new Error('a GGUF gemma model ties its classifier to the embedding');
  return writeGguf(file, metadata, tensors);
}
