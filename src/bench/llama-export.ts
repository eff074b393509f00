// Exports a kit model (llama2.c layout) to GGUF F32 or F16 for llama.cpp, so the
// llama.cpp baseline runs exactly the same weights (F16: the same weights rounded to
// nearest even, as native-cpu-f16 rounds them).
//
// Weights: our matrices are row-major out × in, which is llama.cpp's layout (GGUF
// ne = [in, out]). The one exception is the FFN down projection, which the kit
// stores transposed (downT: one row per neuron, see src/core/model.ts), so it
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
import type { SentencePieceTokenizer } from '../models/tokenizer.js';
import { type GgufVocab, writeModelGguf } from '../models/gguf-export.js';

export type { GgufVocab } from '../models/gguf-export.js';
export { syntheticVocab } from '../models/gguf-export.js';
export { transpose } from '../models/assemble.js';

/** llama.cpp token types (llama_token_type). */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

/** The llama2.c vocabulary in SentencePiece spelling. */
export function vocabFromTokenizer(tok: SentencePieceTokenizer): GgufVocab {
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

/** llama2.c layout → GGUF `llama` F32 or F16 (src/models/gguf-export.ts), the llama.cpp baseline's file. */
export function exportGguf(model: Model, vocab: GgufVocab, file: string, name: string, type: 'F32' | 'F16' = 'F32'): { bytes: number } {
  if (model.config.ffnKind !== 'swiglu') throw new Error(`GGUF export supports LLaMA (SwiGLU) models only, not ${model.config.ffnKind}`);
  // The shared classifier of llama2.c is written out as output.weight, as before.
  const untied = model.weights.classifier === model.weights.tokenEmbedding ? { ...model, weights: { ...model.weights, classifier: model.weights.tokenEmbedding.slice() } } : model;
  return writeModelGguf(untied, vocab, file, { name, architecture: 'llama', type });
}
