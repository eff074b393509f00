// GGUF, read through @huggingface/gguf (header, metadata, tensor infos), then the
// tensors the kit needs dequantised to float32 (src/models/dtypes.ts). The writer
// that makes test files and the llama.cpp exports is src/models/gguf-writer.ts.
//
// Conventions, as llama.cpp's converter (convert_hf_to_gguf.py) writes them:
// - dimensions are innermost-first: a row-major rows × cols matrix has ne = [cols, rows];
// - architecture `llama` (also Mistral and LLaMA-3): Wq/Wk rows were permuted by the
//   converter from Hugging Face's rotate-half order back to Meta's consecutive pairs,
//   so RoPE rotates pairs (llama.cpp's "normal" rope);
// - `qwen2` and `gemma` are not permuted and use NeoX (rotate-half) RoPE; qwen2 has
//   q/k/v biases; gemma scales embeddings by √dim, has its own head width
//   (attention.key_length), uses tanh-GELU in a gated FFN, and its RMSNorm weights are
//   stored as used (the converter already added the 1 that Hugging Face keeps apart);
// - an absent output.weight means the classifier is the token embedding (tied).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { UserError, describeError } from '../errors.js';
import { type FfnKind, type HalfLoad, headSize, type Model, type ModelConfig, type RopeStyle } from '../core/model.js';
import { MAX_CONTEXT, assembleModel, type LoadProgress, shapeText, type TensorNames, type TensorSource } from './assemble.js';
import { type DType, blockValues, byteSize } from './dtypes.js';
import { GGML_TYPES } from './gguf-writer.js';
import { checkRopeFactors } from './rope-scaling.js';
import { type TensorExtent, readTensor, readTensorTransposed } from './tensor-read.js';
import { byteLevelBpeTokenizer } from './hf-tokenizer.js';
import { SentencePieceTokenizer, type Tokenizer } from './tokenizer.js';

export interface GgufTensorInfo {
  name: string;
  /** GGUF order: ne[0] fastest. */
  ne: number[];
  type: number;
  /** Relative to dataOffset. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, unknown>;
  tensors: GgufTensorInfo[];
  dataOffset: number;
  fileSize: number;
}

/**
 * The parser reads past a short file as zeros and loops once per declared entry: a
 * corrupted count of millions would spin for long before failing. Each tensor info takes
 * at least 24 bytes and each key/value at least 13, so counts the file cannot hold are
 * refused first.
 */
function checkCounts(file: string, fileSize: number): void {
  if (fileSize < 24) return; // the parser reports a short file itself
  const head = Buffer.alloc(24);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 24, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1', 0, 4) !== 'GGUF' || head.readUInt32LE(4) < 2) return; // left to the parser's own errors
  const tensors = head.readBigUInt64LE(8);
  const kvs = head.readBigUInt64LE(16);
  if (tensors * 24n > BigInt(fileSize)) throw new UserError(`${file}: tensor_count ${tensors} cannot fit in a file of ${fileSize} bytes (truncated or corrupted)`);
  if (kvs * 13n > BigInt(fileSize)) throw new UserError(`${file}: kv_count ${kvs} cannot fit in a file of ${fileSize} bytes (truncated or corrupted)`);
}

const toNumber = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(toNumber) : v);

/** Header of a GGUF file; every malformation ends in one UserError naming the file. */
export async function readGgufHeader(file: string): Promise<GgufHeader> {
  let fileSize: number;
  try {
    fileSize = fs.statSync(file).size;
  } catch (e) {
    throw new UserError(`cannot read GGUF file ${file}: ${describeError(e)}`);
  }
  checkCounts(file, fileSize);
  // Imported here, not at the top: a command that never meets a GGUF file should not load the parser.
  const { gguf } = await import('@huggingface/gguf');
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(file, { allowLocalFile: true });
  } catch (e) {
    const why = e instanceof RangeError ? 'the header runs past the end of the file (truncated)' : (e as Error).message;
    throw oneLine(new UserError(`${file}: not a readable GGUF header: ${why}`));
  }
  // The parser reads past the end of a short file as zeros: a header ending beyond the file is a truncation.
  if (parsed.tensorInfoByteRange[1] > fileSize) {
    throw new UserError(`${file}: not a readable GGUF header: it runs past the end of the file (${fileSize} bytes; truncated)`);
  }
  const metadata = new Map<string, unknown>();
  for (const [k, v] of Object.entries(parsed.metadata)) metadata.set(k, toNumber(v));
  const tensors = parsed.tensorInfos.map((t) => ({ name: t.name, ne: t.shape.map(Number), type: Number(t.dtype), offset: Number(t.offset) }));
  return { version: Number(parsed.metadata.version), metadata, tensors, dataOffset: Number(parsed.tensorDataOffset), fileSize };
}

