// Seeded random models of any shape, for property tests, conformance runs and
// benchmarks at shapes no checkpoint here has (e.g. LLaMA-2-7B's 4096 × 11008).
//
// Weights are N(0, 1/fan_in) so activations stay O(1) through the layers, as in a
// trained model's scale; RMSNorm gains are 1 + small noise.

import { Rng } from './random.js';
import type { FfnKind, LayerWeights, Model, ModelConfig } from '../core/model.js';
import { isGated, kvDim } from '../core/model.js';

export interface SyntheticShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads?: number;
  vocabSize: number;
  seqLen: number;
  ffnKind?: FfnKind;
}

export function syntheticConfig(shape: SyntheticShape): ModelConfig {
  const c: ModelConfig = {
    dim: shape.dim,
    hiddenDim: shape.hiddenDim,
    nLayers: shape.nLayers,
    nHeads: shape.nHeads,
    nKvHeads: shape.nKvHeads ?? shape.nHeads,
    vocabSize: shape.vocabSize,
    seqLen: shape.seqLen,
    ffnKind: shape.ffnKind ?? 'swiglu',
    normEps: 1e-5,
    ropeTheta: 10000,
  };
  if (c.dim % c.nHeads !== 0 || (c.dim / c.nHeads) % 2 !== 0) {
    throw new Error(`synthetic model: dim ${c.dim} must split into ${c.nHeads} heads of even size`);
  }
  if (c.nHeads % c.nKvHeads !== 0) throw new Error(`synthetic model: nHeads must be a multiple of nKvHeads`);
  return c;
}

export function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1 / Math.sqrt(cols)): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = rng.nextNormal() * scale;
  return m;
}

function gains(rng: Rng, n: number): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = 1 + 0.1 * rng.nextNormal();
  return g;
}

export function syntheticModel(shape: SyntheticShape, seed: number): Model {
  const config = syntheticConfig(shape);
  const rng = new Rng(seed);
  const { dim, hiddenDim } = config;
  const kv = kvDim(config);
  const gated = isGated(config.ffnKind);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    layers.push({
      rmsAtt: gains(rng, dim),
      wq: randomMatrix(rng, dim, dim),
      wk: randomMatrix(rng, kv, dim),
      wv: randomMatrix(rng, kv, dim),
      wo: randomMatrix(rng, dim, dim),
      rmsFfn: gains(rng, dim),
      ffn: {
        gate: gated ? randomMatrix(rng, hiddenDim, dim) : null,
        up: randomMatrix(rng, hiddenDim, dim),
        downT: randomMatrix(rng, hiddenDim, dim, 1 / Math.sqrt(hiddenDim)),
        upBias: gated ? null : randomMatrix(rng, 1, hiddenDim, 0.1),
        downBias: gated ? null : randomMatrix(rng, 1, dim, 0.1),
      },
    });
  }
  const tokenEmbedding = randomMatrix(rng, config.vocabSize, dim, 1);
  return {
    config,
    weights: { tokenEmbedding, layers, rmsFinal: gains(rng, dim), classifier: tokenEmbedding },
    fingerprint: `synthetic:${JSON.stringify(shape)}:seed=${seed}`,
    source: `synthetic model seed ${seed}`,
  };
}
