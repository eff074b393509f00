// Kernels.attentionBlock (src/reference/attention-block.ts): one call for a token's whole
// attention block. The decoder must compute the same floats with it as without it, use
// it only for models its description fits, and the conformance row must catch a block
// that is off by one ulp.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Kernels } from '../src/core/kernels.js';
import { checkAttentionBlock } from '../src/conformance/batched.js';
import { embeddedModelDir, goldenFile } from '../src/models/discovery.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { attentionBlockWith } from '../src/reference/attention-block.js';
import { generate } from '../src/reference/generate.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { griffinPolicy } from '../src/reference/policies/griffin.js';
import { asArchitecture, syntheticBase } from './fixtures/arch-models.js';
import type { GoldenCase } from './helpers.js';

const stories = () => loadCheckpoint(path.join(embeddedModelDir(), 'stories260K.bin'));
const golden = (): GoldenCase[] => JSON.parse(readFileSync(goldenFile(embeddedModelDir()), 'utf8')).cases;

/** The reference kernels with the reference composition as their attentionBlock, counting its calls. */
function withBlock(): { kernels: Kernels; calls: () => number } {
  let n = 0;
  const block = attentionBlockWith(referenceKernels);
  return {
    kernels: { ...referenceKernels, attentionBlock: (...a) => (n++, block(...a)) },
    calls: () => n,
  };
}

describe('the decoder with an attentionBlock', () => {
  it("gives run.c's golden tokens and the per-token kernels' logits bit for bit on stories260K (Dense, Griffin)", () => {
    const model = stories();
    const g = golden()[2];
    const steps = 40;
    for (const policy of [densePolicy, () => griffinPolicy(model, 0.5)]) {
      const plain = generate(model, { promptTokens: g.prompt_tokens, steps, policy: policy(), keepLogits: true, prefillBlock: 1 });
      const b = withBlock();
      const fused = generate(model, { promptTokens: g.prompt_tokens, steps, policy: policy(), kernels: b.kernels, keepLogits: true, prefillBlock: 1 });
      // One call per layer and forward pass: the block replaced the per-token attention.
      expect(b.calls()).toBe(steps * model.config.nLayers);
      expect(fused.tokens).toEqual(plain.tokens);
      expect(fused.logits!.map((l) => [...l])).toEqual(plain.logits!.map((l) => [...l]));
    }
    const dense = generate(model, { promptTokens: g.prompt_tokens, steps, policy: densePolicy(), kernels: withBlock().kernels, prefillBlock: 1 });
    expect(dense.tokens.length).toBeGreaterThan(20);
    expect(dense.tokens).toEqual(g.greedy_tokens.slice(0, dense.tokens.length));
  });

  it('is not used for a model its description does not fit (qwen2: biases, rotate-half RoPE)', () => {
    const model = asArchitecture(syntheticBase(3), 'qwen2');
    const refusing: Kernels = {
      ...referenceKernels,
      attentionBlock: () => {
        throw new Error('attentionBlock called for a model it does not describe');
      },
    };
    const plain = generate(model, { promptTokens: [1, 5, 9], steps: 8, policy: densePolicy(), keepLogits: true });
    const other = generate(model, { promptTokens: [1, 5, 9], steps: 8, policy: densePolicy(), kernels: refusing, keepLogits: true });
    expect(other.tokens).toEqual(plain.tokens);
  });
});

describe('conformance check of attentionBlock (src/conformance/batched.ts)', () => {
  const ctx = { backend: 'x', device: 'cpu', precision: 'fp32' as const, seed: 11, runs: 15, quick: true, replay: 'tda conformance' };

  it('is not applicable to kernels without attentionBlock', () => {
    expect(checkAttentionBlock(referenceKernels, ctx)).toBeNull();
  });

  it('passes the reference composition and fails blocks off by one ulp in x or that skip the V row', () => {
    expect(checkAttentionBlock(withBlock().kernels, ctx)?.verdict).toBe('pass');
    const block = attentionBlockWith(referenceKernels);
    const ulp: Kernels = {
      ...referenceKernels,
      attentionBlock: (...a) => {
        block(...a);
        const x = a[0];
        x[0] = x[0] === 0 ? 1e-45 : x[0] * (1 + 2 ** -23);
      },
    };
    const row = checkAttentionBlock(ulp, ctx)!;
    expect(row.verdict).toBe('fail');
    expect(row.counterexample?.message).toMatch(/^x /);
    const noV: Kernels = {
      ...referenceKernels,
      attentionBlock: (x, layer, kc, vc, pos, s) => block(x, layer, kc, vc.slice(), pos, s),
    };
    const row2 = checkAttentionBlock(noV, ctx)!;
    expect(row2.verdict).toBe('fail');
    expect(row2.counterexample?.message).toMatch(/^valueCache /);
  });
});
