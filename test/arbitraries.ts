// fast-check generators shared by the property tests: small model shapes of every
// FFN kind, seeds for their weights, and kept-neuron lists.

import fc from 'fast-check';
import { FFN_KINDS, type FfnKind } from '../src/core/model.js';
import type { SyntheticShape } from '../src/reference/synthetic.js';

export const ffnKind = (): fc.Arbitrary<FfnKind> => fc.constantFrom(...FFN_KINDS);

/** Small decoder shapes with grouped KV heads (nKvHeads divides nHeads), even head sizes. */
export const smallShape = (): fc.Arbitrary<SyntheticShape> =>
  fc
    .record({
      kvHeads: fc.integer({ min: 1, max: 3 }),
      group: fc.integer({ min: 1, max: 3 }),
      halfHead: fc.integer({ min: 1, max: 4 }),
      hiddenDim: fc.integer({ min: 1, max: 40 }),
      nLayers: fc.integer({ min: 1, max: 3 }),
      vocabSize: fc.integer({ min: 3, max: 24 }),
      ffnKind: ffnKind(),
    })
    .map((r) => {
      const nHeads = r.kvHeads * r.group;
      return {
        dim: nHeads * 2 * r.halfHead,
        hiddenDim: r.hiddenDim,
        nLayers: r.nLayers,
        nHeads,
        nKvHeads: r.kvHeads,
        vocabSize: r.vocabSize,
        seqLen: 16,
        ffnKind: r.ffnKind,
      };
    });

export const seed = (): fc.Arbitrary<number> => fc.integer({ min: 1, max: 2 ** 31 - 1 });

/** An ascending kept list over n neurons, from a boolean per neuron. */
export const keptList = (n: number): fc.Arbitrary<Int32Array> =>
  fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((bits) => {
    const ids: number[] = [];
    bits.forEach((b, i) => b && ids.push(i));
    return Int32Array.from(ids);
  });
