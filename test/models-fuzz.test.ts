// Fuzzing the GGUF and safetensors loaders: 1000 corrupted GGUF headers and 1000
// corrupted safetensors headers (bit flips, 64-bit fields overwritten, JSON
// punctuation swapped in, truncations). Each must end in a valid load — then a
// forward pass gives finite logits — or in a one-line UserError; never another
// exception, a hang, an allocation beyond the file's size, or NaN logits. The files
// are tiny so the 2000 loads take seconds.

import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticVocab } from '../src/bench/llama-export.js';
import { UserError } from '../src/errors.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf, readGgufHeader } from '../src/models/gguf.js';
import { loadHfFolder } from '../src/models/hf-folder.js';
import type { Model } from '../src/core/model.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { applyHeader, headerMutations } from './fixtures/mutations.js';
import { llamaFamilyConfig, llamaFamilyTensors, safetensorsBytes } from './fixtures/write-hf.js';
import { toHalvesModel } from '../src/models/rope-layout.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-models-fuzz-'));
const tiny = syntheticModel({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: 260, seqLen: 16 }, 5);

function finiteForward(m: Model): void {
  const r = generate(m, { promptTokens: [1], steps: 3, policy: densePolicy(), keepLogits: true });
  expect(r.logits!.every((l) => l.every(Number.isFinite))).toBe(true);
}

function expectCleanError(e: unknown): 'error' {
  if (!(e instanceof UserError)) throw e; // anything else is a loader bug: shown with its stack
  expect(e.message).not.toMatch(/\n/);
  return 'error';
}

describe('fuzzed GGUF and safetensors loaders', () => {
  it('1000 corrupted GGUF headers: valid load or clear error', async () => {
    const good = path.join(tmp, 'good.gguf');
    writeModelGguf(tiny, syntheticVocab(260), good, { name: 'tiny', type: 'F16' });
    const bytes = new Uint8Array(fs.readFileSync(good));
    const headerBytes = (await readGgufHeader(good)).dataOffset;
    const file = path.join(tmp, 'fuzzed.gguf');
    const seen = { error: 0, loaded: 0 };
    await fc.assert(
      fc.asyncProperty(headerMutations(bytes.length, headerBytes), async (ms) => {
        fs.writeFileSync(file, applyHeader(bytes, ms));
        try {
          const { model, tokenizer } = await loadGguf(file);
          finiteForward(model);
          expect(tokenizer!.encode('t5 t9').every((id) => id >= 0 && id < model.config.vocabSize)).toBe(true);
          seen.loaded++;
        } catch (e) {
          seen[expectCleanError(e)]++;
        }
      }),
      { numRuns: 1000, seed: 20261202 },
    );
    expect(seen.error).toBeGreaterThan(100);
    expect(seen.loaded).toBeGreaterThan(50);
  }, 120_000);

  it('1000 corrupted safetensors headers: valid load or clear error', () => {
    const m = toHalvesModel(tiny);
    const dir = path.join(tmp, 'hf');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(llamaFamilyConfig(m, 'llama')));
    const bytes = new Uint8Array(safetensorsBytes(llamaFamilyTensors(m, 'llama'), 'BF16'));
    const headerBytes = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const file = path.join(dir, 'model.safetensors');
    const seen = { error: 0, loaded: 0 };
    fc.assert(
      fc.property(headerMutations(bytes.length, headerBytes), (ms) => {
        fs.writeFileSync(file, applyHeader(bytes, ms));
        try {
          finiteForward(loadHfFolder(dir));
          seen.loaded++;
        } catch (e) {
          seen[expectCleanError(e)]++;
        }
      }),
      { numRuns: 1000, seed: 20261203 },
    );
    // A JSON header survives few byte edits (most break the syntax or an offset): valid loads are rarer here.
    expect(seen.error).toBeGreaterThan(100);
    expect(seen.loaded).toBeGreaterThan(10);
  }, 120_000);
});
