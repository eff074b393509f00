// Where the model and tokenizer come from: --model/--tokenizer, else $TDA_MODEL_DIR,
// else ../shared/models beside the project (or the working directory).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { loadCheckpoint } from '../reference/checkpoint.js';
import type { Model } from '../reference/model.js';
import { type Tokenizer, loadTokenizer } from '../reference/tokenizer.js';

export const DEFAULT_MODEL = 'stories260K.bin';
export const DEFAULT_TOKENIZER = 'tok512.bin';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function defaultModelDir(): string | undefined {
  if (process.env.TDA_MODEL_DIR) return process.env.TDA_MODEL_DIR;
  for (const base of [process.cwd(), projectRoot]) {
    const dir = path.resolve(base, '../shared/models');
    if (fs.existsSync(dir)) return dir;
  }
  return undefined;
}

const WHERE_FROM =
  `${DEFAULT_MODEL} and ${DEFAULT_TOKENIZER} (llama2.c format; stories260K from karpathy/tinyllamas, MIT licence)`;

function resolveFile(given: string | undefined, fileName: string, what: string): string {
  if (given) return given;
  const dir = defaultModelDir();
  if (!dir) {
    throw new UserError(`no ${what} given and no model folder found: pass --${what} FILE, or set TDA_MODEL_DIR to a folder holding ${WHERE_FROM}`);
  }
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
