// Tokenizers of every format against outside oracles:
// - tokenizer.json (run by @huggingface/tokenizers), converted from tok512 as
//   transformers' LlamaConverter does, encodes like llama2.c's run.c (the golden
//   prompt tokens, and a property test);
// - GGUF's byte-level BPE vocabulary (`tokenizer.ggml.model = gpt2`) encodes like
//   llama.cpp's own tokenizer on the same file, for the LLaMA-3 and Qwen2
//   pre-tokenizers (node-llama-cpp must be installed: `npm run bench:setup`).

import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BENCH_DEPS } from '../src/bench/llama-cpp.js';
import { embeddedModelDir, loadModelFiles } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf } from '../src/models/gguf.js';
import { loadTokenizerJson } from '../src/models/hf-tokenizer.js';
import { loadTokenizer } from '../src/models/tokenizer.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { byteLevelVocab, spmTokenizerJson } from './fixtures/tokenizer-json.js';

const dir = embeddedModelDir();
const tok = loadTokenizer(path.join(dir, 'tok512.bin'), 512);
const golden = JSON.parse(fs.readFileSync(path.join(dir, 'stories260K-greedy.json'), 'utf8')).cases as { prompt: string; prompt_tokens: number[] }[];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-models-tok-'));

describe('tokenizer.json (LlamaConverter layout of tok512) against run.c', () => {
  const { json, config } = spmTokenizerJson(tok);
  fs.writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(tmp, 'tokenizer_config.json'), JSON.stringify(config));
  const hf = loadTokenizerJson(path.join(tmp, 'tokenizer.json'), path.join(tmp, 'tokenizer_config.json'));

  it('golden prompts encode to llama2.c prompt tokens; BOS/EOS from tokenizer_config.json', () => {
    expect([hf.bos, hf.eos, hf.vocabSize]).toEqual([1, 2, 512]);
    for (const g of golden) expect(hf.encode(g.prompt)).toEqual(g.prompt_tokens);
  });

  it('encode equals run.c and decode inverts it on printable ASCII text', () => {
    const text = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(text, (t) => {
        const ids = hf.encode(t);
        expect(ids).toEqual(tok.encode(t));
        expect(hf.decode(ids.slice(1))).toBe(t);
      }),
      { numRuns: 200 },
    );
  });

  it('--tokenizer tokenizer.json overrides a llama2.c model', async () => {
    const { tokenizer } = await loadModelFiles({ model: path.join(dir, 'stories260K.bin'), tokenizer: path.join(tmp, 'tokenizer.json') });
    expect(tokenizer.encode('Once upon a time')).toEqual(tok.encode('Once upon a time'));
  });
});

describe('GGUF byte-level BPE vocabulary against llama.cpp', () => {
  const corpus = 'Once upon a time, there was a little girl named Lily. She liked to play outside in the sun with her dog 123 times.';
  const v = byteLevelVocab(corpus, 60);
  const texts = ['Once upon a time', " she's here", 'Numbers 1234567 and 3.14!', 'line\nbreak\n\n  spaced   out', 'héllo wörld — 中文 😀', "I'LL DO IT, isn't it"];
  for (const pre of ['llama-bpe', 'qwen2']) {
    it(`pre-tokenizer ${pre}: kit ids equal llama.cpp's`, async () => {
      const m = syntheticModel({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, vocabSize: v.tokens.length, seqLen: 32 }, 4);
      const file = path.join(tmp, `bpe-${pre}.gguf`);
      const bos = v.tokens.length - 2;
      writeModelGguf(m, { tokens: v.tokens, scores: new Float32Array(v.tokens.length), types: Int32Array.from(v.types), bpe: { merges: v.merges, pre, bos, eos: bos + 1 } }, file, { name: 'bpe' });
      const { tokenizer } = await loadGguf(file);
      const entry = path.join(BENCH_DEPS, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
      if (!fs.existsSync(entry)) throw new Error('node-llama-cpp is not installed: run `npm run bench:setup`');
      const lib = await import(pathToFileURL(entry).href);
      const llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: lib.LlamaLogLevel.error, progressLogs: false });
      try {
        const model = await llama.loadModel({ modelPath: file, gpuLayers: 0, vocabOnly: true });
        try {
          for (const t of texts) {
            expect(tokenizer!.encode(t, { bos: false })).toEqual(Array.from(model.tokenize(t), Number));
            expect(tokenizer!.decode(tokenizer!.encode(t, { bos: false }), -1)).toBe(t);
          }
          expect(tokenizer!.encode('hi')[0]).toBe(bos);
        } finally {
          await model.dispose();
        }
      } finally {
        await llama.dispose();
      }
    }, 30_000);
  }
});
