// OPT has no outside oracle here (llama.cpp does not run it), so its structure is
// checked against a forward pass written out by hand, in float64, straight from
// transformers' OPTDecoder / OPTDecoderLayer: ReLU FFN fc2(relu(fc1(x) + b1)) + b2,
// LayerNorm with bias, learned positions read at pos + 2, biases on q/k/v/out.
// Two tiny cases: pre-LN with a final LayerNorm (OPT-2.7B's layout) and post-LN
// without one, with project_in / project_out (OPT-350M's layout). Position rows 0
// and 1 hold large values, so reading them (a wrong offset) would change everything.
//
// Tolerance 1e-4 on logits of size O(1): the kit stores every activation in float32
// (relative rounding 2^-24 per step) through two layers of width 8; the reference
// below never rounds, so the two agree to a few float32 ulps of the logits.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHfFolder } from '../src/models/hf-folder.js';
import { Decoder } from '../src/reference/decoder.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { Rng } from '../src/reference/random.js';
import { type Tensors, writeHfFolder } from './fixtures/write-hf.js';

const D = 8; // hidden_size
const H = 2; // heads
const F = 12; // ffn_dim
const V = 11; // vocab
const L = 2; // layers
const MAXPOS = 10;
type Mat = number[][];

function tinyOpt(pre: boolean, wordDim: number, seed: number) {
  const rng = new Rng(seed);
  const mat = (r: number, c: number, s = 0.5): Mat => Array.from({ length: r }, () => Array.from({ length: c }, () => Math.fround(rng.nextNormal() * s)));
  const vec = (n: number, s = 0.2, mean = 0): number[] => Array.from({ length: n }, () => Math.fround(mean + rng.nextNormal() * s));
  const positions = mat(MAXPOS + 2, D);
  positions[0] = positions[0].map(() => 50);
  positions[1] = positions[1].map(() => -50);
  const w = {
    embed: mat(V, wordDim, 1),
    positions,
    projectIn: wordDim !== D ? mat(D, wordDim) : null,
    projectOut: wordDim !== D ? mat(wordDim, D) : null,
    layers: Array.from({ length: L }, () => ({
      ln1: vec(D, 0.1, 1), ln1b: vec(D), q: mat(D, D), qb: vec(D), k: mat(D, D), kb: vec(D), v: mat(D, D), vb: vec(D), o: mat(D, D), ob: vec(D),
      ln2: vec(D, 0.1, 1), ln2b: vec(D), fc1: mat(F, D), fc1b: vec(F), fc2: mat(D, F), fc2b: vec(D),
    })),
    lnf: vec(D, 0.1, 1),
    lnfb: vec(D),
  };
  const t: Tensors = [];
  const put = (name: string, m: Mat | number[]) => {
    const rows = m as Mat;
    if (Array.isArray(rows[0])) t.push([name, [rows.length, rows[0].length], Float32Array.from(rows.flat())]);
    else t.push([name, [m.length], Float32Array.from(m as number[])]);
  };
  const d = 'model.decoder.';
  put(`${d}embed_tokens.weight`, w.embed);
  put(`${d}embed_positions.weight`, w.positions);
  if (w.projectIn) put(`${d}project_in.weight`, w.projectIn);
  if (w.projectOut) put(`${d}project_out.weight`, w.projectOut);
  w.layers.forEach((l, i) => {
    const p = `${d}layers.${i}.`;
    put(`${p}self_attn_layer_norm.weight`, l.ln1); put(`${p}self_attn_layer_norm.bias`, l.ln1b);
    put(`${p}self_attn.q_proj.weight`, l.q); put(`${p}self_attn.q_proj.bias`, l.qb);
    put(`${p}self_attn.k_proj.weight`, l.k); put(`${p}self_attn.k_proj.bias`, l.kb);
    put(`${p}self_attn.v_proj.weight`, l.v); put(`${p}self_attn.v_proj.bias`, l.vb);
    put(`${p}self_attn.out_proj.weight`, l.o); put(`${p}self_attn.out_proj.bias`, l.ob);
    put(`${p}final_layer_norm.weight`, l.ln2); put(`${p}final_layer_norm.bias`, l.ln2b);
    put(`${p}fc1.weight`, l.fc1); put(`${p}fc1.bias`, l.fc1b);
    put(`${p}fc2.weight`, l.fc2); put(`${p}fc2.bias`, l.fc2b);
  });
  if (pre) {
    put(`${d}final_layer_norm.weight`, w.lnf);
    put(`${d}final_layer_norm.bias`, w.lnfb);
  }
  const config = {
    model_type: 'opt', hidden_size: D, ffn_dim: F, num_hidden_layers: L, num_attention_heads: H, vocab_size: V,
    max_position_embeddings: MAXPOS, do_layer_norm_before: pre, word_embed_proj_dim: wordDim, activation_function: 'relu', enable_bias: true,
  };
  return { w, t, config };
}

