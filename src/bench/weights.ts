// Seeded synthetic weights at benchmark shapes, fast enough for `--quick`.
//
// src/reference/synthetic.ts draws every weight from run.c's xorshift* generator with
// Box–Muller: ~60 ns per value here, i.e. ~8 s for one LLaMA-2-7B FFN (135 M values)
// and ~20 s for a 300 M-parameter model. A memory-bound kernel's speed does not depend
// on the values, so the bench draws one pool of N(0, 1) values with the reference's
// `randomMatrix` (same seed → same pool) and tiles it: row r of a matrix starts at
// pool offset (r · ROW_STRIDE + matrixSalt) mod POOL. The pool length is prime, so no
// two rows of a matrix are equal, and every value still has the N(0, 1/fan_in) scale
// that keeps activations O(1) through the layers.

import type { FfnWeights, LayerWeights, Model } from '../core/model.js';
import { kvDim } from '../core/model.js';
import { Rng } from '../reference/random.js';
import { type SyntheticShape, randomMatrix, syntheticConfig } from '../reference/synthetic.js';

const POOL = 1_000_003; // prime
const ROW_STRIDE = 7_919; // prime, so consecutive rows start far apart

export class WeightPool {
  private readonly pool: Float32Array;
  private salt = 0;

  constructor(readonly seed: number) {
    const base = randomMatrix(new Rng(seed), 1, POOL, 1);
    // Doubled so any window of up to POOL values is one contiguous subarray.
    this.pool = new Float32Array(2 * POOL);
    this.pool.set(base);
    this.pool.set(base, POOL);
  }

  /** rows × cols, N(0, scale²); each call gets a different salt, so matrices differ. */
  matrix(rows: number, cols: number, scale = 1 / Math.sqrt(cols)): Float32Array {
    if (cols > POOL) throw new RangeError(`weight pool: rows longer than ${POOL} values are not supported`);
    const m = new Float32Array(rows * cols);
    const salt = (this.salt++ * 104_729) % POOL;
    for (let r = 0; r < rows; r++) {
      const start = (r * ROW_STRIDE + salt) % POOL;
      m.set(this.pool.subarray(start, start + cols), r * cols);
    }
    for (let i = 0; i < m.length; i++) m[i] *= scale;
    return m;
  }

  /** RMSNorm gains 1 + small noise, as synthetic.ts draws them. */
  gains(n: number): Float32Array {
    const g = this.matrix(1, n, 0.1);
    for (let i = 0; i < n; i++) g[i] += 1;
    return g;
  }

  /** A gated (SwiGLU) FFN block, the LLaMA layout of src/core/model.ts. */
  ffn(dim: number, hiddenDim: number): FfnWeights {
    return {
      gate: this.matrix(hiddenDim, dim),
      up: this.matrix(hiddenDim, dim),
      downT: this.matrix(hiddenDim, dim, 1 / Math.sqrt(hiddenDim)),
      upBias: null,
      downBias: null,
    };
  }

  layer(dim: number, hiddenDim: number, kv: number): LayerWeights {
    return {
      rmsAtt: this.gains(dim),
      wq: this.matrix(dim, dim),
      wk: this.matrix(kv, dim),
      wv: this.matrix(kv, dim),
      wo: this.matrix(dim, dim),
      rmsFfn: this.gains(dim),
      ffn: this.ffn(dim, hiddenDim),
    };
  }
}

/** A whole synthetic LLaMA (SwiGLU, shared embedding/classifier) from the pool. */
export function benchSyntheticModel(shape: SyntheticShape, seed: number): Model {
  const config = syntheticConfig({ ...shape, ffnKind: 'swiglu' });
  const pool = new WeightPool(seed);
  const kv = kvDim(config);
  const layers = Array.from({ length: config.nLayers }, () => pool.layer(config.dim, config.hiddenDim, kv));
  const tokenEmbedding = pool.matrix(config.vocabSize, config.dim, 1);
  return {
    config,
    weights: { tokenEmbedding, layers, rmsFinal: pool.gains(config.dim), classifier: tokenEmbedding },
    fingerprint: `bench-synthetic:${JSON.stringify(shape)}:seed=${seed}`,
    source: `synthetic model (tiled seeded pool, seed ${seed})`,
  };
}

/** Fills an array with small pool values (KV caches: contents do not change timing). */
export function fillFromPool(pool: WeightPool, out: Float32Array): void {
  const m = pool.matrix(1, Math.min(out.length, 1_000_000), 1);
  for (let i = 0; i < out.length; i += m.length) out.set(m.subarray(0, Math.min(m.length, out.length - i)), i);
}
