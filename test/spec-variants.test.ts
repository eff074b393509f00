// The readings of TDA (src/reference/policies/tda-variants.ts) and the shared-prefill
// quality evaluation of Table 3 (src/proofs/forced.ts), on small synthetic models
// against direct computations, and `tda generate --tda-variant` as a user meets it.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { forcedQualities, maskDensity, replayPrompt, type ForcedText } from '../src/proofs/forced.js';
import { Rng } from '../src/proofs/rng.js';
import { compareLogits } from '../src/reference/compare.js';
import { downColumnNorms, ffnActivations } from '../src/reference/ffn.js';
import { generate } from '../src/reference/generate.js';
import { griffinPolicy, topK } from '../src/reference/policies/griffin.js';
import { recordPass, tdaVariantPolicy, TDA_VARIANTS, variantStatistic, variantUnits } from '../src/reference/policies/tda-variants.js';
import { TdaStatistic, tdaPolicy } from '../src/reference/policies/tda.js';
import { ttPolicy } from '../src/reference/policies/tt.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { PACKAGE_ROOT } from '../src/proofs/report.js';

const model = syntheticModel({ dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 32, seqLen: 64, ffnKind: 'swiglu' }, 5);
const rng = new Rng(3);
const randomVec = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());

describe('statistics of the readings', () => {
  const T = 6;
  const xs = Array.from({ length: T }, () => randomVec(16));
  const ffn = model.weights.layers[0].ffn;
  const acts = xs.map((x) => {
    const a = new Float32Array(40);
    ffnActivations(a, x, ffn, 'swiglu');
    return a;
  });
  const norms = downColumnNorms(ffn, 16);
  const feed = (v: (typeof TDA_VARIANTS)[number]) => {
    const s = variantStatistic(model, v, 0);
    acts.forEach((a, t) => s.add(a, xs[t]));
    return s.values();
  };

  it('tt-union is the max and tt-mean the mean of |a|·‖W_down[:, i]‖ over the prompt', () => {
    const union = feed('tt-union');
    const mean = feed('tt-mean');
    for (let i = 0; i < 40; i++) {
      const m = acts.map((a) => Math.abs(a[i]) * norms[i]);
      expect(union[i]).toBe(Math.max(...m));
      expect(mean[i]).toBeCloseTo(m.reduce((p, q) => p + q, 0) / T, 14);
    }
  });

  it('griffin-stat is Griffin’s score divided by √T (the same ranking)', () => {
    const g = feed('griffin-stat');
    for (let i = 0; i < 40; i++) {
      const z2 = acts.reduce((s, a) => s + (a[i] * a[i]) / a.reduce((q, v) => q + v * v, 0), 0);
      expect(g[i]).toBeCloseTo(Math.sqrt(z2 / T), 14);
    }
  });

  it('gate-up-l2 is sqrt(mean_t (|gate_i·x_t|·|up_i·x_t|)²), computed here in float64 from the weights', () => {
    const e = feed('gate-up-l2');
    for (let i = 0; i < 40; i++) {
      let s = 0;
      for (const x of xs) {
        let g = 0;
        let u = 0;
        for (let j = 0; j < 16; j++) (g += ffn.gate![i * 16 + j] * x[j]), (u += ffn.up[i * 16 + j] * x[j]);
        s += (g * u) ** 2;
      }
      expect(e[i]).toBeCloseTo(Math.sqrt(s / T), 12);
    }
  });

  it('eq18-topk keeps the top-k of the kit’s statistic; cett-prompt thresholds the kit’s statistic', () => {
    const kit = new TdaStatistic(norms);
    acts.forEach((a) => kit.add(a));
    expect(Array.from(feed('eq18-topk'))).toEqual(Array.from(kit.values()));
    expect(Array.from(feed('cett-prompt'))).toEqual(Array.from(kit.values()));
  });
});