const TYPE_NAMES = new Map<number, DType>(Object.entries(GGML_TYPES).map(([k, v]) => [v, k as DType]));

/** Reads named tensors out of a GGUF file, checking type, shape and extent against the file. */
class GgufTensors implements TensorSource {
  private readonly byName: Map<string, GgufTensorInfo>;
  private bytesRead = 0;
  constructor(
    private readonly file: string,
    private readonly fd: number,
    private readonly h: GgufHeader,
    private readonly onProgress?: LoadProgress,
    private readonly half: HalfLoad = {},
  ) {
    this.byName = new Map(h.tensors.map((t) => [t.name, t]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string, shape: number[], optional = false, matrix = false): Float32Array | null {
    const found = this.locate(name, shape, optional, matrix);
    if (!found) return null;
    return this.counted(found.bytes, readTensor(found.ext, found.n));
  }

  getTransposed(name: string, shape: [rows: number, cols: number]): Float32Array {
    const found = this.locate(name, shape, false, true)!;
    return this.counted(found.bytes, readTensorTransposed(found.ext, shape[0], shape[1]));
  }

  /** Where tensor `name` lies, after checking its type, shape and extent against the file. */
  private locate(name: string, shape: number[], optional: boolean, matrix: boolean): { ext: TensorExtent; n: number; bytes: number } | null {
    const t = this.byName.get(name);
    const where = `${this.file}: tensor ${name}`;
    if (!t) {
      if (optional) return null;
      throw new UserError(`${this.file}: missing tensor ${name}`);
    }
    const want = [...shape].reverse(); // innermost-first
    if (t.ne.length !== want.length || t.ne.some((n, i) => n !== want[i])) {
      throw new UserError(`${where} has shape ne=[${t.ne.join(', ')}], the model needs ne=[${want.join(', ')}] (${shapeText(shape)})`);
    }
    const type = TYPE_NAMES.get(t.type);
    if (!type) throw new UserError(`${where} has ggml type ${t.type}, not one of F32, F16, BF16, Q8_0, Q4_0, Q4_K`);
    const n = t.ne.reduce((a, b) => a * b, 1);
    const block = blockValues(type);
    if (t.ne[0] % block !== 0) throw new UserError(`${where}: ${type} rows of ${t.ne[0]} are not whole blocks of ${block}`);
    const bytes = byteSize(type, n);
    const start = this.h.dataOffset + t.offset;
    if (!(Number.isSafeInteger(start) && start + bytes <= this.h.fileSize)) {
      throw new UserError(`${where}: data at offset ${t.offset} (+${bytes} bytes) lies outside the file (${this.h.fileSize} bytes; truncated?)`);
    }
    const ext = { fd: this.fd, start, type, what: where, keepHalf: this.half.keepHalf ?? false, wordsOnly: matrix && this.half.wordsOnly === true };
    return { ext, n, bytes };
  }

  private counted(bytes: number, values: Float32Array): Float32Array {
    this.bytesRead += bytes;
    this.onProgress?.(this.bytesRead, this.h.fileSize - this.h.dataOffset);
    return values;
  }
}

/** Bounds on header numbers: a corrupted header must not ask for absurd buffers. */
const LIMITS = { dim: 1 << 16, hiddenDim: 1 << 18, nLayers: 1024, nHeads: 1024, vocabSize: 1 << 22, seqLen: 1 << 24, headDim: 1 << 12 };

interface ArchRule {
  ffnKind: FfnKind;
  ropeStyle: RopeStyle;
  biases: boolean;
  embeddingScaleSqrtDim: boolean;
}
const ARCHITECTURES: Record<string, ArchRule> = {
  llama: { ffnKind: 'swiglu', ropeStyle: 'pairs', biases: false, embeddingScaleSqrtDim: false },
  qwen2: { ffnKind: 'swiglu', ropeStyle: 'halves', biases: true, embeddingScaleSqrtDim: false },
  gemma: { ffnKind: 'geglu', ropeStyle: 'halves', biases: false, embeddingScaleSqrtDim: true },
};

/** LLaMA-3.1's per-pair RoPE frequency factors (llama.cpp LLM_TENSOR_ROPE_FREQS), F32, headDim/2 of them. */
const ROPE_FREQS = 'rope_freqs.weight';

const NAMES: TensorNames = {
  embed: 'token_embd.weight',
  attNorm: 'blk.{l}.attn_norm.weight',
  wq: 'blk.{l}.attn_q.weight',
  wk: 'blk.{l}.attn_k.weight',
  wv: 'blk.{l}.attn_v.weight',
  wo: 'blk.{l}.attn_output.weight',
  bq: 'blk.{l}.attn_q.bias',
  bk: 'blk.{l}.attn_k.bias',
  bv: 'blk.{l}.attn_v.bias',
  ffnNorm: 'blk.{l}.ffn_norm.weight',
  gate: 'blk.{l}.ffn_gate.weight',
  up: 'blk.{l}.ffn_up.weight',
  down: 'blk.{l}.ffn_down.weight',
  finalNorm: 'output_norm.weight',
  output: 'output.weight',
};

function ggufConfig(h: GgufHeader, file: string): { config: ModelConfig; arch: ArchRule } {
  const m = h.metadata;
  const archName = m.get('general.architecture');
  if (typeof archName !== 'string') throw new UserError(`${file}: metadata general.architecture is missing`);
  const arch = ARCHITECTURES[archName];
  if (!arch) throw new UserError(`${file}: general.architecture "${archName}" is not supported (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  const key = (k: string) => `${archName}.${k}`;
  const int = (k: string, limit: number, fallback?: number): number => {
    const v = m.get(key(k)) ?? fallback;
    if (v === undefined) throw new UserError(`${file}: metadata ${key(k)} is missing`);
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= limit)) {
      throw new UserError(`${file}: metadata ${key(k)}=${String(v)} must be an integer in 1..${limit}`);
    }
    return v;
  };
  const real = (k: string, fallback?: number): number => {
    const v = m.get(key(k)) ?? fallback;
    if (v === undefined) throw new UserError(`${file}: metadata ${key(k)} is missing`);
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new UserError(`${file}: metadata ${key(k)}=${String(v)} must be a positive number`);
    return v;
  };
  const dim = int('embedding_length', LIMITS.dim);
  const nHeads = int('attention.head_count', LIMITS.nHeads);
  const nKvHeads = int('attention.head_count_kv', nHeads, nHeads);
  if (nHeads % nKvHeads !== 0) throw new UserError(`${file}: metadata ${key('attention.head_count')}=${nHeads} is not a multiple of head_count_kv=${nKvHeads}`);
  const headDim = int('attention.key_length', LIMITS.headDim, Math.floor(dim / nHeads));
  if (headDim % 2 !== 0) throw new UserError(`${file}: head width ${headDim} must be even for RoPE`);
  const valueLength = int('attention.value_length', LIMITS.headDim, headDim);
  if (valueLength !== headDim) throw new UserError(`${file}: metadata ${key('attention.value_length')}=${valueLength} differs from key_length ${headDim}, not supported`);
  const ropeDims = int('rope.dimension_count', LIMITS.headDim, headDim);
  if (ropeDims !== headDim) throw new UserError(`${file}: metadata ${key('rope.dimension_count')}=${ropeDims}: partial RoPE (≠ head width ${headDim}) is not supported`);
  // LLaMA-3.1 scaling comes as the tensor rope_freqs.weight alone (the converter writes no
  // rope.scaling.type for it); a scaling type (linear, yarn, …) is another rule, refused.
  const scaling = m.get(key('rope.scaling.type'));
  if (scaling !== undefined && scaling !== 'none') throw new UserError(`${file}: metadata ${key('rope.scaling.type')}=${String(scaling)}: RoPE scaling of this type is not supported (only LLaMA-3.1's rope_freqs.weight)`);
  if (archName !== 'llama' && h.tensors.some((t) => t.name === ROPE_FREQS)) throw new UserError(`${file}: tensor ${ROPE_FREQS} is supported for architecture llama only, not ${archName}`);
  const embd = h.tensors.find((t) => t.name === NAMES.embed);
  if (!embd) throw new UserError(`${file}: missing tensor ${NAMES.embed}`);
  const vocabSize = embd.ne[1];
  if (!(vocabSize >= 1 && vocabSize <= LIMITS.vocabSize)) throw new UserError(`${file}: tensor ${NAMES.embed} has ${vocabSize} rows, not a vocabulary size`);
  const config: ModelConfig = {
    dim,
    hiddenDim: int('feed_forward_length', LIMITS.hiddenDim),
    nLayers: int('block_count', LIMITS.nLayers),
    nHeads,
    nKvHeads,
    vocabSize,
    seqLen: Math.min(int('context_length', LIMITS.seqLen), MAX_CONTEXT),
    ffnKind: arch.ffnKind,
    normEps: real('attention.layer_norm_rms_epsilon'),
    ropeTheta: real('rope.freq_base', 10000),
    ropeStyle: arch.ropeStyle,
    architecture: archName,
  };
  if (headDim !== dim / nHeads) config.headDim = headDim;
  if (arch.embeddingScaleSqrtDim) config.embeddingScale = Math.fround(Math.sqrt(dim));
  return { config, arch };
}

/** The tokenizer GGUF carries in `tokenizer.ggml.*` (SentencePiece `llama` or byte-level BPE `gpt2`). */
export function ggufTokenizer(h: GgufHeader, file: string): Tokenizer {
  const m = h.metadata;
  const model = m.get('tokenizer.ggml.model');
  const tokens = m.get('tokenizer.ggml.tokens');
  if (typeof model !== 'string') throw new UserError(`${file}: metadata tokenizer.ggml.model is missing (pass --tokenizer FILE)`);
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) throw new UserError(`${file}: metadata tokenizer.ggml.tokens is missing or not strings`);
  const idOrDefault = (k: string, fallback: number): number => {
    const v = m.get(k) ?? fallback;
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= -1 && v < tokens.length)) throw new UserError(`${file}: metadata ${k}=${String(v)} is not a token id`);
    return v;
  };
  const addBos = m.get('tokenizer.ggml.add_bos_token');
  const types = m.get('tokenizer.ggml.token_type');
  if (types !== undefined && !(Array.isArray(types) && types.length === tokens.length)) {
    throw new UserError(`${file}: metadata tokenizer.ggml.token_type does not have one entry per token`);
  }
  if (model === 'llama') {
    const scores = m.get('tokenizer.ggml.scores');
    if (!(Array.isArray(scores) && scores.length === tokens.length && scores.every((s) => typeof s === 'number' && Number.isFinite(s)))) {
      throw new UserError(`${file}: metadata tokenizer.ggml.scores must hold one finite score per token`);
    }
    const bos = addBos === false ? -1 : idOrDefault('tokenizer.ggml.bos_token_id', 1);
    // SentencePiece spells a space "▁"; the run.c tokenizer works on the bytes with real spaces.
    const pieces = (tokens as string[]).map((t) => new Uint8Array(Buffer.from(t.replaceAll('\u2581', ' '), 'utf8')));
    const maxLen = pieces.reduce((a, p) => Math.max(a, p.length), 1);
    return new SentencePieceTokenizer(pieces, Float32Array.from(scores as number[]), maxLen, {
      bos,
      eos: idOrDefault('tokenizer.ggml.eos_token_id', 2),
      addSpacePrefix: m.get('tokenizer.ggml.add_space_prefix') !== false,
    });
  }
  if (model === 'gpt2') {
    const merges = m.get('tokenizer.ggml.merges');
    if (!(Array.isArray(merges) && merges.every((s) => typeof s === 'string'))) throw new UserError(`${file}: metadata tokenizer.ggml.merges is missing or not strings`);
    const pre = m.get('tokenizer.ggml.pre') ?? 'default';
    return byteLevelBpeTokenizer(
      {
        tokens: tokens as string[],
        merges: merges as string[],
        types: (types as number[] | undefined) ?? null,
        pre: String(pre),
        bos: addBos === true ? idOrDefault('tokenizer.ggml.bos_token_id', -1) : -1,
        eos: idOrDefault('tokenizer.ggml.eos_token_id', -1),
      },
      file,
    );
  }
  throw new UserError(`${file}: tokenizer.ggml.model "${model}" is not supported (known: llama, gpt2)`);
}

/** sha256 of the file, read in chunks (a multi-GB model never sits in memory twice). */
export function fileSha256(fd: number, size: number): string {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(size, 1 << 24) || 1);
  for (let pos = 0; pos < size; ) {
    const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
    if (n <= 0) break;
    hash.update(chunk.subarray(0, n));
    pos += n;
  }
  return hash.digest('hex');
}

