// Gemma in BF16: the substitute oracle. llama.cpp is not used here because its CPU
// matmuls round the activations to bfloat16 (8 significant bits, relative 2^-9) before
// each dot product, by design of its arithmetic, while the kit keeps float32 activations
// on the dequantised weights; on stories260K-as-Gemma that changes a greedy choice
// within 64 tokens (test/models-gguf.test.ts). So the kit is compared instead with a
// float64 forward pass written out below, straight from the GGUF file and the format's
// definitions, sharing no code with the kit's loader or decoder:
//   - tensors read from the file's bytes by name, bf16 widened as bits << 16, GGUF's
//     innermost-first dimensions (ne = [cols, rows]), ffn_down as stored (dim × d_ff);
//   - llama.cpp's gemma graph (as transformers' GemmaModel): embedding × √dim, RMSNorm
//     with the weights as stored (GGUF holds 1 + w already), NeoX RoPE on lane pairs
//     (j, j + h/2), scores scaled by 1/√head_dim, GQA, GeGLU gelu_tanh(gate)·up, final
//     norm, classifier tied to the embedding.
// What is compared: at every position of the kit's greedy run, the logits (the largest
// difference, relative to the logits' scale) and the greedy token.
//
// Tolerance: 64 · 2^-24 ≈ 3.8e-6 of the logits' scale max(1, ‖logits‖∞). The two compute
// the same function of the same weight values; the only difference is that the kit rounds
// each stored activation vector to float32 (relative 2^-24; every sum is accumulated in
// float64 and rounded once). That is about 12 rounded vectors per layer, 5 layers: a
// budget of 64 unit roundings carried to the logits with gain ≤ 1. Measured: 4.2e-7
// (stories260K) and 1.4e-7 (synthetic), 7 and 2 units. One bfloat16 rounding of the
// activations, the effect that moves llama.cpp, is 2^-9 ≈ 2e-3: 500× the tolerance.
// Greedy tokens must agree wherever the oracle's top two logits are further apart than
// twice the tolerance (tie rule: closer pairs are reported as ambiguous, and there must
// be none in these runs, so every token is checked).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../src/core/model.js';
import { syntheticVocab, vocabFromTokenizer } from '../src/bench/llama-export.js';
import { embeddedModelDir } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf, readGgufHeader } from '../src/models/gguf.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { loadTokenizer } from '../src/models/tokenizer.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { asArchitecture, syntheticBase } from './fixtures/arch-models.js';

const RELATIVE_TOLERANCE = 64 * 2 ** -24; // ≈ 3.8e-6: see the header

/** A row-major matrix of float64 values read from the file. */
interface Mat { rows: number; cols: number; v: Float64Array }

/** All tensors of a BF16/F32 GGUF file by name, decoded straight from the bytes. */
async function readTensors(file: string): Promise<{ meta: Map<string, unknown>; t: (name: string) => Mat }> {
  const h = await readGgufHeader(file);
  const raw = fs.readFileSync(file);
  const t = (name: string): Mat => {
    const info = h.tensors.find((x) => x.name === name);
    if (!info) throw new Error(`no tensor ${name}`);
    const [cols, rows = 1] = info.ne; // innermost-first
    const n = rows * cols;
    const start = h.dataOffset + info.offset;
    const v = new Float64Array(n);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < n; i++) {
      if (info.type === 30) u32[0] = raw.readUInt16LE(start + 2 * i) << 16; // BF16: the high half of the float32 bits
      else if (info.type === 0) f32[0] = raw.readFloatLE(start + 4 * i);
      else throw new Error(`tensor ${name}: type ${info.type} not expected here`);
      v[i] = f32[0];
    }
    return { rows, cols, v };
  };
  return { meta: h.metadata, t };
}

function matvec(m: Mat, x: Float64Array): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += m.v[r * m.cols + c] * x[c];
    out[r] = s;
  }
  return out;
}

function rmsnorm(x: Float64Array, w: Mat, eps: number): Float64Array {
  const ms = x.reduce((s, a) => s + a * a, 0) / x.length;
  const k = 1 / Math.sqrt(ms + eps);
  return x.map((a, i) => a * k * w.v[i]);
}

