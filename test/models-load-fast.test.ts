// The fast tensor reader (src/models/tensor-read.ts, dtypes.ts decodeInto) against
// straightforward ones written here from the formats' definitions:
// - every one of the 65536 float16 and bfloat16 bit patterns decodes to the bits the
//   scalar conversions (f16ToF32, bf16ToF32) give, NaN/Inf/subnormals included, and the
//   fused finite check flags exactly the Inf/NaN patterns;
// - whole files (GGUF F32/F16/BF16/Q8_0/Q4_0, safetensors F16/BF16 with unaligned data)
//   load byte for byte as an element-by-element decode plus a naive transpose of W_down,
//   on shapes that cross the reader's chunk (2^20 values) and band (32 rows) boundaries;
// - a non-finite value is reported at its true index in a later chunk or band;
// - Q4_K tensors (256-value blocks) read chunk by chunk and band by band equal a
//   whole-tensor decode (the block format itself: test/models-gguf.test.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../src/core/model.js';
import { UserError } from '../src/errors.js';
import { type DType, bf16ToF32, byteSize, decodeInto, decodeTensor, f16ToF32, f32ToF16 } from '../src/models/dtypes.js';
import { syntheticVocab, writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf, readGgufHeader } from '../src/models/gguf.js';
import { writeSyntheticGguf } from '../src/models/gguf-synthetic.js';
import { SafetensorsFile } from '../src/models/safetensors.js';
import { syntheticModel } from '../src/reference/synthetic.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-load-fast-'));
const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('half-precision decoding: all 65536 bit patterns', () => {
  const all = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
  const bytes = new Uint8Array(all.buffer);

  it('F16 by table lookup gives f16ToF32 bit for bit (NaN: NaN), and flags exactly Inf/NaN', () => {
    const out = new Float32Array(0x10000);
    expect(decodeInto('F16', bytes, out, 0, 0x10000)).toBe(0x7c00); // +Inf: the first all-ones exponent
    const got = new Uint32Array(out.buffer);
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const want = f16ToF32(h);
      if (Number.isNaN(want) ? !Number.isNaN(out[h]) : got[h] !== bitsOf(want)) wrong.push(h);
      // Each pattern alone after a finite one: flagged iff its exponent field is all ones.
      const flagged = decodeInto('F16', new Uint8Array(Uint16Array.of(0x3c00, h).buffer), new Float32Array(2), 0, 2);
      if (flagged !== (Number.isFinite(want) ? -1 : 1)) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    // Spot values written out by hand: smallest subnormal, largest subnormal, −0, 65504.
    expect([0x0001, 0x03ff, 0x8000, 0x7bff].map((h) => out[h])).toEqual([2 ** -24, 1023 * 2 ** -24, -0, 65504]);
  });

  it('BF16 by a shift gives bf16ToF32 bit for bit (payloads included), and flags exactly Inf/NaN', () => {
    const out = new Float32Array(0x10000);
    expect(decodeInto('BF16', bytes, out, 0, 0x10000)).toBe(0x7f80);
    const got = new Uint32Array(out.buffer);
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const want = bf16ToF32(h);
      if (got[h] !== h << 16 >>> 0 || (!Number.isNaN(want) && got[h] !== bitsOf(want))) wrong.push(h);
      const flagged = decodeInto('BF16', new Uint8Array(Uint16Array.of(0x3f80, h).buffer), new Float32Array(2), 0, 2);
      if (flagged !== (Number.isFinite(want) ? -1 : 1)) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });
});

/** Element-by-element decode, written from the formats' definitions (not the reader's code). */
function naiveDecode(type: DType, b: Buffer, n: number): Float32Array {
  if (type === 'F32') return Float32Array.from({ length: n }, (_, i) => b.readFloatLE(4 * i));
  if (type === 'F16') return Float32Array.from({ length: n }, (_, i) => f16ToF32(b.readUInt16LE(2 * i)));
  if (type === 'BF16') return Float32Array.from({ length: n }, (_, i) => bf16ToF32(b.readUInt16LE(2 * i)));
  return decodeTensor(type, b, n); // Q8_0/Q4_0 blocks: checked against hand-written blocks in models-gguf
}

function naiveTranspose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

// dim 64 (two bands of W_down's 64 rows), vocab 16500 × 64 = 1 056 000 values (two chunks).
const shape = { dim: 64, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 16500, seqLen: 32 };

