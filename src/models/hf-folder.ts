// Hugging Face model folders: config.json + model.safetensors, or shards
// model-0000i-of-0000n.safetensors listed by model.safetensors.index.json; the
// tokenizer is the folder's tokenizer.json. Conventions as transformers' modeling
// files define them:
// - q/k rows are in rotate-half order (transformers' `rotate_half`), so RoPE is 'halves';
//   the weights are used as stored, never permuted;
// - llama / mistral: SwiGLU, RMSNorm, rope_theta, optional head_dim, optional tied lm_head,
//   optional rope_scaling of type llama3 (LLaMA-3.1; src/models/rope-scaling.ts);
// - qwen2: as llama plus q/k/v biases;
// - gemma: GeGLU with tanh-GELU (gelu_pytorch_tanh), embeddings × √hidden_size (rounded
//   to the float32 the model computes in), head_dim, lm_head tied to the embedding, and
//   RMSNorm weights stored as w − 1: the model multiplies by (1 + w), computed in float32;
// - opt: ReLU FFN with fc1/fc2 biases, LayerNorm with bias (eps 1e-5), learned positions
//   read at pos + 2, biases on q/k/v/out; do_layer_norm_before=true is pre-LN (OPT-2.7B),
//   false is post-LN without a final norm (OPT-350M), whose word_embed_proj_dim ≠
//   hidden_size adds project_in / project_out; lm_head is the embedding.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError, describeError } from '../errors.js';
import type { HalfLoad, Model, ModelConfig } from '../core/model.js';
import { MAX_CONTEXT, assembleModel, type LoadProgress, type TensorNames, type TensorSource } from './assemble.js';
import { hfRopeScaling, llama3RopeFactors } from './rope-scaling.js';
import { SafetensorsFile } from './safetensors.js';

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${describeError(e)}`);
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Tensors spread over one or more safetensors files. */
class SafetensorsSet implements TensorSource {
  private readonly where = new Map<string, SafetensorsFile>();
  private bytesRead = 0;
  private readonly totalBytes: number;
  onProgress?: LoadProgress;
  half: HalfLoad = {};
  constructor(readonly files: SafetensorsFile[]) {
    for (const f of files) for (const name of f.entries.keys()) this.where.set(name, f);
    this.totalBytes = files.reduce((s, f) => s + [...f.entries.values()].reduce((t, e) => t + e.end - e.begin, 0), 0);
  }
  has(name: string): boolean {
    return this.where.has(name);
  }
  get(name: string, shape: number[], optional = false, matrix = false): Float32Array | null {
    const f = this.find(name, optional);
    return f && this.counted(f, name, f.read(name, shape, { keepHalf: this.half.keepHalf, wordsOnly: matrix && this.half.wordsOnly }));
  }
  getTransposed(name: string, shape: [rows: number, cols: number]): Float32Array {
    const f = this.find(name, false)!;
    return this.counted(f, name, f.readTransposed(name, shape, this.half));
  }
  private find(name: string, optional: boolean): SafetensorsFile | null {
    const f = this.where.get(name);
    if (!f && !optional) throw new UserError(`${this.files.map((x) => x.file).join(', ')}: missing tensor ${name}`);
    return f ?? null;
  }
  private counted(f: SafetensorsFile, name: string, values: Float32Array): Float32Array {
    this.bytesRead += f.entries.get(name)!.end - f.entries.get(name)!.begin;
    this.onProgress?.(this.bytesRead, this.totalBytes);
    return values;
  }
  close(): void {
    for (const f of this.files) f.close();
  }
}

function openWeights(dir: string): SafetensorsSet {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(single)) return new SafetensorsSet([SafetensorsFile.open(single)]);
  if (!fs.existsSync(index)) throw new UserError(`${dir}: holds neither model.safetensors nor model.safetensors.index.json`);
  const map = readJson(index).weight_map;
  if (map === null || typeof map !== 'object') throw new UserError(`${index}: weight_map is missing`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  const files: SafetensorsFile[] = [];
  for (const s of shards) {
    if (typeof s !== 'string' || s.includes('/') || s.includes('\\')) throw new UserError(`${index}: weight_map names ${JSON.stringify(s)}, not a shard file name`);
    const file = path.join(dir, s);
    if (!fs.existsSync(file)) throw new UserError(`${index}: weight_map names shard ${s}, which is missing`);
    files.push(SafetensorsFile.open(file));
  }
  for (const [name, s] of Object.entries(map as Record<string, string>)) {
    const f = files.find((x) => path.basename(x.file) === s)!;
    if (!f.entries.has(name)) throw new UserError(`${index}: weight_map puts ${name} in ${s}, which does not hold it`);
  }
  return new SafetensorsSet(files);
}

function hfConfig(cfg: Json, file: string): { config: ModelConfig; names: TensorNames; norm1p: boolean; positionRows?: number } {
  const type = cfg.model_type;
  const int = (k: string, fallback?: number, max = 1 << 24): number => {
    const v = cfg[k] ?? fallback;
    if (v === undefined) throw new UserError(`${file}: ${k} is missing`);
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max)) throw new UserError(`${file}: ${k}=${JSON.stringify(v)} must be a positive integer`);
    return v;
  };
  const real = (k: string, fallback?: number): number => {
    const v = cfg[k] ?? fallback;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new UserError(`${file}: ${k}=${JSON.stringify(v)} must be a positive number`);
    return v;
  };
  const scaling = hfRopeScaling(cfg.rope_scaling, file);
  if (scaling && (type === 'qwen2' || type === 'gemma' || type === 'opt')) throw new UserError(`${file}: rope_scaling type "llama3" is supported for llama models only, not ${String(type)}`);
  const dim = int('hidden_size', undefined, 1 << 16);
  const nHeads = int('num_attention_heads', undefined, 1024);
  const common = {
    dim,
    nLayers: int('num_hidden_layers', undefined, 1024),
    nHeads,
    vocabSize: int('vocab_size', undefined, 1 << 22),
    seqLen: Math.min(int('max_position_embeddings'), MAX_CONTEXT),
    architecture: String(type),
  };
  if (type === 'llama' || type === 'mistral' || type === 'qwen2' || type === 'gemma') {
    const nKvHeads = int('num_key_value_heads', nHeads, nHeads);
    if (nHeads % nKvHeads !== 0) throw new UserError(`${file}: num_attention_heads=${nHeads} is not a multiple of num_key_value_heads=${nKvHeads}`);
    const headDim = int('head_dim', Math.floor(dim / nHeads), 1 << 12);
    const act = cfg.hidden_activation ?? cfg.hidden_act;
    const gemma = type === 'gemma';
    const wantAct = gemma ? ['gelu_pytorch_tanh', 'gelu'] : ['silu'];
    if (act !== undefined && !wantAct.includes(String(act))) throw new UserError(`${file}: hidden_act "${String(act)}" is not supported for ${type} (expected ${wantAct.join(' or ')})`);
    const config: ModelConfig = {
      ...common,
      hiddenDim: int('intermediate_size', undefined, 1 << 18),
      nKvHeads,
      ffnKind: gemma ? 'geglu' : 'swiglu',
      normEps: real('rms_norm_eps', 1e-6),
      ropeTheta: real('rope_theta', 10000),
      ropeStyle: 'halves',
    };
    if (headDim !== dim / nHeads) config.headDim = headDim;
    if (scaling) config.ropeFreqFactors = llama3RopeFactors(headDim, config.ropeTheta, scaling);
    if (gemma) config.embeddingScale = Math.fround(Math.sqrt(dim));
    const p = 'model.layers.{l}.';
    const names: TensorNames = {
      embed: 'model.embed_tokens.weight',
      attNorm: `${p}input_layernorm.weight`,
      wq: `${p}self_attn.q_proj.weight`,
      wk: `${p}self_attn.k_proj.weight`,
      wv: `${p}self_attn.v_proj.weight`,
      wo: `${p}self_attn.o_proj.weight`,
      ffnNorm: `${p}post_attention_layernorm.weight`,
      gate: `${p}mlp.gate_proj.weight`,
      up: `${p}mlp.up_proj.weight`,
      down: `${p}mlp.down_proj.weight`,
      finalNorm: 'model.norm.weight',
      // Gemma always ties; the others tie when tie_word_embeddings says so (else lm_head must be there).
      output: gemma || cfg.tie_word_embeddings === true ? undefined : 'lm_head.weight',
    };
    if (type === 'qwen2') Object.assign(names, { bq: `${p}self_attn.q_proj.bias`, bk: `${p}self_attn.k_proj.bias`, bv: `${p}self_attn.v_proj.bias` });
    return { config, names, norm1p: gemma };
  }
  if (type === 'opt') {
    const act = cfg.activation_function ?? 'relu';
    if (act !== 'relu') throw new UserError(`${file}: activation_function "${String(act)}" is not supported for opt (relu)`);
    if (cfg.enable_bias === false || cfg.layer_norm_elementwise_affine === false) throw new UserError(`${file}: OPT without biases or LayerNorm weights is not supported`);
    const pre = cfg.do_layer_norm_before !== false;
    const wordDim = int('word_embed_proj_dim', dim, 1 << 16);
    const maxPos = int('max_position_embeddings');
    const config: ModelConfig = {
      ...common,
      hiddenDim: int('ffn_dim', undefined, 1 << 18),
      nKvHeads: nHeads,
      ffnKind: 'relu',
      normEps: 1e-5, // torch.nn.LayerNorm's default, which OPT uses
      ropeTheta: 10000,
      ropeStyle: 'none',
      normKind: 'layernorm',
      normPlacement: pre ? 'pre' : 'post',
      positionOffset: 2,
    };
    if (dim % nHeads !== 0) throw new UserError(`${file}: hidden_size=${dim} is not a multiple of num_attention_heads=${nHeads}`);
    if (wordDim !== dim) config.embedDim = wordDim;
    const d = '{prefix}decoder.';
    const p = `${d}layers.{l}.`;
    const names: TensorNames = {
      embed: `${d}embed_tokens.weight`,
      positions: `${d}embed_positions.weight`,
      projectIn: wordDim !== dim ? `${d}project_in.weight` : undefined,
      projectOut: wordDim !== dim ? `${d}project_out.weight` : undefined,
      attNorm: `${p}self_attn_layer_norm.weight`,
      attNormBias: `${p}self_attn_layer_norm.bias`,
      wq: `${p}self_attn.q_proj.weight`,
      wk: `${p}self_attn.k_proj.weight`,
      wv: `${p}self_attn.v_proj.weight`,
      wo: `${p}self_attn.out_proj.weight`,
      bq: `${p}self_attn.q_proj.bias`,
      bk: `${p}self_attn.k_proj.bias`,
      bv: `${p}self_attn.v_proj.bias`,
      bo: `${p}self_attn.out_proj.bias`,
      ffnNorm: `${p}final_layer_norm.weight`,
      ffnNormBias: `${p}final_layer_norm.bias`,
      up: `${p}fc1.weight`,
      upBias: `${p}fc1.bias`,
      down: `${p}fc2.weight`,
      downBias: `${p}fc2.bias`,
      finalNorm: pre ? `${d}final_layer_norm.weight` : undefined,
      finalNormBias: pre ? `${d}final_layer_norm.bias` : undefined,
    };
    return { config, names, norm1p: false, positionRows: maxPos + 2 };
  }
  throw new UserError(`${file}: model_type ${JSON.stringify(type)} is not supported (known: llama, mistral, qwen2, gemma, opt)`);
}

/** OPT checkpoints name tensors "model.decoder.…" (OPTForCausalLM) or "decoder.…" (OPTModel). */
function withPrefix(names: TensorNames, src: TensorSource): TensorNames {
  const prefix = src.has('model.decoder.embed_tokens.weight') ? 'model.' : '';
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, typeof v === 'string' ? v.replace('{prefix}', prefix) : v])) as unknown as TensorNames;
}

export function isHfFolder(p: string): boolean {
  return fs.existsSync(path.join(p, 'config.json'));
}

/**
 * A Hugging Face folder's model (float32), fingerprinted by config.json and the safetensors
 * headers and sizes. keepHalf / wordsOnly: HalfLoad in src/core/model.ts (the one transform
 * here, Gemma's 1 + w, touches norm gains only, which are always widened).
 */
export function loadHfFolder(dir: string, opts: { onProgress?: LoadProgress } & HalfLoad = {}): Model {
  const configFile = path.join(dir, 'config.json');
  const cfg = readJson(configFile);
  const { config, names, norm1p, positionRows } = hfConfig(cfg, configFile);
  const src = openWeights(dir);
  src.onProgress = opts.onProgress;
  src.half = { keepHalf: opts.keepHalf, wordsOnly: opts.wordsOnly };
  try {
    const hash = createHash('sha256').update(JSON.stringify(cfg));
    for (const f of src.files) hash.update(path.basename(f.file)).update(String(fs.statSync(f.file).size)).update(JSON.stringify([...f.entries]));
    const onePlus = (w: Float32Array) => w.map((x) => 1 + x); // Float32Array.map rounds 1 + w to float32, as the model does
    return assembleModel(config, withPrefix(names, src), src, { fingerprint: hash.digest('hex'), source: dir }, {
      normWeight: norm1p ? onePlus : undefined,
      positionRows,
    });
  } finally {
    src.close();
  }
}
