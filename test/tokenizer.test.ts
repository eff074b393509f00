// The llama2.c tokenizer: round trips, and the byte fallback.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOS, SentencePieceTokenizer } from '../src/models/tokenizer.js';
import { stories } from './helpers.js';

// Printable text: what run.c prints back unchanged (its safe_printf drops lone
// control bytes other than whitespace, so those cannot round-trip by design).
const printable = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\n', '\t', 'é', 'ß', '中', '😀', 'Ω', '—'),
  ),
  maxLength: 60,
});

describe('tokenizer', () => {
  it('decode(encode(text)) = text for printable text, including unknown code points (byte fallback)', () => {
    const { tokenizer } = stories();
    fc.assert(
      fc.property(printable, (text) => {
        const ids = tokenizer.encode(text);
        expect(ids[0]).toBe(BOS);
        expect(tokenizer.decode(ids.slice(1), BOS)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('an unknown code point falls back to one <0xXX> token per UTF-8 byte', () => {
    const { tokenizer } = stories();
    const ids = tokenizer.encode('中', { bos: false });
    // " " dummy prefix, then E4 B8 AD as byte tokens (id = byte + 3), possibly merged with the space.
    const bytes = ids.flatMap((id) => {
      const piece = Buffer.from(tokenizer.vocab[id]).toString('latin1');
      const m = /^<0x([0-9A-F]{2})>$/.exec(piece);
      return m ? [parseInt(m[1], 16)] : [...tokenizer.vocab[id]];
    });
    expect(Buffer.from(bytes).toString('utf8')).toBe(' 中');
    expect(ids.slice(-3)).toEqual([0xe4 + 3, 0xb8 + 3, 0xad + 3]);
  });

  it('empty text is BOS alone; EOS is appended on request', () => {
    const { tokenizer } = stories();
    expect(tokenizer.encode('')).toEqual([BOS]);
    expect(tokenizer.encode('', { eos: true })).toEqual([BOS, 2]);
  });
});

describe('SentencePiece tokenizer on other vocabularies (GGUF llama)', () => {
  it('byte fallback looks <0xXX> pieces up wherever they sit, and specials come from the file', () => {
    // specials at 0..2, then the pieces "a", " ", " a", then the 256 byte pieces.
    const pieces = ['<unk>', '<s>', '</s>', 'a', ' ', ' a', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)];
    const t = new SentencePieceTokenizer(pieces.map((p) => new Uint8Array(Buffer.from(p))), Float32Array.from(pieces, (_, i) => (i === 5 ? 1 : 0)), 8, { bos: 1, eos: 2 });
    expect(t.encode('a')).toEqual([1, 5]); // " a" merged
    expect(t.encode('é', { bos: false })).toEqual([4, 6 + 0xc3, 6 + 0xa9]);
    expect(t.decode([5, 6 + 0xc3, 6 + 0xa9])).toBe('aé');
    const noPrefix = new SentencePieceTokenizer(t.vocab, t.scores, 8, { bos: -1, eos: 2, addSpacePrefix: false });
    expect(noPrefix.encode('a')).toEqual([3]);
  });
});
