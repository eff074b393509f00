// The tokenizer contract, and llama2.c's BPE tokenizer (tokenizer.bin format, run.c
// `encode` / `decode`), which is also the SentencePiece-with-scores tokenizer of GGUF's
// `llama` vocabulary (same merge rule: the adjacent pair with the highest score, the
// leftmost on ties; same byte fallback through <0xXX> pieces).
//
// File: int32 max_token_length, then for each of vocab_size tokens:
//   float32 merge score, int32 byte length, the token's bytes.
// Encoding (run.c): optional BOS=1; a dummy-prefix " " token when the text is not
// empty; each UTF-8 code point looked up as a token, unknown ones fall back to
// one token per byte (<0xXX> has id byte + 3); then repeatedly merge the adjacent
// pair whose concatenation is a token with the highest score.
// Decoding: a piece after BOS loses its leading space; "<0xXX>" pieces are the raw
// byte; lone non-printable bytes are dropped (run.c safe_printf).

import fs from 'node:fs';
import { UserError, describeError } from '../errors.js';

/** llama2.c's (and LLaMA-2's SentencePiece) begin/end-of-sequence ids. */
export const BOS = 1;
export const EOS = 2;

/** What every command needs from a tokenizer, whatever file it came from. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** Begin-of-sequence id put in front of prompts (-1: the model has none). */
  readonly bos: number;
  readonly eos: number;
  /** Token ids of `text`; BOS first unless bos: false, EOS last if eos: true. */
  encode(text: string, opts?: { bos?: boolean; eos?: boolean }): number[];
  /** Text of `tokens` as it continues after the token `prev` (BOS when omitted). */
  decode(tokens: number[], prev?: number): string;
}

export interface SentencePieceSpecials {
  bos: number;
  eos: number;
  /** Adds the dummy-prefix space before non-empty text (SentencePiece add_dummy_prefix). Default true. */
  addSpacePrefix?: boolean;
}

export class SentencePieceTokenizer implements Tokenizer {
  readonly vocab: Uint8Array[];
  readonly scores: Float32Array;
  readonly bos: number;
  readonly eos: number;
  private readonly addSpacePrefix: boolean;
  private readonly lookup = new Map<string, number>(); // latin1 key of the bytes → id
  private readonly byteIds = new Int32Array(256); // id of the <0xXX> piece of each byte

