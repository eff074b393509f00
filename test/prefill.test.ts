// Batched prefill (src/reference/prefill.ts, Kernels.prefillLayer): a prompt prefilled
// in blocks must give exactly what token-by-token prefill gives — every activation the
// policy is shown, the masks, the logits and the tokens — so TDA and Griffin choose the
// same neurons whichever way the prompt went through the model.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNativeCpuBackend } from '../src/backends/native-cpu/index.js';
import { UserError } from '../src/errors.js';
import { Decoder } from '../src/reference/decoder.js';
import { downColumnNorms } from '../src/reference/ffn.js';
import { generate } from '../src/reference/generate.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { TdaStatistic, tdaPolicy } from '../src/reference/policies/tda.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { prefillPrompt, referencePrefillLayer } from '../src/reference/prefill.js';
import { checkPrefillLayer } from '../src/conformance/batched.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { embeddedModelDir, goldenFile } from '../src/models/discovery.js';
import type { Model } from '../src/core/model.js';
import { type GoldenCase, ROOT, runNode } from './helpers.js';
import { compareBlockPrefill, recording, tailShapedModel } from './prefill-cases.js';

// The embedded stories260K and llama2.c's golden output that ship in assets/.
let model260K: Model | undefined;
const stories = () => ({ model: (model260K ??= loadCheckpoint(path.join(embeddedModelDir(), 'stories260K.bin'))) });
const goldenCases = (): GoldenCase[] => JSON.parse(readFileSync(goldenFile(embeddedModelDir()), 'utf8')).cases;

// The native addon is part of the tested build (npm ci compiles it; .ci/run installs g++):
// these tests fail, never skip, when it is missing.
const NATIVE_ADDON = path.join(ROOT, 'native/build/Release/tda_native_cpu.node');

it('the native addon is built (npm ci compiles it)', () => {
  expect(existsSync(NATIVE_ADDON), `${NATIVE_ADDON} is missing: run npm run build:native`).toBe(true);
});

describe('block prefill on the reference kernels', () => {
  it('equals token-by-token prefill bit for bit on stories260K (blocks of 4, last block partial, and one block)', () => {
    const { model } = stories();
    const prompt = goldenCases()[0].prompt_tokens;
    expect(prompt.length % 4).not.toBe(0);
    for (const block of [4, 64]) {
      const r = compareBlockPrefill(model, referenceKernels, block, prompt);
      expect(r.diff).toBeNull();
      expect(r.observed).toBe(prompt.length * model.config.nLayers);
    }
  });

  it('keeps a neuron whose TDA statistic ties the threshold exactly, in both prefills (tie rule: s_i ≥ τ is kept)', () => {
    const { model } = stories();
    const c = model.config;
    const prompt = goldenCases()[0].prompt_tokens;
    // The statistics of token-by-token prefill, from its recorded activations.
    const rec = recording(densePolicy(), c.nLayers);
    generate(model, { promptTokens: prompt, steps: prompt.length, policy: rec.policy, prefillBlock: 1 });
    const taus = rec.seen.map((acts, l) => {
      const s = new TdaStatistic(downColumnNorms(model.weights.layers[l].ffn, c.dim));
      acts.forEach((a) => s.add(a));
      const v = [...s.values()].sort((x, y) => x - y);
      return v[Math.floor(v.length / 2)]; // a value some neuron has: that neuron ties τ
    });
    const masksOf = (prefillBlock: number) =>
      generate(model, { promptTokens: prompt, steps: prompt.length + 1, policy: tdaPolicy(model, taus), prefillBlock }).masks;
    const tok = masksOf(1);
    const blk = masksOf(5);
    for (let l = 0; l < c.nLayers; l++) {
      expect(Array.from(blk[l]!)).toEqual(Array.from(tok[l]!));
      expect(tok[l]!.length).toBeGreaterThanOrEqual(Math.ceil(c.hiddenDim / 2)); // the median neuron and all above it
    }
  });

  it('rejects a block size that is not a positive integer with a one-line error', () => {
    const { model } = stories();
    expect(() => prefillPrompt(new Decoder(model), [1, 2], densePolicy(), 0)).toThrow(UserError);
    expect(() => prefillPrompt(new Decoder(model), [1, 2], densePolicy(), 2.5)).toThrow(/positive integer/);
  });
});

describe('native-cpu prefillLayer', () => {
  const kernels = () => createNativeCpuBackend().kernels;

  it('equals its own token-by-token prefill bit for bit on stories260K', () => {
    const { model } = stories();
    const r = compareBlockPrefill(model, kernels(), 4, goldenCases()[0].prompt_tokens);
    expect(r.diff).toBeNull();
  });

  it('equals token-by-token prefill bit for bit at tail shapes, for every FFN kind and block size', () => {
    for (const kind of ['swiglu', 'geglu', 'relu', 'gelu'] as const) {
      for (const block of [3, 8, 64]) {
        const r = compareBlockPrefill(tailShapedModel(kind), kernels(), block);
        expect(r.diff, `${kind}, blocks of ${block}`).toBeNull();
      }
    }
  });

  it('generates run.c\'s golden greedy tokens with block prefill', () => {
    const { model } = stories();
    for (const g of goldenCases()) {
      const r = generate(model, { promptTokens: g.prompt_tokens, steps: g.steps, policy: densePolicy(), kernels: kernels() });
      expect(r.tokens).toEqual(g.greedy_tokens);
    }
  });

  it('equals token-by-token prefill on the portable (scalar) loops too', async () => {
    const child = path.join(ROOT, 'test/prefill-scalar.child.ts');
    const res = await runNode(['--import', 'tsx', child], { TDA_NATIVE_ISA: 'scalar' });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as { mode: string; results: { kind: string; diff: string | null; observed: number }[] };
    expect(out.mode).toBe('scalar');
    for (const r of out.results) {
      expect(r.diff, r.kind).toBeNull();
      expect(r.observed).toBeGreaterThan(0);
    }
  });
});

describe('conformance check of prefillLayer (src/conformance/batched.ts)', () => {
  const ctx = { backend: 'x', device: 'cpu', precision: 'fp32' as const, seed: 7, runs: 15, quick: true, replay: 'tda conformance' };

  it('is not applicable to kernels without prefillLayer', () => {
    expect(checkPrefillLayer(referenceKernels, ctx)).toBeNull();
  });

  it('passes the reference composition and fails one that is off by one ulp in one activation', () => {
    const good = { ...referenceKernels, prefillLayer: referencePrefillLayer };
    expect(checkPrefillLayer(good, ctx)?.verdict).toBe('pass');
    const bad = {
      ...referenceKernels,
      prefillLayer: (...args: Parameters<typeof referencePrefillLayer>) => {
        referencePrefillLayer(...args);
        const a = args[1];
        const i = a.length - 1;
        a[i] = a[i] === 0 ? 1e-45 : a[i] * (1 + 2 ** -23);
      },
    };
    const row = checkPrefillLayer(bad, ctx)!;
    expect(row.verdict).toBe('fail');
    expect(row.counterexample?.message).toMatch(/^a /);
  });

  it('passes for native-cpu', () => {
    const row = checkPrefillLayer(createNativeCpuBackend().kernels, { ...ctx, backend: 'native-cpu' })!;
    expect(row.notes).toBeUndefined();
    expect(row.verdict).toBe('pass');
    expect(row.cases).toBeGreaterThanOrEqual(15);
  });
});
