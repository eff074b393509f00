// The machinery of the real-model claims (claim-4, table-5, eq-17-20, table-3, table-4)
// on cases with known answers. The verdicts themselves are covered by spec-verdicts.test.ts.

import { describe, expect, it } from 'vitest';
import { Rng } from '../src/proofs/rng.js';
import {
  cosine,
  expectedRandomJaccard,
  jaccard,
  meanPairwiseJaccard,
  similarityMatrix,
  topColumnMassShare,
  topFractionJaccard,
  topKAbs,
  welchDiffCI,
} from '../src/proofs/patterns.js';
import { directCett, eq19Residual, recordingKernels, type FfnCall } from '../src/proofs/ffn-identity.js';
import { calibrationCurves, thresholdsForDensity } from '../src/proofs/quality.js';
import { calibrate, collectActivations, layerUnits } from '../src/reference/calibrate.js';
import { cettCurve } from '../src/reference/cett.js';
import { downColumnNorms, ffnActivations, neuronOutput } from '../src/reference/ffn.js';
import type { FfnWeights } from '../src/core/model.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { OBSERVATIONS, judgeObservation } from '../spec/table-5-similarity.js';

const shape = { dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 32, seqLen: 64, ffnKind: 'swiglu' as const };

describe('activation-pattern measures', () => {
  it('topKAbs picks the largest magnitudes, ties by lower id', () => {
    expect(Array.from(topKAbs([0.1, -5, 3, 3, 0], 3))).toEqual([1, 2, 3]);
    expect(Array.from(topKAbs([1, 1, 1, 1], 2))).toEqual([0, 1]);
  });

  it('jaccard on known sets', () => {
    expect(jaccard(Int32Array.from([1, 2, 3]), Int32Array.from([2, 3, 4]))).toBeCloseTo(2 / 4, 12);
    expect(jaccard(Int32Array.from([1]), Int32Array.from([2]))).toBe(0);
  });

  it('concentration is 1 for perfect vertical lines and s/(2k−s) for a known shared core', () => {
    const n = 50;
    const k = 10;
    const shared = 4;
    // every row: columns 0..3 strong (the shared core) + 6 columns of its own
    const rows = Array.from({ length: 5 }, (_, r) => {
      const v = new Float64Array(n).fill(0.01);
      for (let i = 0; i < shared; i++) v[i] = 10 + i;
      for (let j = 0; j < k - shared; j++) v[shared + r * (k - shared) + j] = 5;
      return v.map((x) => x * (r + 1)); // per-row scale must not matter
    });
    expect(meanPairwiseJaccard(rows, k)).toBeCloseTo(shared / (2 * k - shared), 12);
    const same = Array.from({ length: 4 }, (_, r) => Float64Array.from({ length: n }, (_, i) => (i < k ? (r + 1) * 3 : 0.5)));
    expect(meanPairwiseJaccard(same, k)).toBe(1);
    // a mostly-shared pattern scores above an independent one: the measure can tell them apart
    expect(meanPairwiseJaccard(same, k)).toBeGreaterThan(meanPairwiseJaccard(rows, k));
  });

  it('independent random rows give the exact hypergeometric expectation', () => {
    expect(expectedRandomJaccard(10, 10)).toBe(1);
    expect(expectedRandomJaccard(4, 1)).toBeCloseTo(0.25, 12); // P(same item) = 1/4
    const rng = new Rng(7);
    const n = 172;
    const k = 17;
    const rows = Array.from({ length: 60 }, () => Float64Array.from({ length: n }, () => rng.uniform()));
    const e = expectedRandomJaccard(n, k);
    expect(meanPairwiseJaccard(rows, k)).toBeGreaterThan(e * 0.8);
    expect(meanPairwiseJaccard(rows, k)).toBeLessThan(e * 1.2);
  });

  it('top-column mass share: all mass in k columns → 1; uniform → k/n', () => {
    const conc = [Float64Array.from([1, 2, 0, 0]), Float64Array.from([3, 1, 0, 0])];
    expect(topColumnMassShare(conc, 2)).toBeCloseTo(1, 12);
    const uni = [Float64Array.from([1, 1, 1, 1])];
    expect(topColumnMassShare(uni, 1)).toBeCloseTo(0.25, 12);
  });

  it('similarity matrices are symmetric with unit diagonal', () => {
    const rng = new Rng(3);
    const pats = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => Float64Array.from({ length: 20 }, () => rng.normal())));
    for (const S of [similarityMatrix(pats, (a, b) => topFractionJaccard(a, b, 0.5)), similarityMatrix(pats, (a, b) => cosine(a[0], b[0]))]) {
      for (let i = 0; i < 6; i++) {
        expect(S[i][i]).toBeCloseTo(1, 12);
        for (let j = 0; j < 6; j++) expect(S[i][j]).toBe(S[j][i]);
      }
    }
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([1, 2], [-2, -4])).toBeCloseTo(-1, 12);
  });

  it('Welch interval: a clear shift is resolved, equal groups are not', () => {
    const a = [1.0, 1.1, 0.9, 1.05, 0.95];
    const b = [0.0, 0.1, -0.1, 0.05, -0.05];
    const d = welchDiffCI(a, b);
    expect(d.diff).toBeCloseTo(1, 12);
    expect(d.lo).toBeGreaterThan(0.8);
    const e = welchDiffCI(a, a);
    expect(e.lo).toBeLessThan(0);
    expect(e.hi).toBeGreaterThan(0);
  });
});

