// LLaMA-3.1 RoPE scaling (`rope_scaling.rope_type = "llama3"`, GGUF `rope_freqs.weight`):
// the per-pair factor rule of transformers' _compute_llama3_parameters on hand-computed
// lanes, the kernel with every factor 1 equal to plain RoPE bit for bit, llama.cpp
// (node-llama-cpp, the outside oracle) generating the kit's greedy tokens on a GGUF of
// stories260K's weights with a non-trivial table (tokens that differ from the unscaled
// model's), a Hugging Face folder with the same scaling giving the GGUF's tokens, the
// batched prefill of native-cpu never rotating without the table, and every other
// scaling type refused in one line.
//
// node-llama-cpp is installed by `npm run bench:setup`; without it the oracle test fails
// with that instruction, it is never skipped.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../src/core/model.js';
import { runLlamaCpp } from '../src/bench/llama-cpp.js';
import { vocabFromTokenizer } from '../src/bench/llama-export.js';
import { createNativeCpuBackend } from '../src/backends/native-cpu/index.js';
import { embeddedModelDir } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { str } from '../src/models/gguf-writer.js';
import { loadGguf } from '../src/models/gguf.js';
import { loadHfFolder } from '../src/models/hf-folder.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { toHalvesModel } from '../src/models/rope-layout.js';
import { llama3RopeFactors } from '../src/models/rope-scaling.js';
import { loadTokenizer, type SentencePieceTokenizer } from '../src/models/tokenizer.js';
import { UserError } from '../src/errors.js';
import { generate } from '../src/reference/generate.js';
import { rope, ropeHalves, ropeWithFreqs } from '../src/reference/math.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { Rng } from '../src/reference/random.js';
import { runCli } from './helpers.js';
import { asArchitecture } from './fixtures/arch-models.js';
import { llamaFamilyConfig, llamaFamilyTensors, writeHfFolder } from './fixtures/write-hf.js';

const dir = embeddedModelDir();
const base = loadCheckpoint(path.join(dir, 'stories260K.bin'));
const tok = loadTokenizer(path.join(dir, 'tok512.bin'), 512) as SentencePieceTokenizer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-rope-scaling-'));

// stories260K's heads are 8 wide (4 pairs, θ 10000: wavelengths 2π · 1, 10, 100, 1000).
// With original_max_position_embeddings 64 the thresholds are 64 (low) and 16 (high):
// pair 0 stays, pair 1 (62.8) is interpolated, pairs 2 and 3 are divided by 8 — the
// table changes the greedy tokens within the first 10 (asserted below).
const SCALING = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 };
const HF_SCALING = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
// llama.cpp computes RoPE angles and dot products in float32 (the kit: float64, rounded
// once), so where the kit's two best logits lie closer than this the greedy choice may
// flip: tokens are compared up to the first such near-tie. Measured on these weights:
// the only disagreements seen (other prompts, other factors) were at gaps of 0.011 and
// 0.013, with logits of size ~10; 0.05 leaves room for a few times that.
const NEAR_TIE = 0.05;
const factors = llama3RopeFactors(8, 10000, SCALING);
const scaled: Model = { ...base, config: { ...base.config, ropeFreqFactors: factors } };
const prompts = ['Once upon a time', 'Tom and his dog went to the beach', 'The little bird was sad because'].map((p) => tok.encode(p));
const STEPS = 64; // prompt included; llama.cpp's context of 128 holds it

function randomVec(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.nextNormal());
}