  constructor(
    vocab: Uint8Array[],
    scores: Float32Array,
    readonly maxTokenLength: number,
    specials: SentencePieceSpecials = { bos: BOS, eos: EOS },
  ) {
    this.vocab = vocab;
    this.scores = scores;
    this.bos = specials.bos;
    this.eos = specials.eos;
    this.addSpacePrefix = specials.addSpacePrefix ?? true;
    // First occurrence wins, like a stable search over the sorted vocabulary.
    vocab.forEach((bytes, id) => {
      const key = Buffer.from(bytes).toString('latin1');
      if (!this.lookup.has(key)) this.lookup.set(key, id);
    });
    // run.c assumes <0xXX> = id XX + 3; look the pieces up instead, so other vocabularies work too.
    for (let b = 0; b < 256; b++) {
      const id = this.lookup.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      this.byteIds[b] = id ?? b + 3;
    }
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  private idOf(bytes: Uint8Array | number[]): number {
    return this.lookup.get(Buffer.from(bytes).toString('latin1')) ?? -1;
  }

  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const tokens: number[] = [];
    if ((opts.bos ?? true) && this.bos >= 0) tokens.push(this.bos);
    const utf8 = Buffer.from(text, 'utf8');
    if (utf8.length > 0 && this.addSpacePrefix) {
      const space = this.idOf([0x20]);
      if (space >= 0) tokens.push(space);
    }
    // One token per UTF-8 code point (at most 4 bytes), or per byte when unknown.
    let start = 0;
    while (start < utf8.length) {
      let end = start + 1;
      while (end < utf8.length && (utf8[end] & 0xc0) === 0x80 && end - start < 4) end++;
      const cp = utf8.subarray(start, end);
      const id = this.idOf(cp);
      if (id >= 0) tokens.push(id);
      else for (const b of cp) tokens.push(this.byteIds[b]);
      start = end;
    }
    // Greedy merges by score (run.c: strictly greater score wins, first pair on ties).
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i + 1 < tokens.length; i++) {
        const merged = Buffer.concat([this.vocab[tokens[i]], this.vocab[tokens[i + 1]]]);
        const id = this.idOf(merged);
        if (id >= 0 && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    if (opts.eos) tokens.push(this.eos);
    return tokens;
  }

  /** Bytes printed for `token` following `prev` (run.c decode + safe_printf). */
  decodePiece(prev: number, token: number): Uint8Array {
    let piece = this.vocab[token];
    if (prev === this.bos && piece[0] === 0x20) piece = piece.subarray(1);
    const text = Buffer.from(piece).toString('latin1');
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
    if (m) piece = Uint8Array.of(parseInt(m[1], 16));
    if (piece.length === 1) {
      const b = piece[0];
      const printable = b >= 0x20 && b < 0x7f;
      const space = b === 0x20 || (b >= 0x09 && b <= 0x0d);
      if (!printable && !space && b < 0x80) return new Uint8Array(0);
    }
    return piece;
  }

  /** Text of `tokens`, each decoded after its predecessor (the first after `prev`). */
  decode(tokens: number[], prev: number = this.bos): string {
    const parts: Uint8Array[] = [];
    for (const t of tokens) {
      parts.push(this.decodePiece(prev, t));
      prev = t;
    }
    return Buffer.concat(parts).toString('utf8');
  }
}

export function loadTokenizer(file: string, expectedVocabSize?: number): SentencePieceTokenizer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read tokenizer ${file}: ${describeError(e)}`);
  }
  return parseTokenizer(bytes, file, expectedVocabSize);
}

/**
 * Parses tokenizer bytes. The format does not store the vocabulary size, so the
 * whole file is read as entries; when the model's vocab size is given the counts
 * must agree exactly (a tokenizer of another model is refused, not truncated).
 */
export function parseTokenizer(bytes: Uint8Array, name = 'tokenizer', expectedVocabSize?: number): SentencePieceTokenizer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new UserError(`${name}: ${bytes.length} bytes is too short for a tokenizer header`);
  const maxTokenLength = view.getInt32(0, true);
  if (!(maxTokenLength >= 1 && maxTokenLength <= 1024)) {
    throw new UserError(`${name}: impossible max_token_length ${maxTokenLength}`);
  }
  const vocab: Uint8Array[] = [];
  const scores: number[] = [];
  let off = 4;
  while (off < bytes.length) {
    const id = vocab.length;
    if (off + 8 > bytes.length) throw new UserError(`${name}: truncated at token ${id} (byte ${off})`);
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    if (!Number.isFinite(score)) throw new UserError(`${name}: token ${id} has a non-finite score`);
    if (len < 0 || len > maxTokenLength) {
      throw new UserError(`${name}: token ${id} has length ${len}, outside 0..max_token_length=${maxTokenLength}`);
    }
    if (off + 8 + len > bytes.length) throw new UserError(`${name}: truncated inside token ${id}`);
    vocab.push(bytes.slice(off + 8, off + 8 + len));
    scores.push(score);
    off += 8 + len;
    if (expectedVocabSize !== undefined && vocab.length > expectedVocabSize) break;
  }
  if (expectedVocabSize !== undefined && vocab.length !== expectedVocabSize) {
    throw new UserError(
      `${name}: holds ${vocab.length}${off < bytes.length ? '+' : ''} tokens but the model's vocabulary has ${expectedVocabSize}`,
    );
  }
  if (vocab.length < 3 + 256) {
    throw new UserError(`${name}: ${vocab.length} tokens cannot hold BOS/EOS and the 256 byte-fallback tokens`);
  }
  return new SentencePieceTokenizer(vocab, Float32Array.from(scores), maxTokenLength);
}
