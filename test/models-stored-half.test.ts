// Keeping an F16/BF16 file's own 16-bit words beside the float32 weights (loader option
// keepHalf, read back with storedHalf from src/core/model.ts): the words are exactly the
// file's (W_down's transposed as downT is), rounding the float32 values back gives them
// again (so a half-precision backend using them computes what it computes after its own
// conversion), nothing is kept unless asked or for other types, and the model record
// stays plain data.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LayerWeights, type Model, storedHalf } from '../src/core/model.js';
import { f32ToBf16, f32ToF16 } from '../src/models/dtypes.js';
import { syntheticVocab, writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf, readGgufHeader } from '../src/models/gguf.js';
import { loadHfFolder } from '../src/models/hf-folder.js';
import { SafetensorsFile } from '../src/models/safetensors.js';
import { toHalvesModel } from '../src/models/rope-layout.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { llamaFamilyConfig, llamaFamilyTensors, writeHfFolder } from './fixtures/write-hf.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-stored-half-'));
const shape = { dim: 64, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 32 };
const model = syntheticModel(shape, 5);

const matrices = (l: LayerWeights) => ({ wq: l.wq, wk: l.wk, wv: l.wv, wo: l.wo, gate: l.ffn.gate!, up: l.ffn.up, downT: l.ffn.downT });

function transposeWords(w: Uint16Array, rows: number, cols: number): Uint16Array {
  const t = new Uint16Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

describe('GGUF F16/BF16 loaded with keepHalf', () => {
  for (const [type, round] of [['F16', f32ToF16], ['BF16', f32ToBf16]] as const) {
    it(`${type}: the file's words, W_down's transposed, and they round-trip from the float32 values`, async () => {
      const file = path.join(tmp, `m-${type}.gguf`);
      writeModelGguf(model, syntheticVocab(shape.vocabSize), file, { name: 'm', type });
      const { model: m } = await loadGguf(file, { withTokenizer: false, keepHalf: true });
      const h = await readGgufHeader(file);
      const raw = fs.readFileSync(file);
      const fileWords = (name: string) => {
        const t = h.tensors.find((x) => x.name === name)!;
        const n = t.ne.reduce((a, b) => a * b, 1);
        return Uint16Array.from({ length: n }, (_, i) => raw.readUInt16LE(h.dataOffset + t.offset + 2 * i));
      };
      const names = { wq: 'attn_q', wk: 'attn_k', wv: 'attn_v', wo: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', downT: 'ffn_down' };
      m.weights.layers.forEach((l, i) => {
        for (const [k, w] of Object.entries(matrices(l))) {
          const s = storedHalf(w);
          expect(s?.type).toBe(type.toLowerCase());
          const words = fileWords(`blk.${i}.${names[k as keyof typeof names]}.weight`);
          expect(Buffer.from(s!.bits.buffer).equals(Buffer.from((k === 'downT' ? transposeWords(words, shape.dim, shape.hiddenDim) : words).buffer))).toBe(true);
          expect(Array.from(w, round)).toEqual(Array.from(s!.bits));
        }
      });
      expect(Array.from(storedHalf(m.weights.tokenEmbedding)!.bits)).toEqual(Array.from(fileWords('token_embd.weight')));
    });
  }

  it('nothing is kept without keepHalf, nor for F32 files; the record stays plain data; a replaced array has no words', async () => {
    const f16 = path.join(tmp, 'm-F16.gguf');
    if (!fs.existsSync(f16)) writeModelGguf(model, syntheticVocab(shape.vocabSize), f16, { name: 'm', type: 'F16' });
    const plain = (await loadGguf(f16, { withTokenizer: false })).model;
    expect(Object.values(matrices(plain.weights.layers[0])).map(storedHalf)).toEqual(Array(7).fill(undefined));
    const f32 = path.join(tmp, 'm-F32.gguf');
    writeModelGguf(model, syntheticVocab(shape.vocabSize), f32, { name: 'm', type: 'F32' });
    const full = (await loadGguf(f32, { withTokenizer: false, keepHalf: true })).model;
    expect(Object.values(matrices(full.weights.layers[0])).map(storedHalf)).toEqual(Array(7).fill(undefined));

    const kept = (await loadGguf(f16, { withTokenizer: false, keepHalf: true })).model;
    const clone: Model = structuredClone(kept);
    expect(clone.weights.layers[0].wq).toEqual(kept.weights.layers[0].wq);
    const halves = toHalvesModel(kept); // permutes q/k rows into new arrays, keeps v as it is
    expect(storedHalf(halves.weights.layers[0].wq)).toBeUndefined();
    expect(storedHalf(halves.weights.layers[0].wv)).toBe(storedHalf(kept.weights.layers[0].wv));
  });
});

describe('Hugging Face folder (safetensors BF16) loaded with keepHalf', () => {
  it('keeps the stored words of every matrix, down_proj transposed', () => {
    const m = toHalvesModel(model);
    const dir = path.join(tmp, 'hf');
    fs.mkdirSync(dir, { recursive: true });
    writeHfFolder(dir, llamaFamilyConfig(m, 'llama'), llamaFamilyTensors(m, 'llama'), { dtype: 'BF16' });
    const got = loadHfFolder(dir, { keepHalf: true });
    for (const [k, w] of Object.entries(matrices(got.weights.layers[1]))) {
      const s = storedHalf(w);
      expect([k, s?.type]).toEqual([k, 'bf16']);
      expect(Array.from(w, f32ToBf16)).toEqual(Array.from(s!.bits));
    }
    // downT's words are the file's down_proj words transposed (row i: neuron i's output direction).
    const st = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    const e = st.entries.get('model.layers.1.mlp.down_proj.weight')!;
    st.close();
    const raw = fs.readFileSync(path.join(dir, 'model.safetensors')).subarray(e.begin, e.end);
    const words = Uint16Array.from({ length: raw.length / 2 }, (_, i) => raw.readUInt16LE(2 * i));
    expect(Array.from(storedHalf(got.weights.layers[1].ffn.downT)!.bits)).toEqual(Array.from(transposeWords(words, shape.dim, shape.hiddenDim)));
  });
});
