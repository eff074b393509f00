// The methods at their "keep everything" settings are exactly Dense, and at other
// settings do what their definitions say (masks, kept counts, op counts).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generate } from '../src/reference/generate.js';
import type { Model } from '../src/core/model.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { GriffinScore, griffinPolicy, topK } from '../src/reference/policies/griffin.js';
import { TdaStatistic, tdaMask, tdaPolicy } from '../src/reference/policies/tda.js';
import { ttPolicy } from '../src/reference/policies/tt.js';
import type { FfnPolicy } from '../src/reference/policies/types.js';
import { downColumnNorms } from '../src/reference/ffn.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { seed, smallShape } from './arbitraries.js';
import { stories } from './helpers.js';

function run(model: Model, policy: FfnPolicy, promptTokens: number[], steps: number) {
  return generate(model, { promptTokens, steps, policy, keepLogits: true });
}

function expectIdentical(a: ReturnType<typeof run>, b: ReturnType<typeof run>) {
  expect(a.tokens).toEqual(b.tokens);
  expect(a.logits!.map((l) => Array.from(l))).toEqual(b.logits!.map((l) => Array.from(l)));
}

describe('keep-everything settings are exactly Dense', () => {
  it('on random small models of every FFN kind', () => {
    fc.assert(
      fc.property(smallShape(), seed(), fc.integer({ min: 1, max: 5 }), (shape, s, promptLen) => {
        const m = syntheticModel(shape, s);
        const prompt = Array.from({ length: promptLen }, (_, i) => (s + 3 * i) % m.config.vocabSize);
        const zeros = new Array(m.config.nLayers).fill(0);
        const dense = run(m, densePolicy(), prompt, 12);
        expectIdentical(run(m, ttPolicy(m, zeros), prompt, 12), dense);
        expectIdentical(run(m, griffinPolicy(m, 1), prompt, 12), dense);
        expectIdentical(run(m, tdaPolicy(m, zeros), prompt, 12), dense);
      }),
      { numRuns: 40 },
    );
  });

  it('on stories260K', () => {
    const { model, tokenizer } = stories();
    const prompt = tokenizer.encode('Tom and his dog went to the beach');
    const zeros = new Array(model.config.nLayers).fill(0);
    const dense = run(model, densePolicy(), prompt, 64);
    expectIdentical(run(model, ttPolicy(model, zeros), prompt, 64), dense);
    expectIdentical(run(model, griffinPolicy(model, 1), prompt, 64), dense);
    expectIdentical(run(model, tdaPolicy(model, zeros), prompt, 64), dense);
  });

  it('a non-trivial threshold does change the output (the comparison is not vacuous)', () => {
    const { model, tokenizer } = stories();
    const prompt = tokenizer.encode('Tom and his dog went to the beach');
    const dense = run(model, densePolicy(), prompt, 64);
    const sparse = run(model, tdaPolicy(model, new Array(model.config.nLayers).fill(0.08)), prompt, 64);
    expect(sparse.logits!.map((l) => Array.from(l))).not.toEqual(dense.logits!.map((l) => Array.from(l)));
  });
});

describe('masks follow their definitions', () => {
  it('Griffin keeps round(density·d_ff) neurons in every layer, the top-k of its score', () => {
    const { model, tokenizer } = stories();
    const prompt = tokenizer.encode('The little bird was sad because');
    for (const density of [0.1, 0.33, 0.5, 0.9]) {
      const r = run(model, griffinPolicy(model, density), prompt, prompt.length + 3);
      const k = Math.round(density * model.config.hiddenDim);
      for (const m of r.masks) expect(m!.length).toBe(k);
      r.layers.forEach((l) => expect(l.kept).toBe(k));
    }
  });

  it('topK breaks ties by lower id and returns ascending ids', () => {
    expect(Array.from(topK([1, 3, 3, 2, 3], 2))).toEqual([1, 2]);
    expect(Array.from(topK([0, 0, 0], 1))).toEqual([0]);
  });

  it('Griffin score: sqrt(Σ_t (a_t,i/‖a_t‖)²) on a hand-computed case', () => {
    const s = new GriffinScore(2);
    s.add(Float32Array.of(3, 4)); // z = (0.6, 0.8)
    s.add(Float32Array.of(0, 2)); // z = (0, 1)
    s.add(Float32Array.of(0, 0)); // ignored
    const v = s.scores();
    expect(v[0]).toBeCloseTo(0.6, 12);
    expect(v[1]).toBeCloseTo(Math.sqrt(0.64 + 1), 12);
  });

  it('TDA statistic: RMS over tokens of Eq-18 magnitudes normalised per token (hand-computed)', () => {
    const stat = new TdaStatistic(Float64Array.of(1, 2));
    stat.add(Float32Array.of(3, 2)); // m = (3, 4), r = (0.6, 0.8)
    stat.add(Float32Array.of(-1, 0)); // m = (1, 0), r = (1, 0)
    const v = stat.values();
    expect(v[0]).toBeCloseTo(Math.sqrt((0.36 + 1) / 2), 12);
    expect(v[1]).toBeCloseTo(Math.sqrt(0.64 / 2), 12);
    // Tie rule: a statistic equal to τ is kept.
    expect(Array.from(tdaMask(v, v[1]))).toEqual([0, 1]);
    expect(Array.from(tdaMask(v, v[0]))).toEqual([0]);
  });

  it('TT keeps exactly {i : |a_i|·‖W_down[:,i]‖ ≥ τ} per token (ties kept)', () => {
    fc.assert(
      fc.property(seed(), fc.double({ min: 0, max: 2, noNaN: true }), (s, tau) => {
        const m = syntheticModel({ dim: 8, hiddenDim: 16, nLayers: 1, nHeads: 2, vocabSize: 5, seqLen: 4 }, s);
        const policy = ttPolicy(m, [tau]);
        const norms = downColumnNorms(m.weights.layers[0].ffn, 8);
        const a = Float32Array.from({ length: 16 }, (_, i) => Math.sin(s + i) * 2);
        a[3] = tau / norms[3]; // a magnitude within rounding of the threshold
        const kept = policy.selectForToken(0, a);
        const expected = Array.from({ length: 16 }, (_, i) => i).filter((i) => Math.abs(a[i]) * norms[i] >= tau);
        expect(kept ? Array.from(kept) : Array.from({ length: 16 }, (_, i) => i)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('op and byte counts per generated token', () => {
  it('TT computes gate/up in full (only down shrinks); TDA and Griffin shrink all three', () => {
    const { model, tokenizer } = stories();
    const prompt = tokenizer.encode('Once upon a time');
    const { dim, hiddenDim, nLayers } = model.config;
    const dense = run(model, densePolicy(), prompt, 40).cost;
    expect(dense.ffnMacs).toBe(3 * dim * hiddenDim * nLayers);
    const tt = run(model, ttPolicy(model, new Array(nLayers).fill(0.1)), prompt, 40);
    const keptMean = tt.layers.reduce((s, l) => s + l.kept, 0);
    expect(tt.cost.ffnMacs).toBeCloseTo(2 * dim * hiddenDim * nLayers + dim * keptMean, 6);
    expect(tt.cost.ffnMacs).toBeGreaterThan((2 / 3) * dense.ffnMacs);
    expect(tt.cost.decisionOps).toBe(hiddenDim * nLayers);
    const g = run(model, griffinPolicy(model, 0.5), prompt, 40);
    expect(g.cost.ffnMacs).toBe(3 * dim * 86 * nLayers);
    expect(g.cost.ffnWeightBytes).toBe(4 * g.cost.ffnMacs);
  });
});