describe('the llama3 factor rule and the kernel', () => {
  it('factors follow _compute_llama3_parameters lane by lane (hand-computed)', () => {
    // Head width 8, θ 10000: inv_freq = 1, 0.1, 0.01, 0.001; wavelengths 2π/inv_freq.
    // old 1024, low_freq_factor 1, high_freq_factor 4: low_wl 1024, high_wl 256.
    const f = llama3RopeFactors(8, 10000, { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 1024 });
    const s = (1024 / (2 * Math.PI * 100) - 1) / (4 - 1); // pair 2: wavelength 628.3, between the thresholds
    expect(Array.from(f)).toEqual([1, 1, Math.fround(1 / ((1 - s) / 8 + s)), 8]);
    // The interpolated factor lies strictly between "unchanged" and "divided by factor".
    expect(f[2]).toBeGreaterThan(1);
    expect(f[2]).toBeLessThan(8);
    // At the two thresholds the smooth rule meets the flat ones: s = 0 gives factor, s = 1 gives 1.
    const at = (old: number) => llama3RopeFactors(8, 10000, { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: old });
    expect(at(2 * Math.PI * 100)[2]).toBe(8); // wavelength = low_wl exactly: s = 0
    expect(at(4 * 2 * Math.PI * 100)[2]).toBe(1); // wavelength = high_wl exactly: s = 1
    // The stories260K table used below: pair 0 kept, pair 1 interpolated, pairs 2–3 divided by 8.
    expect(factors[0]).toBe(1);
    expect(factors[1]).toBeGreaterThan(1);
    expect(factors[1]).toBeLessThan(8);
    expect([factors[2], factors[3]]).toEqual([8, 8]);
  });

  it('with every factor 1 the kernel equals rope (pairs) and ropeHalves bit for bit; a factor f turns pair j by angle/f', () => {
    const rng = new Rng(7);
    for (const hs of [8, 64, 128]) {
      const ones = new Float32Array(hs / 2).fill(1);
      for (const pos of [0, 1, 17, 4095]) {
        const v = randomVec(rng, 3 * hs);
        const [a, b, c, d] = [Float32Array.from(v), Float32Array.from(v), Float32Array.from(v), Float32Array.from(v)];
        rope(a, pos, hs, 500000);
        ropeWithFreqs(b, pos, hs, 500000, ones, 'pairs');
        ropeHalves(c, pos, hs, 500000);
        ropeWithFreqs(d, pos, hs, 500000, ones, 'halves');
        expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
        expect(Buffer.from(d.buffer).equals(Buffer.from(c.buffer))).toBe(true);
      }
    }
    // One pair by hand: head width 2 (one pair, frequency 1), factor 4 at position 2 turns (1, 0) by 0.5 rad.
    const v = Float32Array.of(1, 0);
    ropeWithFreqs(v, 2, 2, 10000, Float32Array.of(4), 'pairs');
    expect(Array.from(v)).toEqual([Math.fround(Math.cos(0.5)), Math.fround(Math.sin(0.5))]);
    // Halves pairs lane j with j + h/2: the same rotation, other lanes.
    const w = Float32Array.of(1, 0, 0, 0);
    ropeWithFreqs(w, 2, 4, 10000, Float32Array.of(4, 1), 'halves');
    expect(Array.from(w)).toEqual([Math.fround(Math.cos(0.5)), 0, Math.fround(Math.sin(0.5)), 0]);
  });
});

