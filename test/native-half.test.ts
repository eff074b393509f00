// native-cpu-f16 / native-cpu-bf16: weight matrices stored as IEEE half / bfloat16,
// float32 accumulation. Half-precision values convert to float32 exactly and the
// kernels then run the float32 arithmetic, so each must equal native-cpu (float32) run
// on the weights rounded to that format — bit for bit. The rounding itself is checked
// against the conformance kit's own round-to-nearest-even (src/conformance/fp.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import { roundBf16, roundFp16 } from '../src/conformance/fp.js';
import type { Model } from '../src/core/model.js';
import { embeddedModelDir, goldenFile } from '../src/models/discovery.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { generate } from '../src/reference/generate.js';
import { griffinPolicy } from '../src/reference/policies/griffin.js';
import { Rng } from '../src/reference/random.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { ROOT } from './helpers.js';
import { checkPrefillLayer } from '../src/conformance/batched.js';
import { compareBlockPrefill, firstDiff, tailShapedModel } from './prefill-cases.js';

// The native addon is part of the tested build (npm ci compiles it; .ci/run installs g++):
// these tests fail, never skip, when it is missing.
const NATIVE_ADDON = path.join(ROOT, 'native/build/Release/tda_native_cpu.node');

it('the native addon is built (npm ci compiles it)', () => {
  expect(existsSync(NATIVE_ADDON), `${NATIVE_ADDON} is missing: run npm run build:native`).toBe(true);
});

const ROUND = { f16: roundFp16, bf16: roundBf16 } as const;

/** Values that reach every branch of a rounding: ties both ways, subnormals, overflow, zeros, NaN. */
function roundingCases(): Float32Array {
  const v: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, -70000, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, 1e-30, 3.4e38, NaN, Infinity, -Infinity];
  for (let k = -10; k <= 10; k++) {
    v.push(1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -9 + 2 ** -23); // half / bf16 ties and near-ties
    v.push(2 ** k * (1 + 2 ** -11), 2 ** k * (1 + 2 ** -8), -(2 ** k) * (1 + 3 * 2 ** -8));
  }
  const rng = new Rng(5);
  for (let i = 0; i < 4000; i++) v.push(rng.nextNormal() * 2 ** (rng.nextInt(60) - 40));
  return Float32Array.from(v);
}

/** A copy of `model` whose weight matrices (not the token-embedding lookup) are rounded. */
function roundedModel(model: Model, round: (x: number) => number): Model {
  const r = (a: Float32Array) => a.map(round);
  const w = model.weights;
  return {
    ...model,
    weights: {
      ...w,
      classifier: r(w.classifier),
      layers: w.layers.map((l) => ({
        ...l,
        wq: r(l.wq), wk: r(l.wk), wv: r(l.wv), wo: r(l.wo),
        ffn: { ...l.ffn, gate: l.ffn.gate && r(l.ffn.gate), up: r(l.ffn.up), downT: r(l.ffn.downT) },
      })),
    },
  };
}