/**
 * keepHalf: also keep each F16/BF16 tensor's raw words beside its float32 values (storedHalf
 * in src/core/model.ts); wordsOnly: the weight matrices keep their words only (HalfLoad).
 */
export interface GgufLoadOptions extends HalfLoad {
  withTokenizer?: boolean;
  onProgress?: LoadProgress;
}

/** A GGUF model, dequantised to float32, with the tokenizer it carries (unless withTokenizer is false). */
export async function loadGguf(file: string, opts: GgufLoadOptions = {}): Promise<{ model: Model; tokenizer: Tokenizer | null }> {
  try {
    return await loadGgufUnchecked(file, opts);
  } catch (e) {
    throw oneLine(e);
  }
}

/** Names and values read from a corrupted file may hold control characters: keep the message one line. */
export function oneLine(e: unknown): unknown {
  if (!(e instanceof UserError) || !/[\u0000-\u001f\u007f]/.test(e.message)) return e;
  return new UserError(e.message.replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`), e.exitCode);
}

async function loadGgufUnchecked(file: string, opts: GgufLoadOptions): Promise<{ model: Model; tokenizer: Tokenizer | null }> {
  const h = await readGgufHeader(file);
  const { config, arch } = ggufConfig(h, file);
  const tokenizer = opts.withTokenizer === false ? null : ggufTokenizer(h, file);
  if (tokenizer && tokenizer.vocabSize !== config.vocabSize) {
    throw new UserError(`${file}: tokenizer.ggml.tokens holds ${tokenizer.vocabSize} tokens but ${NAMES.embed} has ${config.vocabSize} rows`);
  }
  const fd = fs.openSync(file, 'r');
  try {
    const src = new GgufTensors(file, fd, h, opts.onProgress, { keepHalf: opts.keepHalf, wordsOnly: opts.wordsOnly });
    const names: TensorNames = arch.biases ? NAMES : { ...NAMES, bq: undefined, bk: undefined, bv: undefined };
    // llama.cpp divides each pair's angle by these (ggml_rope_ext's freq_factors): ModelConfig.ropeFreqFactors.
    const factors = src.get(ROPE_FREQS, [headSize(config) / 2], true);
    if (factors) config.ropeFreqFactors = checkRopeFactors(factors, `${file}: tensor ${ROPE_FREQS}`);
    const model = assembleModel(config, names, src, { fingerprint: fileSha256(fd, h.fileSize), source: file });
    return { model, tokenizer };
  } finally {
    fs.closeSync(fd);
  }
}
