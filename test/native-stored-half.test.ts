// native-cpu-f16 / native-cpu-bf16 on an F16 / BF16 file loaded with keepHalf: the backend
// hands the addon the file's own 16-bit words (storedHalf) instead of converting the
// float32 widening again. Checked on the addon object itself: convertWeights is never
// called for those weights, the Uint16Array each kernel receives is the stored one, and
// the logits are bit for bit those of the conversion path (the words are the same, so the
// arithmetic is). A file of the other half type keeps nothing and is converted as before;
// the command's set-up asks for the words exactly when its backend can use them.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NATIVE_CPU_ADDON, createNativeCpuBackend, keepHalfFor } from '../src/backends/native-cpu/index.js';
import { vocabFromTokenizer } from '../src/bench/llama-export.js';
import { setUpMethodRun } from '../src/cli/options.js';
import { packageRoot } from '../src/core/package-root.js';
import { storedHalf } from '../src/core/model.js';
import { embeddedModelDir } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf } from '../src/models/gguf.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { type SentencePieceTokenizer, loadTokenizer } from '../src/models/tokenizer.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';

const dir = embeddedModelDir();
const base = loadCheckpoint(path.join(dir, 'stories260K.bin'));
const tok = loadTokenizer(path.join(dir, 'tok512.bin'), 512) as SentencePieceTokenizer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-native-stored-half-'));
// The same module object the backend loads (require caches it), so spies on it see the backend's calls.
const addon = createRequire(import.meta.url)(path.join(packageRoot(), NATIVE_CPU_ADDON)) as Record<string, (...a: unknown[]) => unknown>;
const prompt = tok.encode('Once upon a time, there was a little girl');

afterEach(() => vi.restoreAllMocks());

const file = (type: 'F16' | 'BF16') => {
  const f = path.join(tmp, `stories260K-${type}.gguf`);
  if (!fs.existsSync(f)) writeModelGguf(base, vocabFromTokenizer(tok), f, { name: 'stories260K', type });
  return f;
};

describe('F16 / BF16 words straight into native-cpu-f16 / -bf16', () => {
  for (const [type, wt] of [['F16', 'f16'], ['BF16', 'bf16']] as const) {
    it(`${type}: no conversion, the file's words reach the kernels, logits bit for bit those of the conversion path`, async () => {
      const f = file(type);
      const kept = (await loadGguf(f, { withTokenizer: false, keepHalf: keepHalfFor(`native-cpu-${wt}`) })).model;
      const plain = (await loadGguf(f, { withTokenizer: false })).model;
      const l0 = kept.weights.layers[0];
      expect(storedHalf(l0.wq)?.type).toBe(wt);
      expect(storedHalf(l0.ffn.downT)?.type).toBe(wt);

      const convert = vi.spyOn(addon, 'convertWeights');
      const matvec = vi.spyOn(addon, 'matvec');
      const ffnAct = vi.spyOn(addon, 'ffnActivations');
      const run = (m: typeof kept) =>
        generate(m, { promptTokens: prompt, steps: 40, policy: densePolicy(), kernels: createNativeCpuBackend(wt).kernels, keepLogits: true });
      const withWords = run(kept);
      expect(convert).not.toHaveBeenCalled();
      // The stored arrays themselves went in: Wq of layer 0 to matvec, downT of layer 0 to the FFN.
      expect(matvec.mock.calls.some((c) => c[1] === storedHalf(l0.wq)!.bits)).toBe(true);
      expect(ffnAct.mock.calls.some((c) => c[4] === storedHalf(l0.ffn.downT)!.bits)).toBe(true);

      const converted = run(plain);
      expect(convert).toHaveBeenCalled(); // no words kept: the backend converts, as before
      expect(withWords.tokens.length).toBeGreaterThan(16);
      expect(withWords.tokens).toEqual(converted.tokens);
      expect(withWords.logits!.map((l) => Array.from(l))).toEqual(converted.logits!.map((l) => Array.from(l)));
    }, 60_000);
  }

  it('a BF16 file keeps nothing for native-cpu-f16 (that backend converts it); the command asks only for its own type', async () => {
    const other = (await loadGguf(file('BF16'), { withTokenizer: false, keepHalf: keepHalfFor('native-cpu-f16') })).model;
    expect(storedHalf(other.weights.layers[0].wq)).toBeUndefined();
    expect(['native-cpu-f16', 'native-cpu-bf16', 'native-cpu', 'reference', undefined].map(keepHalfFor)).toEqual(['f16', 'bf16', false, false, false]);

    const forF16 = await setUpMethodRun({ model: file('F16'), backend: 'native-cpu-f16' });
    expect(storedHalf(forF16.model.weights.layers[0].wq)?.type).toBe('f16');
    expect(forF16.backend.name).toBe('native-cpu-f16');
    const forF32 = await setUpMethodRun({ model: file('F16'), backend: 'native-cpu' });
    expect(storedHalf(forF32.model.weights.layers[0].wq)).toBeUndefined();
  });
});
