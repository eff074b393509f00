// CETT (TDA paper Appendix E, Eq 20) and the threshold search.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CettUnit, cett, cettCurve, nextUp, thresholdForTarget, tokenCett } from '../src/reference/cett.js';
import type { FfnWeights } from '../src/core/model.js';
import { seed } from './arbitraries.js';
import { Rng } from '../src/reference/random.js';

/** A down projection and TT-style units (one per token, values = Eq 18 magnitudes). */
function problem(s: number, hidden: number, dim: number, tokens: number, sameOrthant: boolean) {
  const rng = new Rng(s);
  const draw = () => (sameOrthant ? Math.abs(rng.nextNormal()) : rng.nextNormal());
  const downT = Float32Array.from({ length: hidden * dim }, draw);
  const ffn: FfnWeights = { gate: null, up: new Float32Array(hidden * dim), downT, upBias: null, downBias: null };
  const norms = Array.from({ length: hidden }, (_, i) => Math.hypot(...downT.subarray(i * dim, (i + 1) * dim)));
  const units: CettUnit[] = Array.from({ length: tokens }, () => {
    const a = Float32Array.from({ length: hidden }, () => draw() * Math.exp(rng.nextNormal()));
    return { values: Float64Array.from(a, (ai, i) => Math.abs(ai) * norms[i]), tokens: [a] };
  });
  return { ffn, units };
}

const dims = fc.record({
  s: seed(),
  hidden: fc.integer({ min: 1, max: 24 }),
  dim: fc.integer({ min: 1, max: 6 }),
  tokens: fc.integer({ min: 1, max: 5 }),
});

describe('CETT', () => {
  it('is 0 when nothing is dropped and 1 when everything is', () => {
    const { ffn, units } = problem(3, 10, 4, 3, false);
    expect(cett(units, ffn, 4, 0)).toBe(0);
    expect(cett(units, ffn, 4, Infinity)).toBeCloseTo(1, 12);
  });

  it('the sweep equals the direct definition at every step', () => {
    fc.assert(
      fc.property(dims, ({ s, hidden, dim, tokens }) => {
        const { ffn, units } = problem(s, hidden, dim, tokens, false);
        const curve = cettCurve(units, ffn, dim);
        for (let k = 0; k < curve.thresholds.length; k++) {
          expect(curve.cett[k]).toBeCloseTo(cett(units, ffn, dim, curve.thresholds[k]), 9);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('is non-decreasing in τ when all neuron outputs lie in one orthant', () => {
    fc.assert(
      fc.property(dims, fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 2, maxLength: 8 }), ({ s, hidden, dim, tokens }, taus) => {
        const { ffn, units } = problem(s, hidden, dim, tokens, true);
        const sorted = [...taus].sort((a, b) => a - b);
        const values = sorted.map((t) => cett(units, ffn, dim, t));
        for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] - 1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('is NOT monotone in general: mixed-sign neuron outputs can cancel (fast-check finds a case)', () => {
    // This is why the search returns the first crossing rather than bisecting.
    const result = fc.check(
      fc.property(dims, ({ s, hidden, dim, tokens }) => {
        const { ffn, units } = problem(s, hidden, dim, tokens, false);
        const c = cettCurve(units, ffn, dim).cett;
        for (let i = 1; i < c.length; i++) if (c[i] < c[i - 1] - 1e-9) return false;
        return true;
      }),
      { numRuns: 500, seed: 1 },
    );
    expect(result.failed).toBe(true);
  });

  it('one token by hand: y = n1 + n2, dropping n1 gives ‖n1‖/‖y‖', () => {
    const ffn: FfnWeights = { gate: null, up: new Float32Array(4), downT: Float32Array.of(1, 0, 0, 1), upBias: null, downBias: null };
    const a = Float32Array.of(3, 4); // n1 = (3,0), n2 = (0,4), y = (3,4)
    expect(tokenCett(a, [3, 4], ffn, 2, 3.5)).toBeCloseTo(3 / 5, 12);
    expect(tokenCett(a, [3, 4], ffn, 2, 3)).toBe(0); // tie: value = τ is kept
  });
});

describe('threshold search (first crossing)', () => {
  it('the searched τ meets the target and τ + ε does not', () => {
    fc.assert(
      fc.property(dims, fc.double({ min: 0.01, max: 0.95, noNaN: true }), ({ s, hidden, dim, tokens }, target) => {
        const { ffn, units } = problem(s, hidden, dim, tokens, false);
        const curve = cettCurve(units, ffn, dim);
        const choice = thresholdForTarget(curve, target);
        // Every τ' ≤ τ meets the target (check at each step value up to τ).
        for (let k = 0; k < curve.thresholds.length && curve.thresholds[k] <= choice.tau; k++) {
          expect(cett(units, ffn, dim, curve.thresholds[k])).toBeLessThanOrEqual(target + 1e-12);
        }
        expect(cett(units, ffn, dim, choice.tau)).toBeLessThanOrEqual(target + 1e-12);
        const isLast = choice.tau === curve.thresholds[curve.thresholds.length - 1];
        if (!isLast) expect(cett(units, ffn, dim, nextUp(choice.tau))).toBeGreaterThan(target);
      }),
      { numRuns: 150 },
    );
  });

  it('nextUp is the next double', () => {
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-1)).toBeGreaterThan(-1);
  });
});
