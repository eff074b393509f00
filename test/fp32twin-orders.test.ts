// The float32 twin (src/conformance/fp32twin.ts) sums in a stated order: sequential,
// 8 SIMD lanes then the lanes in order, or pairwise halves (split at ⌊L/2⌋, ranges of
// up to 2 terms summed from 0). The honest fixtures and the end-to-end drift are built
// on those orders, so each is checked here against a plain statement of it (array
// slices, Math.fround at every step) on random float32 terms, through matvec (one row)
// and the down projection (one column per output).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fp32Kernels, type SumOrder } from '../src/conformance/fp32twin.js';
import type { FfnWeights } from '../src/core/model.js';

const fr = Math.fround;

function sequential(terms: number[]): number {
  let s = 0;
  for (const t of terms) s = fr(s + t);
  return s;
}

function lanes8(terms: number[]): number {
  const lanes = Array.from({ length: 8 }, (_, l) => sequential(terms.filter((_, i) => i % 8 === l)));
  return sequential(lanes);
}

function pairwise(terms: number[]): number {
  if (terms.length <= 2) return sequential(terms);
  const mid = Math.floor(terms.length / 2);
  return fr(pairwise(terms.slice(0, mid)) + pairwise(terms.slice(mid)));
}

const ORDERS: [SumOrder, (t: number[]) => number][] = [['sequential', sequential], ['lanes8', lanes8], ['pairwise', pairwise]];

// Magnitudes over many binades, so that the orders round differently.
const float = fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => fr(x * 10 ** (Math.round(Math.abs(x)) % 7 - 3)));
const vectors = fc.integer({ min: 1, max: 70 }).chain((n) => fc.tuple(fc.array(float, { minLength: n, maxLength: n }), fc.array(float, { minLength: n, maxLength: n })));

describe('the float32 twin sums in its stated order', () => {
  for (const [order, sum] of ORDERS) {
    it(`${order}: matvec of one row`, () => {
      const k = fp32Kernels(order, 'fp32');
      fc.assert(
        fc.property(vectors, ([w, x]) => {
          const out = new Float32Array(1);
          k.matvec(out, Float32Array.from(w), Float32Array.from(x), 1, w.length);
          expect(Object.is(out[0], fr(sum(w.map((wi, i) => fr(wi * x[i])))))).toBe(true);
        }),
        { seed: 7, numRuns: 200 },
      );
    });

    it(`${order}: the down projection sums each column over the kept neurons in order`, () => {
      const k = fp32Kernels(order, 'fp32');
      fc.assert(
        fc.property(vectors, fc.integer({ min: 1, max: 20 }), ([a, w], dim) => {
          const hidden = a.length;
          const downT = Float32Array.from({ length: hidden * dim }, (_, i) => w[i % hidden] * (1 + (i % 5)));
          const ffn = { gate: null, up: new Float32Array(hidden * dim), downT, upBias: null, downBias: null } as unknown as FfnWeights;
          const kept = Int32Array.from({ length: hidden }, (_, i) => i).filter((i) => i % 3 !== 1);
          const out = new Float32Array(dim);
          k.ffnDown(out, Float32Array.from(a), ffn, kept);
          for (let j = 0; j < dim; j++) {
            const terms = Array.from(kept, (i) => fr(fr(a[i]) * downT[i * dim + j]));
            expect(Object.is(out[j], fr(sum(terms) + 0)), `column ${j}`).toBe(true);
          }
        }),
        { seed: 11, numRuns: 100 },
      );
    });
  }

  it('the three orders are different computations (the check above can tell them apart)', () => {
    const terms = [1e8, 1, -1e8, 1, 3, 2 ** -20, 7, -5, 1e-3, 2 ** 24, 1, -(2 ** 24)].map(fr);
    const results = ORDERS.map(([, sum]) => sum(terms));
    expect(new Set(results).size).toBe(3);
  });
});
