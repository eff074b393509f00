// A reduced-precision backend is judged end to end against the reference run on its
// own stored weights (src/conformance/stored.ts), and reference runs are cached per
// process by the judged model's fingerprint. Two such backends checked one after the
// other in one process (the API allows it; the fixture runner does it) store different
// values of the same model: each must be judged against its own.

import { describe, expect, test } from 'vitest';
import { runConformance } from '../src/conformance/index.js';
import { storedModel } from '../src/conformance/stored.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import fp16 from './fixtures/broken-backends/honest-fp16.js';
import bf16 from './fixtures/broken-backends/honest-bf16-trunc.js';

const tiny = () => syntheticModel({ dim: 48, hiddenDim: 96, nLayers: 2, nHeads: 4, vocabSize: 40, seqLen: 16, ffnKind: 'swiglu' }, 7);

describe('stored models of reduced-precision backends', () => {
  test('the fingerprint names the stored values: fp16 and bf16 differ, the same backend twice agrees', () => {
    const m = tiny();
    const a = storedModel(m, fp16.kernels).fingerprint;
    const b = storedModel(m, bf16.kernels).fingerprint;
    expect(a).not.toBe(b);
    expect(storedModel(m, fp16.kernels).fingerprint).toBe(a);
    expect(storedModel(m, referenceKernels).fingerprint).not.toBe(a);
  });

  test('an fp16 backend and then a bf16 backend, in one process, both pass end to end', async () => {
    const model = tiny();
    for (const backend of [fp16, bf16, fp16]) {
      const report = await runConformance(backend, { quick: true, seed: 3, only: ['e2e dense (tiny)', 'e2e tda (tiny)'], models: [{ name: 'tiny', model }] });
      expect(report.rows.map((r) => [r.check, r.verdict])).toEqual([['e2e dense (tiny)', 'pass'], ['e2e tda (tiny)', 'pass']]);
    }
  });
});
