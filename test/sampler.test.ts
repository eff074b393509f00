// Sampling: greedy argmax, the xorshift* stream of run.c, temperature and top-p.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/reference/random.js';
import { Sampler, argmax, sampleMultinomial, sampleTopP } from '../src/reference/sampler.js';

describe('sampler', () => {
  it('the generator reproduces run.c random_u32 (values computed independently in Python)', () => {
    const rng = new Rng(42);
    expect(Array.from({ length: 5 }, () => rng.nextU32())).toEqual([1456360119, 3359763283, 3393612768, 4054632243, 3283045847]);
  });

  it('argmax takes the first maximum', () => {
    expect(argmax(Float32Array.of(1, 5, 5, 2))).toBe(1);
  });

  it('temperature 0 is greedy whatever the seed', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.nat(), (l, seed) => {
        const logits = Float32Array.from(l);
        expect(new Sampler({ temperature: 0, topp: 0.9, seed }).sample(logits)).toBe(argmax(logits));
      }),
    );
  });

  it('multinomial draws follow the distribution (chi-square, 4 categories, 20000 draws)', () => {
    const probs = Float32Array.of(0.1, 0.2, 0.3, 0.4);
    const rng = new Rng(7);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleMultinomial(probs, rng.nextFloat())]++;
    const chi2 = counts.reduce((s, c, i) => s + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
    expect(chi2).toBeLessThan(16.27); // 99.9% quantile of χ²(3)
  });

  it('top-p never draws outside the nucleus', () => {
    const probs = Float32Array.of(0.5, 0.3, 0.15, 0.05);
    for (let i = 0; i < 100; i++) {
      const t = sampleTopP(probs, 0.7, i / 100);
      expect(t === 0 || t === 1).toBe(true); // 0.5 + 0.3 is the first mass above 0.7
    }
  });

  it('same seed, same samples', () => {
    const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const a = new Sampler({ temperature: 1, topp: 0.9, seed: 3 });
    const b = new Sampler({ temperature: 1, topp: 0.9, seed: 3 });
    expect(Array.from({ length: 20 }, () => a.sample(logits))).toEqual(Array.from({ length: 20 }, () => b.sample(logits)));
  });
});
