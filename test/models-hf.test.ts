// Hugging Face folders: stories260K converted as Meta→HF conversion does (q/k rows to
// rotate-half order) reproduces llama2.c's golden greedy tokens exactly, sharded and
// BF16 folders load what was written, a Gemma-layout folder (norms stored w − 1) and a
// Qwen2 folder give the same logits as the GGUF file of the same weights, and bad
// folders end in one-line errors naming the file and the field.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../src/core/model.js';
import { vocabFromTokenizer } from '../src/bench/llama-export.js';
import { UserError } from '../src/errors.js';
import { bf16ToF32, f32ToBf16 } from '../src/models/dtypes.js';
import { embeddedModelDir, loadModelFiles } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf } from '../src/models/gguf.js';
import { loadHfFolder } from '../src/models/hf-folder.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { toHalvesModel } from '../src/models/rope-layout.js';
import { loadTokenizer } from '../src/models/tokenizer.js';
import { Decoder } from '../src/reference/decoder.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { asArchitecture } from './fixtures/arch-models.js';
import { llamaFamilyConfig, llamaFamilyTensors, safetensorsBytes, writeHfFolder } from './fixtures/write-hf.js';

const dir = embeddedModelDir();
const tokFile = path.join(dir, 'tok512.bin');
const base = loadCheckpoint(path.join(dir, 'stories260K.bin'));
const tok = loadTokenizer(tokFile, 512);
const golden = JSON.parse(fs.readFileSync(path.join(dir, 'stories260K-greedy.json'), 'utf8')).cases as { prompt_tokens: number[]; greedy_tokens: number[]; steps: number }[];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-models-hf-'));
const halves = toHalvesModel(base);
let n = 0;
const folder = (config: Record<string, unknown>, tensors: ReturnType<typeof llamaFamilyTensors>, o = {}) => writeHfFolder(path.join(tmp, `m${n++}`), config, tensors, o);
const storiesFolder = (o = {}) => folder(llamaFamilyConfig(halves, 'llama'), llamaFamilyTensors(halves, 'llama'), o);

function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

/** Logits of greedy decoding of both models, step by step, compared exactly. */
function expectSameLogits(a: Model, b: Model, prompt: number[], steps: number): void {
  const da = new Decoder(a);
  const db = new Decoder(b);
  let token = prompt[0];
  for (let pos = 0; pos < steps; pos++) {
    const la = da.forward(token, pos, 'prefill', densePolicy());
    const lb = db.forward(token, pos, 'prefill', densePolicy());
    expect(lb).toEqual(la);
    token = pos + 1 < prompt.length ? prompt[pos + 1] : la.indexOf(Math.max(...la));
  }
}

describe('Hugging Face folder of stories260K (q/k permuted as Meta→HF conversion does)', () => {
  it('reproduces llama2.c golden greedy tokens exactly, with --tokenizer tok512.bin', async () => {
    const { model, tokenizer } = await loadModelFiles({ model: storiesFolder(), tokenizer: tokFile });
    expect(model.config).toMatchObject({ dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, ropeStyle: 'halves', ffnKind: 'swiglu' });
    expect(model.weights.classifier).toBe(model.weights.tokenEmbedding); // tie_word_embeddings
    expect(tokenizer.encode('Once upon a time')).toEqual(tok.encode('Once upon a time'));
    for (const g of golden) {
      await new Promise(setImmediate); // one golden case per synchronous stretch
      expect(generate(model, { promptTokens: g.prompt_tokens, steps: g.steps, policy: densePolicy() }).tokens).toEqual(g.greedy_tokens);
    }
  }, 60_000);

  it('model_type mistral reads the same folder as the same model', () => {
    const asLlama = loadHfFolder(storiesFolder());
    const asMistral = loadHfFolder(folder({ ...llamaFamilyConfig(halves, 'llama'), model_type: 'mistral', sliding_window: 4096 }, llamaFamilyTensors(halves, 'llama')));
    expectSameLogits(asLlama, asMistral, tok.encode('Lily wanted to'), 12);
  });

  it('sharded (index + 3 shards) and BF16 folders hold exactly what was written; config.json or a shard works as the path', async () => {
    const shardedDir = storiesFolder({ shards: 3 });
    const sharded = loadHfFolder(shardedDir);
    for (const p of [path.join(shardedDir, 'config.json'), path.join(shardedDir, 'model-00002-of-00003.safetensors')]) {
      const viaFile = await loadModelFiles({ model: p, tokenizer: tokFile });
      expect(viaFile.model.fingerprint).toBe(sharded.fingerprint);
      expect(viaFile.model.source).toBe(shardedDir);
    }
    expect(sharded.weights.layers[4].wk).toEqual(halves.weights.layers[4].wk);
    expect(sharded.weights.layers[2].ffn.downT).toEqual(base.weights.layers[2].ffn.downT);
    const bf = loadHfFolder(storiesFolder({ dtype: 'BF16' }));
    const want = base.weights.layers[1].ffn.up.map((x) => bf16ToF32(f32ToBf16(x)));
    expect(bf.weights.layers[1].ffn.up).toEqual(want);
  });
});