// ---- the hand-written reference, float64, whole sequence at once ----
const mv = (m: Mat, x: number[]) => m.map((row) => row.reduce((s, v, i) => s + v * x[i], 0));
const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]);
function layerNorm(x: number[], g: number[], b: number[]): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * g[i] + b[i]);
}

function referenceLogits(w: ReturnType<typeof tinyOpt>['w'], pre: boolean, tokens: number[]): number[][] {
  const hs = D / H;
  let h = tokens.map((tok, pos) => {
    const e = w.projectIn ? mv(w.projectIn, w.embed[tok]) : w.embed[tok];
    return add(e, w.positions[pos + 2]); // OPT's learned positions start at row 2
  });
  for (const l of w.layers) {
    const x = pre ? h.map((r) => layerNorm(r, l.ln1, l.ln1b)) : h;
    const q = x.map((r) => add(mv(l.q, r), l.qb).map((v) => v / Math.sqrt(hs))); // OPT scales q by head_dim^-0.5
    const k = x.map((r) => add(mv(l.k, r), l.kb));
    const v = x.map((r) => add(mv(l.v, r), l.vb));
    const att = q.map((qi, i) => {
      const out = new Array(D).fill(0);
      for (let hd = 0; hd < H; hd++) {
        const sl = (r: number[]) => r.slice(hd * hs, (hd + 1) * hs);
        const scores = k.slice(0, i + 1).map((kj) => sl(qi).reduce((s, a, c) => s + a * sl(kj)[c], 0));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((s, a) => s + a, 0);
        e.forEach((p, j) => sl(v[j]).forEach((vv, c) => (out[hd * hs + c] += (p / z) * vv)));
      }
      return out;
    });
    h = h.map((r, i) => add(r, add(mv(l.o, att[i]), l.ob)));
    if (!pre) h = h.map((r) => layerNorm(r, l.ln1, l.ln1b));
    const y = pre ? h.map((r) => layerNorm(r, l.ln2, l.ln2b)) : h;
    h = h.map((r, i) => add(r, add(mv(l.fc2, add(mv(l.fc1, y[i]), l.fc1b).map((a) => Math.max(a, 0))), l.fc2b)));
    if (!pre) h = h.map((r) => layerNorm(r, l.ln2, l.ln2b));
  }
  if (pre) h = h.map((r) => layerNorm(r, w.lnf, w.lnfb));
  if (w.projectOut) h = h.map((r) => mv(w.projectOut!, r));
  return h.map((r) => mv(w.embed, r)); // lm_head is the embedding
}

describe('OPT structure against a hand-written forward pass', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-models-opt-'));
  const tokens = [2, 7, 3, 9, 0, 5, 5];
  for (const [label, pre, wordDim] of [['pre-LN (OPT-2.7B layout)', true, D], ['post-LN with project_in/out (OPT-350M layout)', false, 6]] as const) {
    it(label, () => {
      const { w, t, config } = tinyOpt(pre, wordDim, pre ? 1 : 2);
      const model = loadHfFolder(writeHfFolder(path.join(tmp, pre ? 'pre' : 'post'), config, t));
      expect(model.config).toMatchObject({ normKind: 'layernorm', normPlacement: pre ? 'pre' : 'post', positionOffset: 2, ropeStyle: 'none', ffnKind: 'relu' });
      expect(model.weights.hasFinalNorm).toBe(pre);
      const want = referenceLogits(w, pre, tokens);
      const dec = new Decoder(model);
      tokens.forEach((tok, pos) => {
        const got = dec.forward(tok, pos, 'prefill', densePolicy());
        for (let i = 0; i < V; i++) expect(Math.abs(got[i] - want[pos][i])).toBeLessThan(1e-4);
      });
    });
  }

  it('the position offset matters: rows 0 and 1 are never read', () => {
    const { w, t, config } = tinyOpt(true, D, 1);
    const model = loadHfFolder(writeHfFolder(path.join(tmp, 'offset'), config, t));
    const shifted = referenceLogits({ ...w, positions: [w.positions[0], w.positions[1], ...w.positions.slice(0, -2)] }, true, tokens);
    const got = new Decoder(model).forward(tokens[0], 0, 'prefill', densePolicy());
    expect(Math.max(...Array.from(got, (g, i) => Math.abs(g - shifted[0][i])))).toBeGreaterThan(0.1);
  });
});
