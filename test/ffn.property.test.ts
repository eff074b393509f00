// Properties of the FFN as a sum of neuron outputs (TDA paper Appendix E, Eq 17–19).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ffnActivations, ffnDown, ffnSliced, neuronOutput } from '../src/reference/ffn.js';
import { Rng } from '../src/reference/random.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { keptList, seed, smallShape } from './arbitraries.js';

function randomInput(dim: number, s: number): Float32Array {
  const rng = new Rng(s);
  return Float32Array.from({ length: dim }, () => 3 * rng.nextNormal());
}

describe('FFN = Σ neuron outputs (Eq 19)', () => {
  it('ffnDown over all neurons equals the sum of Eq 18 neuron outputs', () => {
    fc.assert(
      fc.property(smallShape(), seed(), (shape, s) => {
        const m = syntheticModel(shape, s);
        const { dim, hiddenDim, ffnKind } = m.config;
        const ffn = m.weights.layers[0].ffn;
        const x = randomInput(dim, s + 1);
        const a = new Float32Array(hiddenDim);
        ffnActivations(a, x, ffn, ffnKind);
        const y = new Float32Array(dim);
        ffnDown(y, a, ffn, null);
        // Σ_i n_i in float64, plus the bias, rounded once.
        const sum = new Float64Array(dim);
        const absSum = new Float64Array(dim);
        for (let i = 0; i < hiddenDim; i++) {
          const n = neuronOutput(a, ffn, i, dim);
          for (let j = 0; j < dim; j++) {
            sum[j] += n[j];
            absSum[j] += Math.abs(n[j]);
          }
        }
        for (let j = 0; j < dim; j++) {
          const expected = sum[j] + (ffn.downBias ? ffn.downBias[j] : 0);
          // Both sides accumulate in float64 (order differs only by the bias add);
          // the stored float32 result is off by at most one rounding, u = 2^-24, of |y|,
          // plus float64 reassociation ~ hiddenDim · 2^-53 · Σ|n_i|.
          const tol = 2 ** -24 * Math.abs(expected) + hiddenDim * 2 ** -52 * (absSum[j] + 1) + 1e-30;
          expect(Math.abs(y[j] - expected)).toBeLessThanOrEqual(tol);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the sliced FFN equals the masked dense FFN bit for bit', () => {
    fc.assert(
      fc.property(
        smallShape().chain((shape) => fc.tuple(fc.constant(shape), seed(), keptList(shape.hiddenDim))),
        ([shape, s, kept]) => {
          const m = syntheticModel(shape, s);
          const { dim, hiddenDim, ffnKind } = m.config;
          const ffn = m.weights.layers[0].ffn;
          const x = randomInput(dim, s + 2);
          const a = new Float32Array(hiddenDim);
          ffnActivations(a, x, ffn, ffnKind);
          // Masked dense: zero the dropped activations, then the full down projection.
          const masked = new Float32Array(hiddenDim);
          for (const i of kept) masked[i] = a[i];
          const dense = new Float32Array(dim);
          ffnDown(dense, masked, ffn, null);
          const sliced = new Float32Array(dim);
          ffnSliced(sliced, x, ffn, ffnKind, kept);
          expect(Array.from(sliced)).toEqual(Array.from(dense));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a bug in the neuron sum is caught: dropping one neuron changes the output', () => {
    // Guards the property above against being vacuous: the comparison is sensitive.
    const m = syntheticModel({ dim: 8, hiddenDim: 12, nLayers: 1, nHeads: 2, vocabSize: 4, seqLen: 4 }, 7);
    const ffn = m.weights.layers[0].ffn;
    const x = randomInput(8, 3);
    const all = new Float32Array(8);
    const most = new Float32Array(8);
    ffnSliced(all, x, ffn, 'swiglu', null);
    ffnSliced(most, x, ffn, 'swiglu', Int32Array.from({ length: 11 }, (_, i) => i));
    expect(Array.from(most)).not.toEqual(Array.from(all));
  });
});
