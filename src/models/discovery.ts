// Where the model and tokenizer come from: --model/--tokenizer, else $TDA_MODEL_DIR,
// else the embedded default that ships inside the package (assets/stories260K/:
// stories260K from karpathy/tinyllamas, MIT licence), so a fresh install works alone.

import fs from 'node:fs';
import path from 'node:path';
import { UserError, describeError } from '../errors.js';
import { packageRoot } from '../core/package-root.js';
import { loadCheckpoint } from './llama2c.js';
import type { HalfLoad, Model } from '../core/model.js';
import { loadGguf, readGgufHeader, ggufTokenizer } from './gguf.js';
import { isHfFolder, loadHfFolder } from './hf-folder.js';
import { loadTokenizerJson } from './hf-tokenizer.js';
import type { LoadProgress } from './assemble.js';
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

/**
 * keepHalf: GGUF / safetensors F16 and BF16 weights also keep their raw words (storedHalf in
 * src/core/model.ts): true for both types, 'f16' / 'bf16' for that type only (what
 * native-cpu-f16 / -bf16 read instead of converting). wordsOnly: the weight matrices keep
 * those words only, with no float32 copy (HalfLoad). halfLoadFor in src/backends/native-cpu
 * gives both for a backend.
 */
export interface ModelFileOptions extends HalfLoad {
  model?: string;
  tokenizer?: string;
  /** Told as GGUF / safetensors tensor data is read (bytes done, of about total). */
  onProgress?: LoadProgress;
}

/** Bytes of tensor data of a model path (a file, or a folder's safetensors files), for size estimates. */
export function modelBytes(p: string): number {
  try {
    const st = fs.statSync(p);
    if (!st.isDirectory()) return st.size;
    return fs.readdirSync(p).filter((f) => f.endsWith('.safetensors')).reduce((s, f) => s + fs.statSync(path.join(p, f)).size, 0);
  } catch {
    return 0;
  }
}

export type ModelFormat = 'llama2c' | 'gguf' | 'hf-folder' | 'tokenizer-json';

/**
 * What a path holds, from its content (never its name): a folder with config.json (or a
 * file inside one) is a Hugging Face folder, "GGUF" magic is GGUF, a file starting with
 * "{" is a tokenizer.json, anything else is read as llama2.c.
 */
export function detectFormat(p: string, what: 'checkpoint' | 'tokenizer' = 'checkpoint'): { format: ModelFormat; path: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch (e) {
    throw new UserError(`cannot read ${what} ${p}: ${describeError(e)}`);
  }
  if (stat.isDirectory()) {
    if (isHfFolder(p)) return { format: 'hf-folder', path: p };
    throw new UserError(`${p}: a folder without config.json is not a Hugging Face model folder`);
  }
  const head = Buffer.alloc(9);
  const fd = fs.openSync(p, 'r');
  try {
    fs.readSync(fd, head, 0, 9, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1', 0, 4) === 'GGUF') return { format: 'gguf', path: p };
  if (head.toString('latin1').trimStart().startsWith('{')) {
    // config.json or tokenizer.json: the folder holds the model, the file itself a tokenizer.
    if (path.basename(p) === 'config.json') return { format: 'hf-folder', path: path.dirname(p) };
    return { format: 'tokenizer-json', path: p };
  }
  // A safetensors file (u64 header length, then "{") inside a model folder.
  if (head[8] === 0x7b && isHfFolder(path.dirname(p))) return { format: 'hf-folder', path: path.dirname(p) };
  return { format: 'llama2c', path: p };
}

/** --tokenizer FILE: a llama2.c tokenizer.bin, a tokenizer.json, or a GGUF file's vocabulary. */
async function loadTokenizerFile(file: string, vocabSize: number): Promise<Tokenizer> {
  const { format, path: p } = detectFormat(file, 'tokenizer');
  let tok: Tokenizer;
  if (format === 'tokenizer-json') tok = loadTokenizerJson(p, path.join(path.dirname(p), 'tokenizer_config.json'));
  else if (format === 'gguf') tok = ggufTokenizer(await readGgufHeader(p), p);
  else if (format === 'hf-folder') tok = loadTokenizerJson(path.join(p, 'tokenizer.json'), path.join(p, 'tokenizer_config.json'));
  else return loadTokenizer(p, vocabSize);
  if (tok.vocabSize > vocabSize) throw new UserError(`${file}: the tokenizer has ${tok.vocabSize} tokens but the model's vocabulary only ${vocabSize}`);
  return tok;
}

/**
 * The model and its tokenizer, in any format the kit reads (see detectFormat). Without
 * --tokenizer: a GGUF file's own vocabulary, a Hugging Face folder's tokenizer.json, or
 * for llama2.c the tok512.bin of the default folder.
 */
/** A model alone, in any format (for checks that need no tokenizer, e.g. conformance on random prompts). */
export async function loadModel(file: string, onProgress?: ModelFileOptions['onProgress'], opts: HalfLoad = {}): Promise<Model> {
  const { format, path: p } = detectFormat(file);
  const half: HalfLoad = { keepHalf: opts.keepHalf, wordsOnly: opts.wordsOnly };
  if (format === 'tokenizer-json') throw new UserError(`${file}: a JSON file is not a model (pass a Hugging Face folder or its config.json)`);
  if (format === 'gguf') return (await loadGguf(p, { withTokenizer: false, onProgress, ...half })).model;
  if (format === 'hf-folder') return loadHfFolder(p, { onProgress, ...half });
  return loadCheckpoint(p);
}

export async function loadModelFiles(opts: ModelFileOptions): Promise<{ model: Model; tokenizer: Tokenizer }> {
  const modelPath = resolveFile(opts.model, DEFAULT_MODEL, 'model');
  const { format, path: p } = detectFormat(modelPath);
  const half: HalfLoad = { keepHalf: opts.keepHalf, wordsOnly: opts.wordsOnly };
  if (format === 'tokenizer-json') throw new UserError(`${modelPath}: a JSON file is not a model (pass a Hugging Face folder or its config.json)`);
  if (format === 'gguf') {
    const { model, tokenizer } = await loadGguf(p, { withTokenizer: !opts.tokenizer, onProgress: opts.onProgress, ...half });
    return { model, tokenizer: tokenizer ?? (await loadTokenizerFile(opts.tokenizer!, model.config.vocabSize)) };
  }
  if (format === 'hf-folder') {
    const model = loadHfFolder(p, { onProgress: opts.onProgress, ...half });
    if (opts.tokenizer) return { model, tokenizer: await loadTokenizerFile(opts.tokenizer, model.config.vocabSize) };
    const tokFile = path.join(p, 'tokenizer.json');
    if (!fs.existsSync(tokFile)) throw new UserError(`${p}: has no tokenizer.json: pass --tokenizer FILE`);
    const cfg = JSON.parse(fs.readFileSync(path.join(p, 'config.json'), 'utf8')) as { bos_token_id?: number; eos_token_id?: number };
    const tokenizer = loadTokenizerJson(tokFile, path.join(p, 'tokenizer_config.json'), { bos: cfg.bos_token_id, eos: cfg.eos_token_id });
    if (tokenizer.vocabSize > model.config.vocabSize) throw new UserError(`${tokFile}: the tokenizer has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${model.config.vocabSize}`);
    return { model, tokenizer };
  }
  const model = loadCheckpoint(p);
  const tokenizer = opts.tokenizer
    ? await loadTokenizerFile(opts.tokenizer, model.config.vocabSize)
    : loadTokenizer(resolveFile(undefined, DEFAULT_TOKENIZER, 'tokenizer'), model.config.vocabSize);
  return { model, tokenizer };
}
