// Where the model and tokenizer come from: --model/--tokenizer, else $TDA_MODEL_DIR,
// else the embedded default that ships inside the package (assets/stories260K/:
// stories260K from karpathy/tinyllamas, MIT licence), so a fresh install works alone.

import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../core/package-root.js';
import { loadCheckpoint } from './llama2c.js';
import type { Model } from '../core/model.js';
import { type Tokenizer, loadTokenizer } from './tokenizer.js';

export const DEFAULT_MODEL = 'stories260K.bin';
export const DEFAULT_TOKENIZER = 'tok512.bin';
export const GOLDEN_FILE = 'stories260K-greedy.json';

/** The folder inside the package holding stories260K.bin, tok512.bin and llama2.c's golden output. */
export function embeddedModelDir(): string {
  return path.join(packageRoot(), 'assets', 'stories260K');
}

/** $TDA_MODEL_DIR when set, else the embedded default. */
export function defaultModelDir(): string {
  return process.env.TDA_MODEL_DIR || embeddedModelDir();
}

/**
 * llama2.c's golden greedy output for stories260K: $TDA_GOLDEN, else the file inside
 * the model folder, else ../golden/ beside it (the layout of a shared data folder),
 * else the embedded copy.
 */
export function goldenFile(dir = defaultModelDir()): string {
  if (process.env.TDA_GOLDEN) return process.env.TDA_GOLDEN;
  for (const f of [path.join(dir, GOLDEN_FILE), path.join(dir, '..', 'golden', GOLDEN_FILE)]) {
    if (fs.existsSync(f)) return f;
  }
  return path.join(embeddedModelDir(), GOLDEN_FILE);
}

const WHERE_FROM =
  `${DEFAULT_MODEL} and ${DEFAULT_TOKENIZER} (llama2.c format; stories260K from karpathy/tinyllamas, MIT licence)`;

function resolveFile(given: string | undefined, fileName: string, what: string): string {
  if (given) return given;
  const dir = defaultModelDir();
  const file = path.join(dir, fileName);
  if (!fs.existsSync(file)) {
    throw new UserError(`no ${what} given and ${dir} has no ${fileName}: pass --${what} FILE, or set TDA_MODEL_DIR to a folder holding ${WHERE_FROM}`);
  }
  return file;
}

export interface ModelFileOptions {
  model?: string;
  tokenizer?: string;
}

export function loadModelFiles(opts: ModelFileOptions): { model: Model; tokenizer: Tokenizer } {
  const model = loadCheckpoint(resolveFile(opts.model, DEFAULT_MODEL, 'model'));
  const tokenizer = loadTokenizer(resolveFile(opts.tokenizer, DEFAULT_TOKENIZER, 'tokenizer'), model.config.vocabSize);
  return { model, tokenizer };
}
