// weightUlp — the unit in the last place of a weight stored as fp16 or bf16, which sizes
// every reduced-precision bound — reads ⌊log2 |w|⌋ from a float32's exponent bits (it runs
// once per weight of every LLaMA-size case). Checked against its definition, written
// directly with Math.log2, on every kind of float32: normals of every exponent, powers of
// two and their neighbours, subnormals, zeros; and on numbers that are not float32.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { weightUlp } from '../src/conformance/tolerance.js';

const definition = (w: number, p: 'fp16' | 'bf16') =>
  2 ** (Math.max(Math.floor(Math.log2(Math.abs(w))), p === 'bf16' ? -126 : -14) - (p === 'bf16' ? 7 : 10));

const float32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const edges = [0, -0, 1, -1, 2, 0.5, 2 ** -126, 2 ** -127, 2 ** -149, 2 ** -14, 2 ** -15, 65504, 3.4028234663852886e38];
const neighbours = edges.flatMap((e) => [Math.fround(e * (1 + 2 ** -23)), Math.fround(e * (1 - 2 ** -24))]);

describe('weightUlp', () => {
  for (const p of ['fp16', 'bf16'] as const) {
    test(`${p}: equals 2^(max(⌊log2|w|⌋, emin) − mantissa bits) for every float32`, () => {
      fc.assert(fc.property(float32, (w) => weightUlp(w, p) === definition(w, p)), { numRuns: 20_000, seed: 11 });
      for (const w of [...edges, ...neighbours]) expect(weightUlp(w, p), `w = ${w}`).toBe(definition(w, p));
    });

    test(`${p}: also for numbers that are not float32`, () => {
      fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), (w) => weightUlp(w, p) === definition(w, p)), { numRuns: 5_000, seed: 12 });
    });
  }
});