const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** The float64 Gemma forward on the file's weights; `step(token)` returns the logits at the next position. */
async function gemmaFloat64(file: string): Promise<(token: number) => Float64Array> {
  const { meta, t } = await readTensors(file);
  const num = (k: string) => meta.get(`gemma.${k}`) as number;
  const dim = num('embedding_length');
  const nLayers = num('block_count');
  const nHeads = num('attention.head_count');
  const nKv = num('attention.head_count_kv');
  const hd = num('attention.key_length');
  const eps = num('attention.layer_norm_rms_epsilon');
  const theta = (meta.get('gemma.rope.freq_base') as number | undefined) ?? 10000;
  const embed = t('token_embd.weight');
  const layers = Array.from({ length: nLayers }, (_, l) => {
    const p = `blk.${l}.`;
    return {
      attNorm: t(`${p}attn_norm.weight`), q: t(`${p}attn_q.weight`), k: t(`${p}attn_k.weight`), v: t(`${p}attn_v.weight`),
      o: t(`${p}attn_output.weight`), ffnNorm: t(`${p}ffn_norm.weight`), gate: t(`${p}ffn_gate.weight`), up: t(`${p}ffn_up.weight`),
      down: t(`${p}ffn_down.weight`),
    };
  });
  const outNorm = t('output_norm.weight');
  const keys: Float64Array[][] = layers.map(() => []);
  const values: Float64Array[][] = layers.map(() => []);
  const rope = (vec: Float64Array, pos: number) => {
    for (let h0 = 0; h0 < vec.length; h0 += hd) {
      for (let j = 0; j < hd / 2; j++) {
        const a = pos * theta ** (-(2 * j) / hd);
        const [x0, x1] = [vec[h0 + j], vec[h0 + j + hd / 2]];
        vec[h0 + j] = x0 * Math.cos(a) - x1 * Math.sin(a);
        vec[h0 + j + hd / 2] = x0 * Math.sin(a) + x1 * Math.cos(a);
      }
    }
  };
  let pos = 0;
  return (token: number) => {
    let x = Float64Array.from(embed.v.subarray(token * dim, (token + 1) * dim), (e) => e * Math.sqrt(dim));
    layers.forEach((L, l) => {
      const xn = rmsnorm(x, L.attNorm, eps);
      const q = matvec(L.q, xn);
      const k = matvec(L.k, xn);
      rope(q, pos);
      rope(k, pos);
      keys[l].push(k);
      values[l].push(matvec(L.v, xn));
      const att = new Float64Array(nHeads * hd);
      for (let h = 0; h < nHeads; h++) {
        const kvh = Math.floor(h / (nHeads / nKv));
        const scores = keys[l].map((kk) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[h * hd + i] * kk[kvh * hd + i];
          return s / Math.sqrt(hd);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        e.forEach((p, j) => {
          for (let i = 0; i < hd; i++) att[h * hd + i] += (p / z) * values[l][j][kvh * hd + i];
        });
      }
      x = x.map((a, i) => a + matvec(L.o, att)[i]);
      const y = rmsnorm(x, L.ffnNorm, eps);
      const g = matvec(L.gate, y);
      const u = matvec(L.up, y);
      const act = g.map((gi, i) => geluTanh(gi) * u[i]);
      const d = matvec(L.down, act);
      x = x.map((a, i) => a + d[i]);
    });
    pos++;
    return matvec(embed, rmsnorm(x, outNorm, eps)); // tied classifier
  };
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Compares the kit's greedy run on `file` with the float64 forward at every position. */
async function expectMatchesFloat64(file: string, prompt: number[], steps: number): Promise<void> {
  const { model } = await loadGguf(file, { withTokenizer: false });
  const kit = generate(model, { promptTokens: prompt, steps, policy: densePolicy(), keepLogits: true, stopTokens: [] });
  const step = await gemmaFloat64(file);
  const sequence = [...prompt, ...kit.tokens];
  let worst = 0;
  const ambiguous: number[] = [];
  const disagree: number[] = [];
  for (let pos = 0; pos < sequence.length - 1; pos++) {
    const ref = step(sequence[pos]);
    if (pos < prompt.length - 1) continue; // the kit keeps logits from the prompt's last token on
    const i = pos - (prompt.length - 1);
    const got = kit.logits![i];
    const scale = Math.max(1, ...ref.map(Math.abs));
    for (let v = 0; v < ref.length; v++) worst = Math.max(worst, Math.abs(got[v] - ref[v]) / scale);
    const top = argmax(ref);
    const second = Math.max(...ref.filter((_, v) => v !== top));
    if (ref[top] - second <= 2 * RELATIVE_TOLERANCE * scale) ambiguous.push(pos);
    else if (kit.tokens[i] !== top) disagree.push(pos);
  }
  expect(kit.tokens.length).toBe(steps - prompt.length + 1);
  expect(worst).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  expect(ambiguous).toEqual([]);
  expect(disagree).toEqual([]);
}

describe('Gemma BF16 against a float64 forward on the dequantised weights', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-gemma-bf16-'));
  const write = (m: Model, vocab: ReturnType<typeof syntheticVocab>, name: string) => {
    const file = path.join(tmp, `${name}.gguf`);
    writeModelGguf(m, vocab, file, { name, architecture: 'gemma', type: 'BF16' });
    return file;
  };

  it('stories260K weights as gemma BF16, 64 tokens', async () => {
    const dir = embeddedModelDir();
    const tok = loadTokenizer(path.join(dir, 'tok512.bin'), 512);
    const m = asArchitecture(loadCheckpoint(path.join(dir, 'stories260K.bin')), 'gemma');
    await expectMatchesFloat64(write(m, vocabFromTokenizer(tok), 'stories'), tok.encode('Once upon a time, there was a little girl'), 64);
  }, 30_000);

  it('synthetic gemma BF16 with head width 16 ≠ dim / heads, 40 tokens', async () => {
    const m = asArchitecture(syntheticBase(11, 16), 'gemma', 3);
    await expectMatchesFloat64(write(m, syntheticVocab(300), 'synthetic'), [1, 300 - 7, 17 + 259, 5 + 259, 100], 40);
  }, 30_000);
});
