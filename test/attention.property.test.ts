// Grouped-query attention against a naive per-head loop, and RoPE's defining
// property (scores depend only on the relative position).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attentionStep } from '../src/reference/attention.js';
import { rope } from '../src/reference/math.js';
import { Rng } from '../src/reference/random.js';
import { seed } from './arbitraries.js';

/** Textbook attention: expand each KV head to the query heads that share it, then one head at a time. */
function naiveAttention(q: number[][], keys: number[][][], values: number[][][], nHeads: number, nKvHeads: number): number[][] {
  const out: number[][] = [];
  for (let h = 0; h < nHeads; h++) {
    const g = Math.floor((h * nKvHeads) / nHeads); // KV head of query head h
    const scores = keys.map((kt) => kt[g].reduce((s, kd, d) => s + kd * q[h][d], 0) / Math.sqrt(q[h].length));
    const max = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - max));
    const z = e.reduce((a, b) => a + b, 0);
    out.push(q[h].map((_, d) => values.reduce((s, vt, t) => s + (e[t] / z) * vt[g][d], 0)));
  }
  return out;
}

describe('attention', () => {
  it('GQA step equals the naive per-head loop', () => {
    fc.assert(
      fc.property(
        fc.record({ kv: fc.integer({ min: 1, max: 4 }), group: fc.integer({ min: 1, max: 4 }), hs: fc.integer({ min: 1, max: 8 }), pos: fc.integer({ min: 0, max: 9 }), s: seed() }),
        ({ kv, group, hs, pos, s }) => {
          const nHeads = kv * group;
          const kvDim = kv * hs;
          const rng = new Rng(s);
          const rnd = () => 2 * rng.nextNormal();
          const q = Array.from({ length: nHeads }, () => Array.from({ length: hs }, rnd));
          const keys = Array.from({ length: pos + 1 }, () => Array.from({ length: kv }, () => Array.from({ length: hs }, rnd)));
          const values = Array.from({ length: pos + 1 }, () => Array.from({ length: kv }, () => Array.from({ length: hs }, rnd)));
          const out = new Float32Array(nHeads * hs);
          attentionStep(out, Float32Array.from(q.flat()), Float32Array.from(keys.flat(2)), Float32Array.from(values.flat(2)), pos, { nHeads, nKvHeads: kv, headSize: hs, kvDim });
          // The inputs above are float32-rounded for the kernel but not for the naive loop:
          // compare with float32-rounded inputs so only accumulation differs (≤ a few ulps of the O(1) outputs).
          const r32 = (x: number[][][]) => x.map((a) => a.map((b) => b.map(Math.fround)));
          const expected = naiveAttention(q.map((v) => v.map(Math.fround)), r32(keys), r32(values), nHeads, kv).flat();
          expected.forEach((e, i) => expect(Math.abs(out[i] - e)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(e))));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('RoPE (llama2.c convention: consecutive pairs)', () => {
  it('q(m)·k(n) depends only on m − n, and norms are preserved', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 }), seed(), (half, m, n, shift, s) => {
        const hs = 2 * half;
        const rng = new Rng(s);
        const q = Float32Array.from({ length: hs }, () => rng.nextNormal());
        const k = Float32Array.from({ length: hs }, () => rng.nextNormal());
        const dotAt = (pm: number, pn: number) => {
          const qq = Float32Array.from(q);
          const kk = Float32Array.from(k);
          rope(qq, pm, hs, 10000);
          rope(kk, pn, hs, 10000);
          return qq.reduce((acc, v, i) => acc + v * kk[i], 0);
        };
        expect(dotAt(m + shift, n + shift)).toBeCloseTo(dotAt(m, n), 3);
        const qq = Float32Array.from(q);
        rope(qq, m, hs, 10000);
        expect(Math.hypot(...qq)).toBeCloseTo(Math.hypot(...q), 4);
      }),
      { numRuns: 200 },
    );
  });

  it('rotates the pair (0, 1) by pos·θ^0 and (2, 3) by pos·θ^(-2/hs)', () => {
    const v = Float32Array.of(1, 0, 1, 0);
    rope(v, 3, 4, 10000);
    expect(v[0]).toBeCloseTo(Math.cos(3), 6);
    expect(v[1]).toBeCloseTo(Math.sin(3), 6);
    expect(v[2]).toBeCloseTo(Math.cos(3 / 100), 6);
    expect(v[3]).toBeCloseTo(Math.sin(3 / 100), 6);
  });
});
