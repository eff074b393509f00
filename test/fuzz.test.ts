// Fuzzing the loaders: corrupted checkpoints and tokenizers (truncations, bit
// flips, edited header fields, oversized lengths). Each must end in a valid load
// (then a forward pass gives finite logits, or a clear overflow error) or in a
// clear UserError — never another exception, a hang or NaN logits.
// Hangs and out-of-memory would show as this test timing out or the worker dying.

import fc from 'fast-check';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { parseCheckpoint } from '../src/models/llama2c.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { parseTokenizer } from '../src/models/tokenizer.js';
import { MODEL_FILE, TOKENIZER_FILE } from './helpers.js';
import { apply, mutations } from './fixtures/mutations.js';

const model = new Uint8Array(fs.readFileSync(MODEL_FILE));
const tokenizer = new Uint8Array(fs.readFileSync(TOKENIZER_FILE));

/**
 * Load, then generate a few tokens as `tda generate` would: the result is either
 * finite logits or a clean UserError (bad file, or float32 overflow in the
 * forward pass when a flipped exponent makes a weight huge).
 */
function checkpointOutcome(bytes: Uint8Array): 'error' | 'loaded' {
  try {
    const m = parseCheckpoint(bytes, 'fuzzed.bin');
    const r = generate(m, { promptTokens: [1], steps: 3, policy: densePolicy(), keepLogits: true });
    expect(r.logits!.every((l) => l.every(Number.isFinite))).toBe(true);
    return 'loaded';
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toMatch(/\n/);
    return 'error';
  }
}

function tokenizerOutcome(bytes: Uint8Array): 'error' | 'loaded' {
  try {
    const t = parseTokenizer(bytes, 'fuzzed-tok.bin', 512);
    const ids = t.encode('Once upon a time, the dog');
    expect(ids.every((id) => id >= 0 && id < 512)).toBe(true);
    t.decode(ids);
    return 'loaded';
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toMatch(/\n/);
    return 'error';
  }
}

describe('fuzzed loaders', () => {
  it('1000 corrupted checkpoints: valid load or clear error', () => {
    const seen = { error: 0, loaded: 0 };
    fc.assert(
      fc.property(mutations(model.length, 7), (ms) => {
        seen[checkpointOutcome(apply(model, ms))]++;
      }),
      { numRuns: 1000, seed: 20261122 },
    );
    // Both outcomes must occur, or the fuzzer is not exercising the loader.
    expect(seen.error).toBeGreaterThan(100);
    expect(seen.loaded).toBeGreaterThan(50);
  }, 120_000);

  it('1000 corrupted tokenizers: valid load or clear error', () => {
    const seen = { error: 0, loaded: 0 };
    fc.assert(
      fc.property(mutations(tokenizer.length, 3), (ms) => {
        seen[tokenizerOutcome(apply(tokenizer, ms))]++;
      }),
      { numRuns: 1000, seed: 20261123 },
    );
    expect(seen.error).toBeGreaterThan(100);
    expect(seen.loaded).toBeGreaterThan(50);
  }, 120_000);
});