describe('the same weights as a Hugging Face folder and as GGUF', () => {
  it('Gemma: norms stored w − 1 in the folder, w in GGUF: identical logits', async () => {
    const gemma = asArchitecture(base, 'gemma');
    const hf = loadHfFolder(folder(llamaFamilyConfig(gemma, 'gemma'), llamaFamilyTensors(gemma, 'gemma')));
    // The converter writes 1 + (w − 1) as float32: the weight the folder's model multiplies by.
    const onePlus = (w: Float32Array) => w.map((x) => 1 + Math.fround(x - 1));
    const asConverted: Model = {
      ...gemma,
      weights: { ...gemma.weights, rmsFinal: onePlus(gemma.weights.rmsFinal), layers: gemma.weights.layers.map((l) => ({ ...l, rmsAtt: onePlus(l.rmsAtt), rmsFfn: onePlus(l.rmsFfn) })) },
    };
    const file = path.join(tmp, 'gemma.gguf');
    writeModelGguf(asConverted, vocabFromTokenizer(tok), file, { name: 'gemma', architecture: 'gemma' });
    const { model: gg } = await loadGguf(file);
    expect(hf.config.embeddingScale).toBe(Math.fround(8));
    expect({ ...hf.config, architecture: '', normEps: 0 }).toEqual({ ...gg.config, architecture: '', normEps: 0 });
    const same = { ...hf, config: { ...hf.config, normEps: gg.config.normEps } }; // GGUF's epsilon is float32
    expectSameLogits(same, gg, tok.encode('Once upon a time'), 24);
  });

  it('Qwen2: q/k/v biases, identical logits', async () => {
    const qwen = asArchitecture(base, 'qwen2');
    const hf = loadHfFolder(folder(llamaFamilyConfig(qwen, 'qwen2'), llamaFamilyTensors(qwen, 'qwen2')));
    expect(hf.weights.layers[0].bq).toEqual(qwen.weights.layers[0].bq);
    const file = path.join(tmp, 'qwen2.gguf');
    writeModelGguf(qwen, vocabFromTokenizer(tok), file, { name: 'qwen2', architecture: 'qwen2' });
    const { model: gg } = await loadGguf(file);
    expectSameLogits({ ...hf, config: { ...hf.config, normEps: gg.config.normEps } }, gg, tok.encode('The little bird'), 24);
  });
});

describe('bad Hugging Face folders: one-line errors naming the file and the field', () => {
  const cfg = llamaFamilyConfig(halves, 'llama');
  const tensors = llamaFamilyTensors(halves, 'llama');
  it('config.json disagreeing with a tensor shape', () => {
    const m = userError(() => loadHfFolder(folder({ ...cfg, intermediate_size: 100 }, tensors)));
    expect(m).toMatch(/model\.safetensors: tensor model\.layers\.0\.mlp\.down_proj\.weight has shape \[64, 172\], config\.json implies \[64, 100\]/);
  });
  it('unknown model_type, a missing tensor, a missing field', () => {
    expect(userError(() => loadHfFolder(folder({ ...cfg, model_type: 'bert' }, tensors)))).toMatch(/config\.json: model_type "bert" is not supported/);
    expect(userError(() => loadHfFolder(folder(cfg, tensors.filter(([nm]) => nm !== 'model.layers.3.self_attn.v_proj.weight'))))).toMatch(/missing tensor model\.layers\.3\.self_attn\.v_proj\.weight/);
    expect(userError(() => loadHfFolder(folder({ ...cfg, hidden_size: undefined }, tensors)))).toMatch(/config\.json: hidden_size is missing/);
  });
  it('an index naming a missing shard', () => {
    const d = storiesFolder({ shards: 2 });
    fs.rmSync(path.join(d, 'model-00002-of-00002.safetensors'));
    expect(userError(() => loadHfFolder(d))).toMatch(/model\.safetensors\.index\.json: weight_map names shard model-00002-of-00002\.safetensors, which is missing/);
  });
  it('truncated safetensors, an unknown dtype, offsets outside the file', () => {
    const d = storiesFolder();
    const file = path.join(d, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(userError(() => loadHfFolder(d))).toMatch(/model\.safetensors: tensor .* lie outside the file/);
    fs.writeFileSync(file, bytes.subarray(0, 5));
    expect(userError(() => loadHfFolder(d))).toMatch(/model\.safetensors: 5 bytes is too short/);
    const withDtype = safetensorsBytes([['x', [2], new Float32Array(2)]]);
    const text = withDtype.toString('latin1').replace('"F32"', '"I64"');
    fs.writeFileSync(file, Buffer.from(text, 'latin1'));
    expect(userError(() => loadHfFolder(d))).toMatch(/tensor x: dtype "I64" is not one of F32, F16, BF16/);
  });
});
