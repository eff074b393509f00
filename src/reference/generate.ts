// Text generation as run.c does it: prefill the prompt token by token, then
// generate until `steps` forward passes have run (prompt included) or the model
// emits BOS. The policy decides the FFN of every generated token; everything a
// backend could be checked on — tokens, logits, masks, kept counts — is returned.

import type { Kernels } from '../core/kernels.js';
import type { KvType } from '../core/kv-cache.js';
import { UserError } from '../errors.js';
import { type TokenCost, tokenCost } from './costs.js';
import { Decoder, FfnUsage } from './decoder.js';
import { prefillPrompt } from './prefill.js';
import type { Model } from '../core/model.js';
import type { FfnPolicy } from './policies/types.js';
import { Sampler } from './sampler.js';
import { BOS, type Tokenizer } from '../models/tokenizer.js';

export interface GenerateOptions {
  /** Token ids of the prompt, BOS included (see Tokenizer.encode). */
  promptTokens: number[];
  /** Forward passes in all, prompt included (run.c -n). */
  steps: number;
  policy: FfnPolicy;
  kernels?: Kernels;
  /** Default: greedy. */
  sampler?: Sampler;
  /** Teacher forcing: generated positions take these tokens instead of sampling. */
  forcedTokens?: number[];
  /** Keep a copy of the logits that produced each generated token. */
  keepLogits?: boolean;
  onToken?: (token: number) => void;
  /** Generation stops after one of these tokens (run.c: BOS; models with another tokenizer: its EOS). Default [BOS]. */
  stopTokens?: number[];
  /**
   * Prompt tokens per batched-prefill block (src/reference/prefill.ts). Default: the
   * block prefill where the kernels have prefillLayer, token by token otherwise;
   * 1: token by token. Both give the same masks, tokens and logits.
   */
  prefillBlock?: number;
  /** The KV cache's element type (src/core/kv-cache.ts); default: the kernels' own (DecoderOptions.kvCache). */
  kvCache?: KvType;
}

export interface LayerDensity {
  /** Neurons whose down column each generated token used (mean over tokens). */
  kept: number;
  total: number;
}

export interface GenerationResult {
  method: string;
  promptTokens: number[];
  /** Generated ids, as in the golden file: a final BOS is included when it stopped generation. */
  tokens: number[];
  layers: LayerDensity[];
  /** Per layer, the mask fixed after prefill (TDA, Griffin); null where none. */
  masks: (Int32Array | null)[];
  cost: TokenCost;
  logits?: Float32Array[];
  /** The KV cache's element type the run kept. */
  kvCache: KvType;
  timing: { prefillMs: number; generateMs: number; decodeTokensPerSecond: number };
}

export function generate(model: Model, opts: GenerateOptions): GenerationResult {
  const { promptTokens, policy } = opts;
  const c = model.config;
  const n = promptTokens.length;
  if (n < 1) throw new UserError('the prompt must hold at least one token (BOS)');
  if (n > c.seqLen) throw new UserError(`the prompt has ${n} tokens but the model's context (seq_len) is ${c.seqLen}`);
  const steps = Math.min(opts.steps, c.seqLen);
  if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new UserError(`steps must be a positive integer, got ${opts.steps}`);
  if (steps < n) throw new UserError(`steps (${steps}) must be at least the prompt length (${n} tokens)`);

  const decoder = new Decoder(model, opts.kernels, { kvCache: opts.kvCache });
  const usage = new FfnUsage(c.nLayers);
  const sampler = opts.sampler ?? new Sampler({ temperature: 0, topp: 1, seed: 0 });
  const tokens: number[] = [];
  const logits: Float32Array[] = [];
  const t0 = performance.now();
  let tPrefillEnd = t0;
  let generateForwards = 0;

  const blocked = opts.prefillBlock !== undefined ? opts.prefillBlock > 1 : decoder.kernels.prefillLayer !== undefined;
  for (let pos = 0; pos < steps; pos++) {
    if (blocked && pos < n - 1) continue; // the whole prompt is prefilled at pos n−1
    const token = pos < n ? promptTokens[pos] : tokens[pos - n];
    const phase = pos < n ? 'prefill' : 'generate';
    const out =
      blocked && pos === n - 1
        ? prefillPrompt(decoder, promptTokens, policy, opts.prefillBlock)
        : decoder.forward(token, pos, phase, policy, usage);
    assertFinite(out, pos);
    if (phase === 'generate') generateForwards++;
    if (pos < n - 1) continue;
    if (pos === n - 1) {
      policy.endPrompt(); // the masks are fixed from here on
      tPrefillEnd = performance.now();
    }
    if (opts.keepLogits) logits.push(Float32Array.from(out));
    const i = pos - n + 1;
    if (opts.forcedTokens && i >= opts.forcedTokens.length) break;
    const next = opts.forcedTokens ? opts.forcedTokens[i] : sampler.sample(out);
    tokens.push(next);
    opts.onToken?.(next);
    if ((opts.stopTokens ?? [BOS]).includes(next)) break;
    if (opts.forcedTokens && i + 1 >= opts.forcedTokens.length) break;
  }
  const tEnd = performance.now();

  const perToken = Math.max(usage.tokens, 1);
  const layers = Array.from({ length: c.nLayers }, (_, l) => ({
    kept: usage.tokens ? usage.kept[l] / perToken : policyKept(policy, l, c.hiddenDim),
    total: c.hiddenDim,
  }));
  const generateMs = tEnd - tPrefillEnd;
  return {
    method: policy.method,
    promptTokens,
    tokens,
    layers,
    masks: policy.masks(),
    cost: tokenCost(c, usage, policy.method === 'tt'),
    logits: opts.keepLogits ? logits : undefined,
    kvCache: decoder.kvCache,
    timing: {
      prefillMs: tPrefillEnd - t0,
      generateMs,
      decodeTokensPerSecond: generateForwards > 0 ? (generateForwards * 1000) / generateMs : 0,
    },
  };
}

/** Overflowing weights must end in a clear error, never in silent NaN/Inf logits. */
function assertFinite(logits: Float32Array, pos: number): void {
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i])) {
      throw new UserError(`numerical overflow: logit ${i} at position ${pos} is ${logits[i]} (weights out of float32 range?)`);
    }
  }
}

/** Kept count of a layer when no generation step ran (e.g. steps = prompt length). */
function policyKept(policy: FfnPolicy, layer: number, hiddenDim: number): number {
  const m = policy.masks()[layer];
  return m ? m.length : hiddenDim;
}

/** Decoded text of generated tokens (a final BOS or EOS that stopped generation is not printed, as in run.c). */
export function generatedText(tokenizer: Tokenizer, result: GenerationResult): string {
  const last = result.tokens.at(-1);
  const stopped = last === BOS || last === tokenizer.bos || last === tokenizer.eos;
  const toks = stopped ? result.tokens.slice(0, -1) : result.tokens;
  return tokenizer.decode(toks, result.promptTokens[result.promptTokens.length - 1]);
}
