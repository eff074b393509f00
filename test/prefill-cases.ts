// Shared by the batched-prefill tests: run one prompt with token-by-token prefill and
// with block prefill, and compare everything the decoder exposes, bit for bit.
import type { Kernels } from '../src/core/kernels.js';
import type { Model } from '../src/core/model.js';
import { generate, type GenerationResult } from '../src/reference/generate.js';
import { griffinPolicy } from '../src/reference/policies/griffin.js';
import type { FfnPolicy } from '../src/reference/policies/types.js';
import { syntheticModel } from '../src/reference/synthetic.js';

/** Wraps a policy and records every activation vector it is shown, per layer, in order. */
export function recording(inner: FfnPolicy, nLayers: number): { policy: FfnPolicy; seen: Float32Array[][] } {
  const seen: Float32Array[][] = Array.from({ length: nLayers }, () => []);
  return {
    seen,
    policy: {
      ...inner,
      observePrompt(l, a) {
        seen[l].push(Float32Array.from(a));
        inner.observePrompt(l, a);
      },
    },
  };
}

/** First index where two float arrays differ as bit patterns (Object.is), or -1. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

export interface BlockComparison {
  /** Description of the first difference, or null when all is bit-identical. */
  diff: string | null;
  /** How many activation vectors were compared (prompt tokens × layers). */
  observed: number;
}

function compareRuns(tok: GenerationResult, blk: GenerationResult, seenTok: Float32Array[][], seenBlk: Float32Array[][]): BlockComparison {
  let observed = 0;
  for (let l = 0; l < seenTok.length; l++) {
    if (seenTok[l].length !== seenBlk[l].length) return { diff: `layer ${l}: ${seenBlk[l].length} activations shown, expected ${seenTok[l].length}`, observed };
    for (let t = 0; t < seenTok[l].length; t++, observed++) {
      const i = firstDiff(seenTok[l][t], seenBlk[l][t]);
      if (i >= 0) return { diff: `layer ${l} token ${t}: a[${i}] = ${seenBlk[l][t][i]}, token by token ${seenTok[l][t][i]}`, observed };
    }
  }
  if (tok.tokens.join() !== blk.tokens.join()) return { diff: `tokens ${blk.tokens.join()} vs ${tok.tokens.join()}`, observed };
  for (let s = 0; s < tok.logits!.length; s++) {
    const i = firstDiff(tok.logits![s], blk.logits![s]);
    if (i >= 0) return { diff: `logits of step ${s}: [${i}] = ${blk.logits![s][i]} vs ${tok.logits![s][i]}`, observed };
  }
  for (let l = 0; l < tok.masks.length; l++) {
    if (firstDiff(tok.masks[l]!, blk.masks[l]!) >= 0) return { diff: `mask of layer ${l} differs`, observed };
  }
  return { diff: null, observed };
}

/** Griffin at 0.5 (its masks depend on every prompt activation), prompt of `n` tokens, 6 new tokens. */
export function compareBlockPrefill(model: Model, kernels: Kernels, block: number, prompt?: number[]): BlockComparison {
  const c = model.config;
  const p = prompt ?? Array.from({ length: 23 }, (_, i) => (i === 0 ? 1 : (i * 7 + 3) % c.vocabSize));
  const run = (prefillBlock: number) => {
    const r = recording(griffinPolicy(model, 0.5), c.nLayers);
    const g = generate(model, { promptTokens: p, steps: p.length + 6, policy: r.policy, kernels, keepLogits: true, prefillBlock });
    return { g, seen: r.seen };
  };
  const tok = run(1);
  const blk = run(block);
  return compareRuns(tok.g, blk.g, tok.seen, blk.seen);
}

/**
 * Shapes that reach every tail of the native loops: dim 84 (10 full 8-float blocks and
 * a partial one; 5 16-column tiles and a partial one), 203 neurons (not a multiple of
 * the 3-row GEMM tile, of 16, or of the 64-term row-sum group), grouped KV heads.
 * Weight rows × columns × tokens exceed the addon's threading threshold, so the
 * threaded paths run too. `dim` 60 (60 mod 16 = 12) instead makes the batched down
 * projection's last 16-column tile partial across both of its 8-float halves.
 */
export function tailShapedModel(ffnKind: 'swiglu' | 'geglu' | 'relu' | 'gelu', dim = 84): Model {
  return syntheticModel({ dim, hiddenDim: 203, nLayers: 2, nHeads: 6, nKvHeads: 2, vocabSize: 50, seqLen: 64, ffnKind }, 3);
}
