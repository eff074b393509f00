// The real model of the spec checks (stories260K + tok512, llama2.c format) and the
// ways the checks feed it tokens. Loaded once per process and shared by the checks.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../models/discovery.js';
import type { Kernels } from '../core/kernels.js';
import { recordingPolicy } from '../reference/calibrate.js';
import { loadCheckpoint } from '../models/llama2c.js';
import { Decoder } from '../reference/decoder.js';
import type { Model } from '../core/model.js';
import { BOS, loadTokenizer, type Tokenizer } from '../models/tokenizer.js';

export interface RealModel {
  model: Model;
  tokenizer: Tokenizer;
  /** Short name for reports ("stories260K", a file name). */
  name: string;
  /** Evaluation text given with `tda spec --text` (else the checks sample the model). */
  text?: string;
}

let cached: RealModel | undefined;

/** Run the real-model checks on this model instead of the default (`tda spec --model`). */
export function useRealModel(real: RealModel): void {
  cached = real;
}

/** Whether the checks run on the embedded default model. */
export function isDefaultModel(): boolean {
  return loadRealModel().name === 'stories260K';
}

/** The configured model, else stories260K.bin and tok512.bin from $TDA_MODEL_DIR or the embedded default. */
export function loadRealModel(): RealModel {
  if (cached) return cached;
  const dir = defaultModelDir();
  const modelFile = join(dir, 'stories260K.bin');
  if (!existsSync(modelFile)) {
    throw new Error(`the real-model checks need stories260K.bin and tok512.bin, and ${dir} has no stories260K.bin (TDA_MODEL_DIR)`);
  }
  const model = loadCheckpoint(modelFile);
  const tokenizer = loadTokenizer(join(dir, 'tok512.bin'), model.config.vocabSize);
  cached = { model, tokenizer, name: 'stories260K' };
  return cached;
}

/** acts[layer][pos]: the FFN activations a_t (Eq 17 inner part) of a dense pass over `tokens` from position 0. */
export function denseActivations(model: Model, tokens: number[], kernels?: Kernels): Float32Array[][] {
  const acts: Float32Array[][] = Array.from({ length: model.config.nLayers }, () => []);
  const decoder = new Decoder(model, kernels);
  const policy = recordingPolicy((l, a) => acts[l].push(Float32Array.from(a)));
  tokens.forEach((t, pos) => decoder.forward(t, pos, 'prefill', policy));
  return acts;
}

/**
 * "Sequential" input (MOYU Fig. 2b/2d): the tokens as one prompt after BOS,
 * [BOS, t_1, …, t_n]; rows are the activations at positions 1..n. acts[layer][token].
 */
export function sequentialActivations(model: Model, tokens: number[]): Float32Array[][] {
  return denseActivations(model, [BOS, ...tokens]).map((rows) => rows.slice(1));
}

/**
 * "Parallel" input (MOYU Fig. 2a/2c): every token alone, as its own prompt [BOS, t_i]
 * (a batch of one-token prompts; BOS kept because the model was trained with it, so
 * the only context any token sees is BOS). Rows are the activations at position 1.
 */
export function parallelActivations(model: Model, tokens: number[]): Float32Array[][] {
  const L = model.config.nLayers;
  const acts: Float32Array[][] = Array.from({ length: L }, () => []);
  for (const t of tokens) {
    const one = denseActivations(model, [BOS, t]);
    for (let l = 0; l < L; l++) acts[l].push(one[l][1]);
  }
  return acts;
}

/** Variant of parallel input without BOS: every token alone at position 0, [t]. */
export function parallelActivationsNoBos(model: Model, tokens: number[]): Float32Array[][] {
  const L = model.config.nLayers;
  const acts: Float32Array[][] = Array.from({ length: L }, () => []);
  for (const t of tokens) {
    const one = denseActivations(model, [t]);
    for (let l = 0; l < L; l++) acts[l].push(one[l][0]);
  }
  return acts;
}