describe('native-cpu half-precision weights', () => {
  for (const type of ['f16', 'bf16'] as const satisfies readonly WeightType[]) {
    describe(type, () => {
      const half = createNativeCpuBackend(type);
      const full = createNativeCpuBackend('f32');

      it('reports its precision and name', () => {
        expect(half.name).toBe(`native-cpu-${type}`);
        expect(half.info().precision).toBe(type === 'f16' ? 'fp16' : 'bf16');
      });

      it('rounds float32 weights to nearest, ties to even (as src/conformance/fp.ts)', () => {
        const vals = roundingCases();
        // Through matvec with a one-hot x: out[r] = w[r] exactly (one nonzero product).
        const rows = vals.length;
        const out = new Float32Array(rows);
        half.kernels.matvec(out, vals, new Float32Array([1]), rows, 1);
        for (let i = 0; i < rows; i++) {
          const want = Math.fround(ROUND[type](vals[i]));
          if (Number.isNaN(vals[i])) expect(out[i]).toBeNaN();
          // + 0: the dot product's sum of partials turns −0 into +0 (the sign of a zero weight is not stored)
          else expect(out[i] + 0, `w = ${vals[i]}`).toBe(want + 0);
        }
      });

      it('matvec, activations, down and sliced FFN equal float32 kernels on the rounded weights, bit for bit', () => {
        const m = syntheticModel({ dim: 84, hiddenDim: 203, nLayers: 1, nHeads: 6, vocabSize: 40, seqLen: 8, ffnKind: 'swiglu' }, 9);
        const r = roundedModel(m, ROUND[type]);
        const L = m.weights.layers[0];
        const R = r.weights.layers[0];
        const x = new Float32Array(84).map((_, i) => Math.sin(i * 1.3));
        const a1 = new Float32Array(203), a2 = new Float32Array(203);
        half.kernels.ffnActivations(a1, x, L.ffn, 'swiglu');
        full.kernels.ffnActivations(a2, x, R.ffn, 'swiglu');
        expect(firstDiff(a1, a2)).toBe(-1);
        const kept = Int32Array.from({ length: 203 }, (_, i) => i).filter((i) => i % 3 !== 1);
        for (const k of [null, kept]) {
          const o1 = new Float32Array(84), o2 = new Float32Array(84);
          half.kernels.ffnDown(o1, a1, L.ffn, k);
          full.kernels.ffnDown(o2, a2, R.ffn, k);
          expect(firstDiff(o1, o2)).toBe(-1);
          half.kernels.ffnSliced(o1, x, L.ffn, 'swiglu', k);
          full.kernels.ffnSliced(o2, x, R.ffn, 'swiglu', k);
          expect(firstDiff(o1, o2)).toBe(-1);
        }
        const q1 = new Float32Array(84), q2 = new Float32Array(84);
        half.kernels.matvec(q1, L.wq, x, 84, 84);
        full.kernels.matvec(q2, R.wq, x, 84, 84);
        expect(firstDiff(q1, q2)).toBe(-1);
      });

      // The batched prefill reads the same stored half-precision weights in the same
      // summation order as the per-token kernels, so the two prefills agree bit for bit.
      it('block prefill equals token-by-token prefill bit for bit (activations, Griffin masks, logits) for every FFN kind', () => {
        for (const dim of [84, 60])
          for (const kind of ['swiglu', 'geglu', 'relu', 'gelu'] as const)
            for (const block of [3, 64]) {
              const r = compareBlockPrefill(tailShapedModel(kind, dim), half.kernels, block);
              expect(r.diff, `${kind}, dim ${dim}, blocks of ${block}`).toBeNull();
              expect(r.observed).toBeGreaterThan(0);
            }
      });

      it('passes the exact conformance row kernel prefillLayer (residual stream, activations, K/V cache)', () => {
        expect(half.kernels.prefillLayer).toBeTypeOf('function');
        const ctx = { backend: half.name, device: 'cpu', precision: half.info().precision, seed: 11, runs: 40, quick: true, replay: 'tda conformance' };
        const row = checkPrefillLayer(half.kernels, ctx)!;
        expect(row.counterexample?.message).toBeUndefined();
        expect(row.verdict).toBe('pass');
      });

      it('generates (block prefill, Griffin masks, logits) exactly as float32 on the rounded weights, with the same KV cache type', () => {
        const model = loadCheckpoint(path.join(embeddedModelDir(), 'stories260K.bin'));
        const golden = JSON.parse(readFileSync(goldenFile(embeddedModelDir()), 'utf8')).cases[0] as { prompt_tokens: number[] };
        const run = (K: typeof half, mdl: Model) =>
          generate(mdl, { promptTokens: golden.prompt_tokens, steps: golden.prompt_tokens.length + 12, policy: griffinPolicy(mdl, 0.5), kernels: K.kernels, keepLogits: true, kvCache: half.kernels.kvCacheTypes?.[0] });
        const h = run(half, model);
        const f = run(full, roundedModel(model, ROUND[type]));
        expect(h.tokens).toEqual(f.tokens);
        h.logits!.forEach((l, i) => expect(firstDiff(l, f.logits![i])).toBe(-1));
        h.masks.forEach((mk, l) => expect(Array.from(mk!)).toEqual(Array.from(f.masks[l]!)));
      });
    });
  }
});
