// Tokenizers defined the Hugging Face way (tokenizer.json), run by @huggingface/tokenizers:
// a Hugging Face folder's own tokenizer.json, `--tokenizer tokenizer.json`, and GGUF's
// byte-level BPE vocabulary (`tokenizer.ggml.model = gpt2`), which is turned into the
// equivalent tokenizer.json (vocab, merges, the pre-tokenizer regex its `tokenizer.ggml.pre`
// names) rather than tokenized by hand.

import fs from 'node:fs';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { UserError, describeError } from '../errors.js';
import type { Tokenizer } from './tokenizer.js';

export class HfTokenizer implements Tokenizer {
  private readonly impl: HfTokenizerImpl;
  readonly vocabSize: number;

  constructor(json: object, config: object, readonly bos: number, readonly eos: number, name: string) {
    try {
      this.impl = new HfTokenizerImpl(json, config);
      this.vocabSize = this.impl.get_vocab(true).size;
    } catch (e) {
      throw new UserError(`${name}: not a usable tokenizer.json (${(e as Error).message})`);
    }
  }

  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const ids = this.impl.encode(text, { add_special_tokens: false }).ids.map(Number);
    if ((opts.bos ?? true) && this.bos >= 0) ids.unshift(this.bos);
    if (opts.eos && this.eos >= 0) ids.push(this.eos);
    return ids;
  }

  /** The text `tokens` add after `prev`: decode(prev + tokens) minus decode(prev), so leading spaces survive. */
  decode(tokens: number[], prev: number = this.bos): string {
    const opts = { skip_special_tokens: true, clean_up_tokenization_spaces: false };
    if (prev < 0) return this.impl.decode(tokens, opts);
    const before = this.impl.decode([prev], opts);
    const all = this.impl.decode([prev, ...tokens], opts);
    return all.startsWith(before) ? all.slice(before.length) : this.impl.decode(tokens, opts);
  }
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${what} ${file}: ${describeError(e)}`);
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v;
  } catch (e) {
    throw new UserError(`${file}: ${what} is not valid JSON (${(e as Error).message})`);
  }
}

/** The id of a special token named in tokenizer_config.json (a string or {content}), looked up in tokenizer.json. */
function specialId(json: Record<string, unknown>, config: Record<string, unknown>, key: string): number {
  const v = config[key];
  const content = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { content?: string }).content : undefined;
  if (!content) return -1;
  const added = (json.added_tokens as { id: number; content: string }[] | undefined)?.find((t) => t.content === content);
  if (added) return added.id;
  const vocab = (json.model as { vocab?: Record<string, number> } | undefined)?.vocab;
  return vocab && !Array.isArray(vocab) && typeof vocab[content] === 'number' ? vocab[content] : -1;
}

/**
 * tokenizer.json (+ tokenizer_config.json beside it, if any). BOS is prepended when
 * tokenizer_config.json names a bos_token and does not say add_bos_token: false (LLaMA,
 * Gemma, OPT's "</s>"); `ids` (from config.json) are used only without a tokenizer_config.json.
 */
export function loadTokenizerJson(file: string, configFile?: string, ids: { bos?: number; eos?: number } = {}): HfTokenizer {
  const json = readJson(file, 'tokenizer.json');
  const hasConfig = configFile !== undefined && fs.existsSync(configFile);
  const config = hasConfig ? readJson(configFile, 'tokenizer_config.json') : {};
  // config.json's ids only stand in when there is no tokenizer_config.json: Qwen2's names a
  // bos_token_id its tokenizer never adds (bos_token: null).
  let bos = specialId(json, config, 'bos_token');
  if (bos < 0 && !hasConfig) bos = ids.bos ?? -1;
  if (config.add_bos_token === false) bos = -1;
  let eos = specialId(json, config, 'eos_token');
  if (eos < 0 && !hasConfig) eos = ids.eos ?? -1;
  return new HfTokenizer(json, config, bos, eos, file);
}

/**
 * Pre-tokenizer regexes of the byte-level BPE vocabularies GGUF names in
 * `tokenizer.ggml.pre` (the patterns of the models' own tokenizer.json files).
 */
const PRE_TOKENIZER_REGEX: Record<string, string> = {
  'llama-bpe':
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  qwen2:
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

/** GGUF `gpt2` vocabulary → the tokenizer.json that defines the same byte-level BPE. */
export function byteLevelBpeTokenizer(
  v: { tokens: string[]; merges: string[]; types: ArrayLike<number> | null; pre: string; bos: number; eos: number },
  name: string,
): HfTokenizer {
  const regex = PRE_TOKENIZER_REGEX[v.pre];
  if (v.pre !== 'default' && v.pre !== 'gpt2' && !regex) {
    throw new UserError(`${name}: tokenizer.ggml.pre "${v.pre}" is not supported (known: default, gpt2, ${Object.keys(PRE_TOKENIZER_REGEX).join(', ')})`);
  }
  const vocab: Record<string, number> = {};
  v.tokens.forEach((t, id) => {
    if (!(t in vocab)) vocab[t] = id;
  });
  const CONTROL = 3;
  const added = v.types
    ? v.tokens.flatMap((t, id) => (v.types![id] === CONTROL ? [{ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }] : []))
    : [];
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: !regex };
  const json = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: regex
      ? { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, byteLevel] }
      : byteLevel,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, fuse_unk: false, byte_fallback: false, ignore_merges: v.pre === 'llama-bpe', vocab, merges: v.merges },
  };
  return new HfTokenizer(json, {}, v.bos, v.eos, name);
}
