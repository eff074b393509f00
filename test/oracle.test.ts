// The outside oracle: llama2.c's own run.c output on stories260K
// (../shared/golden). Greedy decoding must reproduce prompt tokens, generated
// tokens and text exactly, and the logits after the prompt within 1e-4.
//
// Why 1e-4: run.c accumulates in float32 in a fixed order, the reference in
// float64; logits here are O(10) and come out of ~6 chained reductions of length
// ≤ 172, so float32 rounding differences are ~1e-5 (measured max 1.2e-5).

import { describe, expect, it } from 'vitest';
import { generate, generatedText } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { goldenCases, stories } from './helpers.js';

describe('stories260K reproduces llama2.c run.c (greedy)', () => {
  for (const c of goldenCases()) {
    it(`prompt ${JSON.stringify(c.prompt)}`, () => {
      const { model, tokenizer } = stories();
      const promptTokens = tokenizer.encode(c.prompt);
      expect(promptTokens).toEqual(c.prompt_tokens);
      const r = generate(model, { promptTokens, steps: c.steps, policy: densePolicy(), keepLogits: true });
      expect(r.tokens).toEqual(c.greedy_tokens);
      expect(generatedText(tokenizer, r)).toBe(c.greedy_text);
      const logits = r.logits![0];
      let maxErr = 0;
      c.logits_after_prompt.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - logits[i]))));
      expect(maxErr).toBeLessThan(1e-4);
    });
  }
});
