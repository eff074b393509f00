// The scale benchmark's synthetic GGUF (src/models/gguf-synthetic.ts) at a reduced
// shape: it is a valid llama F16 file that the kit loads with the shape asked for,
// whose weights are the float16 table values it claims, and on which llama.cpp and
// the kit generate the same greedy tokens. (The full TinyLlama-1.1B shape is a
// `tda bench` item: load time, peak RSS and tokens/s are never asserted in tests.)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLlamaCpp } from '../src/bench/llama-cpp.js';
import { loadGguf, readGgufHeader } from '../src/models/gguf.js';
import { TINYLLAMA_SHAPE, writeSyntheticGguf } from '../src/models/gguf-synthetic.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';

describe('synthetic GGUF for the scale benchmark', () => {
  it('a reduced TinyLlama-like shape: valid F16 file, loads as asked, llama.cpp agrees on greedy tokens', async () => {
    const shape = { ...TINYLLAMA_SHAPE, dim: 64, hiddenDim: 176, nLayers: 2, nHeads: 8, nKvHeads: 1, vocabSize: 320, seqLen: 64 };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tda-scale-')), 'synthetic.gguf');
    const { bytes } = writeSyntheticGguf(file, shape, 3);
    expect(fs.statSync(file).size).toBe(bytes);
    const h = await readGgufHeader(file);
    expect(h.tensors.filter((t) => t.type === 1).length).toBe(2 + 7 * shape.nLayers); // every matrix F16
    const { model } = await loadGguf(file);
    expect(model.config).toMatchObject({ dim: 64, hiddenDim: 176, nLayers: 2, nHeads: 8, nKvHeads: 1, vocabSize: 320, seqLen: 64 });
    const e = model.weights.tokenEmbedding;
    expect(e.every((x) => Number.isFinite(x) && Math.abs(x) < 1)).toBe(true);
    const prompt = [1, 300, 5, 77];
    const kit = generate(model, { promptTokens: prompt, steps: 24, policy: densePolicy() });
    const lc = await runLlamaCpp({ modelPath: file, prompt, generate: kit.tokens.length, threads: 1, contextSize: 64, stopAt: [1] });
    expect(lc.tokens).toEqual(kit.tokens);
  }, 30_000);
});
