// The llama2.c checkpoint loader: round trips of synthetic models with grouped KV
// heads, shared and unshared classifiers; the real file's header and fingerprint.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../src/models/llama2c.js';
import { embedDim, headSize, kvDim, qDim } from '../src/core/model.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { seed, smallShape } from './arbitraries.js';
import { writeCheckpoint } from './fixtures/write-checkpoint.js';
import { stories } from './helpers.js';

describe('llama2.c checkpoint loader', () => {
  it('round-trips every tensor (shared and unshared classifier, GQA)', () => {
    fc.assert(
      fc.property(smallShape().map((s) => ({ ...s, ffnKind: 'swiglu' as const })), seed(), fc.boolean(), (shape, s, shared) => {
        const m = syntheticModel(shape, s);
        if (!shared) m.weights.classifier = m.weights.tokenEmbedding.map((x) => x * 2 + 1);
        const back = parseCheckpoint(writeCheckpoint(m, { sharedClassifier: shared }));
        expect(back.config).toEqual(m.config);
        expect(back.weights.tokenEmbedding).toEqual(m.weights.tokenEmbedding);
        expect(back.weights.classifier).toEqual(m.weights.classifier);
        expect(back.weights.rmsFinal).toEqual(m.weights.rmsFinal);
        back.weights.layers.forEach((l, i) => {
          const o = m.weights.layers[i];
          for (const k of ['rmsAtt', 'wq', 'wk', 'wv', 'wo', 'rmsFfn'] as const) expect(l[k]).toEqual(o[k]);
          expect(l.ffn.gate).toEqual(o.ffn.gate);
          expect(l.ffn.up).toEqual(o.ffn.up);
          expect(l.ffn.downT).toEqual(o.ffn.downT);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('reads stories260K: header, shared classifier, sha256 fingerprint', () => {
    const { model } = stories();
    expect(model.config).toMatchObject({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512 });
    expect(model.weights.classifier).toBe(model.weights.tokenEmbedding);
    expect(model.fingerprint).toBe('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
  });
});

describe('model record defaults', () => {
  it('a llama2.c model sets none of the optional architecture fields: head width dim/heads, pairs RoPE, RMSNorm', () => {
    const { model } = stories();
    const c = model.config;
    for (const k of ['headDim', 'ropeStyle', 'embeddingScale', 'normKind', 'normPlacement', 'positionOffset', 'embedDim'] as const) expect(c[k]).toBeUndefined();
    expect([headSize(c), qDim(c), kvDim(c), embedDim(c)]).toEqual([8, 64, 32, 64]);
    expect(headSize({ ...c, headDim: 256 })).toBe(256);
    expect(qDim({ ...c, headDim: 256 })).toBe(8 * 256);
    expect(kvDim({ ...c, headDim: 256 })).toBe(4 * 256);
  });
});