describe('table-5 observations', () => {
  it('are judged from the matrix entries they name and can fail', () => {
    // A matrix where every sample is most similar to its own index neighbour: a) requires S(4,1) > S(4,2), S(4,3).
    const n = 13;
    const S = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 1 / (1 + Math.abs(i - j)))));
    const a = OBSERVATIONS.find((o) => o.id === 'a')!;
    expect(judgeObservation(a, S).holds).toBe(false); // S(4,3) > S(4,1) here
    S[3][0] = S[0][3] = 0.99; // make 4 closest to 1; 6 and 9 too
    S[5][0] = S[0][5] = 0.99;
    S[8][0] = S[0][8] = 0.99;
    expect(judgeObservation(a, S).holds).toBe(true);
    const e = OBSERVATIONS.find((o) => o.id === 'e')!;
    expect(judgeObservation(e, S).holds).toBe(false); // S(10,11) > S(10,13)
  });
});

describe('Eq 17–20 machinery', () => {
  const model = syntheticModel(shape, 11);
  const ffn = model.weights.layers[0].ffn;
  const dim = shape.dim;
  const rng = new Rng(5);
  const x = Float32Array.from({ length: dim }, () => rng.normal());
  const a = new Float32Array(shape.hiddenDim);
  ffnActivations(a, x, ffn, 'swiglu');

  it('Eq 19 identity holds for the reference neuron output within half an ulp', () => {
    expect(eq19Residual(a, ffn, dim)).toBeLessThanOrEqual(1);
  });

  it('Eq 19 identity fails for a deliberately wrong neuron output', () => {
    const wrongRow = (aa: Float32Array, f: FfnWeights, i: number, d: number) => {
      const v = new Float64Array(d);
      for (let j = 0; j < d; j++) v[j] = aa[i] * f.up[i * d + j]; // up row instead of down column
      return v;
    };
    const wrongSign = (aa: Float32Array, f: FfnWeights, i: number, d: number) => neuronOutput(Float32Array.from(aa, Math.abs), f, i, d);
    expect(eq19Residual(a, ffn, dim, wrongRow)).toBeGreaterThan(1000);
    expect(eq19Residual(a, ffn, dim, wrongSign)).toBeGreaterThan(1000);
  });

  it('direct CETT: nothing dropped → 0, everything dropped → 1, matches the sweep', () => {
    const values = Float64Array.from(a, (v, i) => Math.abs(v) * downColumnNorms(ffn, dim)[i]);
    const units = [{ values, tokens: [a] }];
    expect(directCett(units, ffn, dim, 0)).toBe(0);
    expect(directCett(units, ffn, dim, Infinity)).toBeCloseTo(1, 12);
    const curve = cettCurve(units, ffn, dim);
    for (let k = 0; k < curve.thresholds.length; k += 5) {
      expect(Math.abs(curve.cett[k] - directCett(units, ffn, dim, curve.thresholds[k]))).toBeLessThan(1e-12);
    }
    // with a wrong neuron output the direct CETT disagrees with the sweep somewhere
    const wrong = (aa: Float32Array, f: FfnWeights, i: number, d: number) => neuronOutput(aa, f, i, d).map((v, j) => (j === 0 ? v * 3 : v));
    const diffs = Array.from(curve.thresholds, (t, k) => Math.abs(curve.cett[k] - directCett(units, ffn, dim, t, wrong)));
    expect(Math.max(...diffs)).toBeGreaterThan(1e-3);
  });

  it('recordingKernels records x, a and y of every dense FFN call without changing results', () => {
    const set = { description: 't', sequences: [[1, 5, 7, 9]], promptLength: 2 };
    const calls: FfnCall[] = [];
    const recorded = collectActivations(model, set, recordingKernels(calls));
    const plain = collectActivations(model, set);
    expect(calls.length).toBe(4 * shape.nLayers);
    expect(recorded).toEqual(plain);
    expect(calls[1].a).toEqual(plain[1][0][0]);
  });
});

describe('quality sweep helpers', () => {
  it('thresholdsForDensity from shared curves equals calibrate() with the density objective', () => {
    const model = syntheticModel(shape, 2);
    const rng = new Rng(4);
    const set = { description: 'random tokens', promptLength: 8, sequences: Array.from({ length: 3 }, () => [1, ...Array.from({ length: 23 }, () => 3 + rng.int(shape.vocabSize - 3))]) };
    for (const method of ['tt', 'tda'] as const) {
      const curves = calibrationCurves(model, set, method);
      for (const d of [0.5, 0.8]) {
        const ref = calibrate(model, set, method, { kind: 'density', target: d }).layers.map((l) => l.tau);
        expect(thresholdsForDensity(curves, d)).toEqual(ref);
      }
    }
    // and the layer units are the calibration's
    const acts = collectActivations(model, set);
    expect(layerUnits('tda', acts[0], downColumnNorms(model.weights.layers[0].ffn, shape.dim), 8).length).toBe(3);
  });
});