describe('variant policies and calibration units', () => {
  const seq = Array.from({ length: 20 }, (_, i) => 1 + ((i * 7) % 31));
  const pass = recordPass(model, { description: 't', sequences: [seq], promptLength: 8 });

  it('recordPass records the FFN input x_t that gives the recorded a_t', () => {
    const a = new Float32Array(40);
    ffnActivations(a, pass.inputs[1][0][5], model.weights.layers[1].ffn, 'swiglu');
    expect(Array.from(a)).toEqual(Array.from(pass.acts[1][0][5]));
  });

  it('cett-prompt measures its error on the prompt tokens, the others on the generated ones', () => {
    expect(variantUnits(model, 'cett-prompt', 0, pass, 8)[0].tokens).toEqual(pass.acts[0][0].slice(0, 8));
    expect(variantUnits(model, 'tt-union', 0, pass, 8)[0].tokens).toEqual(pass.acts[0][0].slice(8));
  });

  it('a variant with zero thresholds is exactly Dense; eq18-topk at density 0.5 keeps round(0.5·d_ff) per layer', () => {
    const dense = generate(model, { promptTokens: seq.slice(0, 8), steps: 16, keepLogits: true, forcedTokens: seq.slice(8, 16), policy: tdaPolicy(model, [0, 0]) });
    for (const v of TDA_VARIANTS.filter((x) => x !== 'eq18-topk')) {
      const r = generate(model, { promptTokens: seq.slice(0, 8), steps: 16, keepLogits: true, forcedTokens: seq.slice(8, 16), policy: tdaVariantPolicy(model, v, { thresholds: [0, 0] }) });
      expect(r.logits, v).toEqual(dense.logits);
    }
    const p = tdaVariantPolicy(model, 'eq18-topk', { density: 0.5 });
    const r = generate(model, { promptTokens: seq.slice(0, 8), steps: 10, policy: p });
    for (const m of r.masks) expect(m!.length).toBe(20);
    expect(r.method).toBe('tda');
  });

  it('eq18-topk picks the same neurons as topK of the kit’s statistic over the prompt', () => {
    const stats = model.weights.layers.map((l) => new TdaStatistic(downColumnNorms(l.ffn, 16)));
    pass.acts.forEach((perSeq, l) => perSeq[0].slice(0, 8).forEach((a) => stats[l].add(a)));
    const r = generate(model, { promptTokens: seq.slice(0, 8), steps: 9, policy: tdaVariantPolicy(model, 'eq18-topk', { density: 0.25 }) });
    r.masks.forEach((m, l) => expect(Array.from(m!)).toEqual(Array.from(topK(stats[l].values(), 10))));
  });
});

describe('shared-prefill quality (forced.ts)', () => {
  it('equals one generate() per method, bit for bit, and reports each method’s density', () => {
    const tokens = Array.from({ length: 21 }, (_, i) => (i === 0 ? 1 : 2 + ((i * 11) % 29)));
    const text: ForcedText = { tokens, promptLength: 8 };
    const make = () => [ttPolicy(model, [0.05, 0.05]), tdaPolicy(model, [0.1, 0.12]), griffinPolicy(model, 0.4), tdaVariantPolicy(model, 'gate-up-l2', { thresholds: [0.5, 0.5] })];
    const fast = forcedQualities(model, text, () => make());
    const run = (policy: ReturnType<typeof make>[number]) =>
      generate(model, { promptTokens: tokens.slice(0, 8), steps: tokens.length, keepLogits: true, forcedTokens: tokens.slice(8), policy });
    const dense = run(tdaPolicy(model, [0, 0]));
    make().forEach((policy, k) => {
      const slow = run(policy);
      // generate() keeps the logits of the last prompt position too (shared by all methods): drop it.
      const q = compareLogits(dense.logits!.slice(1), slow.logits!.slice(1), tokens.slice(9));
      expect(fast[k].kl, policy.method).toBe(q.meanKl);
      expect(fast[k].top1).toBe(q.top1Agreement);
      expect(fast[k].nll).toBe(q.methodNll);
      const density = slow.layers.reduce((s, l) => s + l.kept / l.total, 0) / slow.layers.length;
      expect(fast[k].density).toBeCloseTo(density, 14);
    });
  });

  it('maskDensity after replaying a prompt is the kept share of the masks', () => {
    const tokens = Array.from({ length: 14 }, (_, i) => 1 + ((i * 5) % 31));
    let seen = 0;
    forcedQualities(model, { tokens, promptLength: 8 }, (prompt) => {
      seen = maskDensity(replayPrompt(griffinPolicy(model, 0.25), prompt), 40);
      return [];
    });
    expect(seen).toBe(0.25);
  });
});

describe('tda generate --tda-variant', () => {
  // Asynchronous child processes: the worker stays responsive on a busy machine.
  const tda = (args: string[]) =>
    promisify(execFile)(process.execPath, [join(PACKAGE_ROOT, 'bin', 'tda.js'), ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, TDA_CLI_FROM: 'dist' } })
      .then((r) => ({ code: 0, ...r }))
      .catch((e: { code: number; stdout: string; stderr: string }) => e);

  it('runs a reading of TDA and reports method tda; rejects bad variants in one line', { timeout: 180_000 }, async () => {
    const [ok, unknown, wrongMethod] = await Promise.all([
      tda(['generate', '--prompt', 'Once upon a time', '--steps', '24', '--method', 'tda', '--tda-variant', 'eq18-topk', '--density', '0.5', '--json']),
      tda(['generate', '--prompt', 'x', '--steps', '4', '--method', 'tda', '--tda-variant', 'nope']),
      tda(['generate', '--prompt', 'x', '--steps', '4', '--method', 'griffin', '--tda-variant', 'tt-union']),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.method).toBe('tda');
    for (const l of out.layers) expect(l.kept).toBe(Math.round(0.5 * l.total));
    for (const r of [unknown, wrongMethod]) {
      expect(r.code).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/tda-variant/);
    }
  });
});