describe('GGUF files load byte for byte as a naive decode', () => {
  const model = syntheticModel(shape, 11);
  for (const type of ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0'] as const) {
    it(`${type}: every tensor, W_down transposed`, async () => {
      const file = path.join(tmp, `m-${type}.gguf`);
      writeModelGguf(model, syntheticVocab(shape.vocabSize), file, { name: 'm', type });
      const { model: got } = await loadGguf(file, { withTokenizer: false });
      const h = await readGgufHeader(file);
      const raw = fs.readFileSync(file);
      const naive = (name: string): Float32Array => {
        const t = h.tensors.find((x) => x.name === name)!;
        const ty = (['F32', 'F16', 'Q4_0'] as const)[t.type] ?? ({ 8: 'Q8_0', 30: 'BF16' } as Record<number, DType>)[t.type];
        const n = t.ne.reduce((a, b) => a * b, 1);
        const start = h.dataOffset + t.offset;
        return naiveDecode(ty, raw.subarray(start, start + byteSize(ty, n)), n);
      };
      const same = (a: Float32Array, b: Float32Array) => expect(bytesOf(a).equals(bytesOf(b))).toBe(true);
      same(got.weights.tokenEmbedding, naive('token_embd.weight'));
      same(got.weights.rmsFinal, naive('output_norm.weight'));
      if (h.tensors.some((t) => t.name === 'output.weight')) same(got.weights.classifier, naive('output.weight'));
      else expect(got.weights.classifier).toBe(got.weights.tokenEmbedding);
      got.weights.layers.forEach((l, i) => {
        const p = `blk.${i}.`;
        for (const [w, name] of [[l.wq, 'attn_q'], [l.wk, 'attn_k'], [l.wv, 'attn_v'], [l.wo, 'attn_output'], [l.rmsAtt, 'attn_norm'], [l.rmsFfn, 'ffn_norm'], [l.ffn.gate!, 'ffn_gate'], [l.ffn.up, 'ffn_up']] as const) {
          same(w, naive(`${p}${name}.weight`));
        }
        same(l.ffn.downT, naiveTranspose(naive(`${p}ffn_down.weight`), shape.dim, shape.hiddenDim));
      });
    });
  }

  it('a NaN in a later chunk and in a later band of W_down is reported at its index', async () => {
    const at = 1_050_000; // second chunk of the embedding
    const withNaN = (m: Model, edit: (mm: Model) => void): Model => {
      const copy = structuredClone(m);
      edit(copy);
      return copy;
    };
    const a = withNaN(model, (m) => (m.weights.tokenEmbedding[at] = NaN));
    const fa = path.join(tmp, 'nan-embd.gguf');
    writeModelGguf(a, syntheticVocab(shape.vocabSize), fa, { name: 'm', type: 'F16' });
    await expect(loadGguf(fa)).rejects.toThrow(new UserError(`${fa}: tensor token_embd.weight has a non-finite value (NaN) at index ${at}`));
    // downT row 50 (neuron 50), column 40: W_down[40][50], in the second band of rows 32–63.
    const b = withNaN(model, (m) => (m.weights.layers[1].ffn.downT[50 * shape.dim + 40] = -Infinity));
    const fb = path.join(tmp, 'inf-down.gguf');
    writeModelGguf(b, syntheticVocab(shape.vocabSize), fb, { name: 'm', type: 'BF16' });
    await expect(loadGguf(fb)).rejects.toThrow(`tensor blk.1.ffn_down.weight has a non-finite value (-Infinity) at index ${40 * shape.hiddenDim + 50}`);
  });
});

describe('GGUF Q4_K (256-value blocks) through the chunked and banded reader', () => {
  it('every matrix equals a whole-tensor decode, W_down transposed', async () => {
    // vocab 4200 × dim 256 = 1 075 200 values: two chunks; W_down 256 × 512: eight bands.
    const q4k = { dim: 256, hiddenDim: 512, nLayers: 1, nHeads: 4, nKvHeads: 2, vocabSize: 4200, seqLen: 32 };
    const file = path.join(tmp, 'q4k.gguf');
    writeSyntheticGguf(file, q4k, 9, 'Q4_K');
    const { model: got } = await loadGguf(file, { withTokenizer: false });
    const h = await readGgufHeader(file);
    const raw = fs.readFileSync(file);
    const whole = (name: string): Float32Array => {
      const t = h.tensors.find((x) => x.name === name)!;
      expect(t.type).toBe(12); // GGML_TYPE_Q4_K
      const n = t.ne.reduce((a, b) => a * b, 1);
      const start = h.dataOffset + t.offset;
      return decodeTensor('Q4_K', raw.subarray(start, start + byteSize('Q4_K', n)), n);
    };
    const same = (a: Float32Array, b: Float32Array) => expect(bytesOf(a).equals(bytesOf(b))).toBe(true);
    same(got.weights.tokenEmbedding, whole('token_embd.weight'));
    same(got.weights.classifier, whole('output.weight'));
    const l = got.weights.layers[0];
    for (const [w, name] of [[l.wq, 'attn_q'], [l.wk, 'attn_k'], [l.wv, 'attn_v'], [l.wo, 'attn_output'], [l.ffn.gate!, 'ffn_gate'], [l.ffn.up, 'ffn_up']] as const) same(w, whole(`blk.0.${name}.weight`));
    same(l.ffn.downT, naiveTranspose(whole('blk.0.ffn_down.weight'), q4k.dim, q4k.hiddenDim));
    expect(l.wq.some((x) => x !== 0)).toBe(true);
  });
});

describe('safetensors with data at an odd offset load byte for byte as a naive decode', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    it(dtype, () => {
      const rows = 70;
      const cols = 24_000; // 1 680 000 values: two chunks; bands of 32 rows don't divide 70
      const words = Uint16Array.from({ length: rows * cols }, (_, i) => (dtype === 'F16' ? f32ToF16(Math.sin(i) * 3) : (Math.imul(i, 2654435761) >>> 16) & 0x7f7f));
      const data = Buffer.from(words.buffer);
      let json = JSON.stringify({ w: { dtype, shape: [rows, cols], data_offsets: [0, data.length] } });
      if (json.length % 2 === 0) json += ' '; // 8 + odd length: the data starts at an odd byte
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      const file = path.join(tmp, `odd-${dtype}.safetensors`);
      fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), data]));
      const st = SafetensorsFile.open(file);
      try {
        expect(st.entries.get('w')!.begin % 2).toBe(1);
        const naive = naiveDecode(dtype, data, rows * cols);
        expect(bytesOf(st.read('w', [rows, cols])).equals(bytesOf(naive))).toBe(true);
        expect(bytesOf(st.readTransposed('w', [rows, cols])).equals(bytesOf(naiveTranspose(naive, rows, cols)))).toBe(true);
      } finally {
        st.close();
      }
    });
  }
});
