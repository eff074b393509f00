// Generation and comparison with one method, as a library user (and the `tda`
// command) calls them: text in, text and every measurement out, with the method's
// setting, thresholds and their source recorded next to the density measured on
// this prompt.

import type { Backend } from '../core/kernels.js';
import type { KvType } from '../core/kv-cache.js';
import type { Model } from '../core/model.js';
import { UserError } from '../errors.js';
import type { Tokenizer } from '../models/tokenizer.js';
import { referenceBackend } from '../backends/reference/index.js';
import { compareLogits, type QualityComparison } from '../reference/compare.js';
import { type GenerationResult, generate, generatedText } from '../reference/generate.js';
import { type MethodSetting, type MethodSummary, prepareMethod } from '../reference/methods.js';
import { densePolicy } from '../reference/policies/dense.js';
import type { Method } from '../reference/policies/types.js';
import { parseTdaVariant } from '../reference/policies/tda-variants.js';
import { Sampler } from '../reference/sampler.js';

export interface MethodRunOptions {
  model: Model;
  tokenizer: Tokenizer;
  /** Default: the reference backend. */
  backend?: Backend;
  /** Default: dense. */
  method?: Method;
  /** Griffin: kept fraction per layer; TT/TDA: target mean density (thresholds per layer). */
  density?: number;
  /** TT/TDA: CETT target (default 0.2). */
  cett?: number;
  /** TT/TDA: a thresholds file from `tda calibrate`. */
  thresholdsFile?: string;
  /** TT/TDA: explicit per-layer thresholds. */
  thresholds?: number[];
  /** TDA: another reading of the method (src/reference/policies/tda-variants.ts). */
  tdaVariant?: string;
  /** The KV cache's element type (src/core/kv-cache.ts); default: the backend's own. */
  kvCache?: KvType;
}

export interface GenerateTextOptions extends MethodRunOptions {
  prompt: string;
  /** Forward passes, prompt included (run.c -n); default 256, capped at the context length. */
  steps?: number;
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Nucleus mass in (0, 1]; default 0.9. */
  topp?: number;
  seed?: number;
}

export interface TextGeneration {
  prompt: string;
  text: string;
  result: GenerationResult;
  summary: MethodSummary;
  /** Mean over layers of the kept fraction measured on this prompt's generated tokens. */
  density: number;
}

function settingOf(o: MethodRunOptions): MethodSetting {
  return {
    method: o.method ?? 'dense',
    density: o.density,
    cett: o.cett,
    thresholdsFile: o.thresholdsFile,
    thresholds: o.thresholds,
    tdaVariant: o.tdaVariant === undefined ? undefined : parseTdaVariant(o.tdaVariant),
  };
}

/**
 * Generation ends at the tokenizer's BOS (what run.c does: stories260K ends a story
 * with BOS) or at its EOS (what models with other tokenizers, e.g. LLaMA-3 or Qwen2,
 * emit at the end).
 */
export function stopTokens(tokenizer: Tokenizer): number[] {
  return [...new Set([tokenizer.bos, tokenizer.eos])].filter((t) => t >= 0);
}

export function meanDensity(result: GenerationResult): number {
  return result.layers.reduce((s, l) => s + l.kept / l.total, 0) / Math.max(result.layers.length, 1);
}

/** Text from a prompt with Dense, TT, Griffin or TDA (run.c semantics: stop at BOS). */
export function generateText(o: GenerateTextOptions): TextGeneration {
  const backend = o.backend ?? referenceBackend;
  const { makePolicy, summary } = prepareMethod(o.model, settingOf(o), backend.kernels);
  const topp = o.topp ?? 0.9;
  if (!(topp > 0 && topp <= 1)) throw new UserError(`--topp must be in (0, 1] (a nucleus of mass 0 holds no token), got ${topp}`);
  const promptTokens = o.tokenizer.encode(o.prompt);
  const seqLen = o.model.config.seqLen;
  if (promptTokens.length > seqLen) {
    throw new UserError(`the prompt is ${promptTokens.length} tokens, longer than the model's context of ${seqLen}`);
  }
  const steps = Math.min(o.steps ?? 256, seqLen);
  if (steps < promptTokens.length) {
    throw new UserError(`--steps ${o.steps} is below the prompt length (${promptTokens.length} tokens, BOS included): nothing would be generated`);
  }
  const result = generate(o.model, {
    promptTokens,
    steps,
    policy: makePolicy(),
    kernels: backend.kernels,
    kvCache: o.kvCache,
    sampler: new Sampler({ temperature: o.temperature ?? 0, topp, seed: o.seed ?? 42 }),
    stopTokens: stopTokens(o.tokenizer),
  });
  return { prompt: o.prompt, text: generatedText(o.tokenizer, result), result, summary, density: meanDensity(result) };
}

export interface PromptComparison extends QualityComparison {
  prompt: string;
  /** Per layer, the kept fraction of the free-running method generation. */
  density: number[];
  denseText: string;
  methodText: string;
}

export interface MethodComparison {
  summary: MethodSummary;
  rows: PromptComparison[];
}

/**
 * A method against Dense on the same prompts: top-1 agreement, KL(dense‖method) and
 * NLL per generated position, teacher-forced on the dense greedy continuation, plus
 * both free-running texts.
 */
export function compareWithDense(o: MethodRunOptions & { prompts: string[]; steps?: number }): MethodComparison {
  const backend = o.backend ?? referenceBackend;
  const kernels = backend.kernels;
  const { makePolicy, summary } = prepareMethod(o.model, settingOf(o), kernels);
  const rows = o.prompts.map((prompt) => {
    const promptTokens = o.tokenizer.encode(prompt);
    if (o.steps !== undefined && o.steps < promptTokens.length) {
      throw new UserError(`--steps ${o.steps} is below the length of prompt ${JSON.stringify(prompt)} (${promptTokens.length} tokens, BOS included)`);
    }
    const steps = Math.max(Math.min(o.steps ?? 128, o.model.config.seqLen), promptTokens.length);
    const stops = stopTokens(o.tokenizer);
    const kvCache = o.kvCache;
    const dense = generate(o.model, { promptTokens, steps, policy: densePolicy(), kernels, kvCache, keepLogits: true, stopTokens: stops });
    const forced = generate(o.model, { promptTokens, steps, policy: makePolicy(), kernels, kvCache, keepLogits: true, forcedTokens: dense.tokens, stopTokens: stops });
    const free = generate(o.model, { promptTokens, steps, policy: makePolicy(), kernels, kvCache, stopTokens: stops });
    return {
      prompt,
      ...compareLogits(dense.logits!, forced.logits!, dense.tokens),
      density: free.layers.map((l) => l.kept / l.total),
      denseText: generatedText(o.tokenizer, dense),
      methodText: generatedText(o.tokenizer, free),
    };
  });
  return { summary, rows };
}