describe('LLaMA-3.1 scaling against llama.cpp and across formats', () => {
  const gguf = path.join(tmp, 'stories260K-llama3-rope.gguf');
  writeModelGguf(scaled, vocabFromTokenizer(tok), gguf, { name: 'stories260K-llama3-rope', architecture: 'llama', type: 'F32' });

  it('the GGUF reads back the table; the kit\'s greedy tokens are llama.cpp\'s and differ from the unscaled model\'s', async () => {
    const { model } = await loadGguf(gguf);
    expect(Array.from(model.config.ropeFreqFactors!)).toEqual(Array.from(factors));
    for (const prompt of prompts) {
      await new Promise(setImmediate); // one prompt per synchronous stretch
      const kit = generate(model, { promptTokens: prompt, steps: STEPS, policy: densePolicy(), keepLogits: true });
      const plain = generate(base, { promptTokens: prompt, steps: STEPS, policy: densePolicy() });
      const firstDiff = kit.tokens.findIndex((t, i) => t !== plain.tokens[i]);
      expect(firstDiff).toBeGreaterThanOrEqual(0); // the table matters: a loader or kernel ignoring it fails below
      expect(firstDiff).toBeLessThan(16);
      const lc = await runLlamaCpp({ modelPath: gguf, prompt, generate: kit.tokens.length, threads: 1, contextSize: 128, stopAt: [1] });
      const gap = (l: Float32Array) => {
        const [a, b] = Array.from(l).sort((x, y) => y - x);
        return a - b;
      };
      const tie = kit.logits!.findIndex((l) => gap(l) < NEAR_TIE);
      const n = tie < 0 ? kit.tokens.length : tie; // tokens 0 … n−1 were chosen by a clear margin
      expect(n).toBeGreaterThan(firstDiff + 8); // the compared stretch reaches well past where scaling changed the text
      expect(lc.tokens.slice(0, n)).toEqual(kit.tokens.slice(0, n));
    }
  }, 120_000);

  it('a Hugging Face folder with rope_scaling llama3 gives the GGUF file\'s tokens (its table computed from config.json)', async () => {
    const halves = toHalvesModel(base);
    const hf = writeHfFolder(path.join(tmp, 'hf-llama3'), { ...llamaFamilyConfig(halves, 'llama'), rope_scaling: HF_SCALING }, llamaFamilyTensors(halves, 'llama'));
    const fromHf = loadHfFolder(hf);
    const { model: fromGguf } = await loadGguf(gguf);
    expect(Array.from(fromHf.config.ropeFreqFactors!)).toEqual(Array.from(fromGguf.config.ropeFreqFactors!));
    for (const prompt of prompts) {
      await new Promise(setImmediate);
      const a = generate(fromHf, { promptTokens: prompt, steps: STEPS, policy: densePolicy(), keepLogits: true });
      const b = generate(fromGguf, { promptTokens: prompt, steps: STEPS, policy: densePolicy(), keepLogits: true });
      expect(a.tokens).toEqual(b.tokens);
      // Same arithmetic on permuted rows: only the float64 summation order of attention
      // scores differs, each rounded once to float32; 1e-4 is the README's logit tolerance
      // against llama2.c (measured ≤ 1e-5 here).
      const maxDiff = Math.max(...a.logits!.flatMap((l, i) => Array.from(l, (x, k) => Math.abs(x - b.logits![i][k]))));
      expect(maxDiff).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('native-cpu never prefills with a rope or layer the model does not have: batched = token by token, bit for bit', () => {
    const K = createNativeCpuBackend().kernels;
    expect(K.prefillLayer).toBeDefined();
    // A table (pairs and rotate-half), rotate-half alone, and Qwen2 (rotate-half, q/k/v biases) and Gemma (√dim embedding scale).
    for (const model of [scaled, toHalvesModel(scaled), toHalvesModel(base), asArchitecture(base, 'qwen2'), asArchitecture(base, 'gemma')]) {
      const prompt = tok.encode('Tom and his dog went to the beach and saw a big fish');
      const blocked = generate(model, { promptTokens: prompt, steps: prompt.length + 4, policy: densePolicy(), kernels: K, keepLogits: true });
      const single = generate(model, { promptTokens: prompt, steps: prompt.length + 4, policy: densePolicy(), kernels: K, keepLogits: true, prefillBlock: 1 });
      expect(blocked.logits!.map((l) => Array.from(l))).toEqual(single.logits!.map((l) => Array.from(l)));
      const ref = generate(model, { promptTokens: prompt, steps: prompt.length + 4, policy: densePolicy() });
      expect(blocked.tokens).toEqual(ref.tokens);
    }
  });
});

describe('other RoPE scaling types are refused in one line', () => {
  const cfg = llamaFamilyConfig(toHalvesModel(base), 'llama');
  const tensors = llamaFamilyTensors(toHalvesModel(base), 'llama');
  const cases: [string, unknown, RegExp][] = [
    ['linear', { type: 'linear', factor: 2 }, /config\.json: rope_scaling type "linear" is not supported/],
    ['dynamic', { rope_type: 'dynamic', factor: 2 }, /rope_scaling type "dynamic" is not supported/],
    ['yarn', { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 }, /rope_scaling type "yarn" is not supported/],
    ['longrope', { rope_type: 'longrope', long_factor: [1], short_factor: [1] }, /rope_scaling type "longrope" is not supported/],
    ['llama3 without low_freq_factor', { ...HF_SCALING, low_freq_factor: undefined }, /config\.json: rope_scaling\.low_freq_factor=null must be a positive number/],
    ['llama3 with high ≤ low', { ...HF_SCALING, high_freq_factor: 1 }, /rope_scaling\.high_freq_factor=1 must exceed low_freq_factor=1/],
  ];
  for (const [name, scaling, want] of cases) {
    it(`HF config.json: ${name}`, () => {
      const folder = writeHfFolder(path.join(tmp, `hf-${name.replace(/\W+/g, '-')}`), { ...cfg, rope_scaling: scaling }, tensors);
      const err = (() => {
        try {
          loadHfFolder(folder);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).message).toMatch(want);
      expect((err as UserError).message).toContain(path.join(folder, 'config.json'));
      expect((err as UserError).message).not.toContain('\n');
    });
  }

  it('tda generate on a folder with rope_scaling yarn: exit code 2, one line naming config.json and the field', async () => {
    const folder = writeHfFolder(path.join(tmp, 'hf-cli-yarn'), { ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 } }, tensors);
    const r = await runCli(['generate', '--model', folder, '--tokenizer', path.join(dir, 'tok512.bin'), '--prompt', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${path.join(folder, 'config.json')}: rope_scaling type "yarn" is not supported`);
  }, 60_000);

  it('GGUF: a rope.scaling.type (linear, yarn) names the key; a non-positive factor in rope_freqs.weight is refused', async () => {
    for (const type of ['linear', 'yarn']) {
      const file = path.join(tmp, `scaling-${type}.gguf`);
      writeModelGguf(base, vocabFromTokenizer(tok), file, { name: 'x', metadata: [['llama.rope.scaling.type', str(type)]] });
      const err = await loadGguf(file).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toBe(`${file}: metadata llama.rope.scaling.type=${type}: RoPE scaling of this type is not supported (only LLaMA-3.1's rope_freqs.weight)`);
    }
    const bad = path.join(tmp, 'bad-factors.gguf');
    writeModelGguf({ ...base, config: { ...base.config, ropeFreqFactors: Float32Array.of(1, 0, 2, 2) } }, vocabFromTokenizer(tok), bad, { name: 'x' });
    await expect(loadGguf(bad)).rejects.toThrow(`${bad}: tensor rope_freqs.weight: entry 1 is 0, RoPE frequency factors must be finite and positive`);
  });
});
