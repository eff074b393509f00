// Conformance vectors: the harness's cases written to files, for kernels in any
// language (docs/vectors.md is the format's specification). Three steps:
//   exportVectors  cases → manifest.json + one safetensors file per case
//   runVectors     a backend's kernels over the cases → one result file per case
//   checkVectors   results written by anything → the same report as `tda conformance`
// Judging uses the harness's own rules (judge.ts compare for kernels, the tie rule
// for masks, judgeGeneration for generated tokens), so a vector passes exactly
// when the in-process check would. File access is passed in by the caller (the
// CLI uses node:fs; a browser page can use fetch).

import fc from 'fast-check';
import type { Kernels } from '../core/kernels.js';
import { type FfnKind, fillPendingWeights, type Model } from '../core/model.js';
import { referenceKernels } from '../reference/kernels.js';
import { downColumnNorms } from '../reference/ffn.js';
import { generate } from '../reference/generate.js';
import { GriffinScore, griffinK, topK } from '../reference/policies/griffin.js';
import { TdaStatistic } from '../reference/policies/tda.js';
import type { Method } from '../reference/policies/types.js';
import { type CaseArrays, type CaseParams, KERNEL_NAMES, type KernelCall, type KernelName, runCall } from './cases.js';
import { fixedMaskPolicy, judgeGeneration, policyFor, quantileThresholds } from './endToEnd.js';
import { fp32Kernels } from './fp32twin.js';
import { compare, type CaseResult, mergeResults } from './judge.js';
import { judgedCase, KERNEL_GENERATORS, TOLERANCE_TEXT } from './kernels.js';
import { tracePrefill } from './masks.js';
import { type ConformanceReport, finishReport, type ReportRow } from './report.js';
import { gamma, logitTolerance, type Precision } from './tolerance.js';
import { decodeSafetensors, encodeSafetensors, type Tensor } from './vectors-io.js';
import type { BackendInfo } from '../core/kernels.js';

export const VECTORS_FORMAT = 'tda-kit/vectors@1';

export type VectorKind = KernelName | 'mask' | 'generate';

export interface VectorCase {
  id: string;
  kernel: VectorKind;
  /** Relative to the manifest's folder. */
  file: string;
  /** Scalar arguments (kernels), or the mask / generation settings. */
  params: CaseParams;
}

export interface Manifest {
  format: typeof VECTORS_FORMAT;
  /** The precision the bounds are computed for (fp32, or a backend's fp16 / bf16 weights). */
  precision: Precision;
  seed: number;
  quick: boolean;
  cases: VectorCase[];
}

export interface VectorFiles {
  read(file: string): Uint8Array;
  write(file: string, bytes: Uint8Array): void;
}

export interface ExportOptions {
  seed: number;
  quick: boolean;
  precision: Precision;
  /** Models for the mask and generation cases, with their prompts. */
  models: { name: string; model: Model; prompts: number[][] }[];
  onCase?: (c: VectorCase, bytes: number) => void;
}

/** Per kernel: the fixed examples and this many seeded random cases. */
const RANDOM_CASES = { quick: 12, full: 40 };
/** --quick leaves out cases above this many array elements (the LLaMA-size ones: 180 MB each; the quick set stays under 50 MB). */
const QUICK_MAX_ELEMENTS = 1 << 21;

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

function kernelTensors(c: KernelCall): Record<string, Tensor> {
  const t: Record<string, Tensor> = {};
  for (const [n, a] of Object.entries(c.arrays)) t[n] = a;
  return t;
}

export function exportVectors(o: ExportOptions, files: VectorFiles): Manifest {
  const cases: VectorCase[] = [];
  const put = (id: string, kernel: VectorKind, params: CaseParams, tensors: Record<string, Tensor>, meta: Record<string, string>) => {
    const file = `${id}.safetensors`;
    const bytes = encodeSafetensors(tensors, meta);
    files.write(file, bytes);
    const c = { id, kernel, file, params };
    cases.push(c);
    o.onCase?.(c, bytes.length);
  };
  for (const kernel of KERNEL_NAMES) {
    const gen = KERNEL_GENERATORS[kernel];
    const descs = [...gen.examples(o.quick), ...fc.sample(gen.arb, { seed: o.seed, numRuns: o.quick ? RANDOM_CASES.quick : RANDOM_CASES.full })];
    let k = 0;
    for (const d of descs) {
      const call = gen.call(d, o.precision);
      const size = Object.values(call.arrays).reduce((s, a) => s + a.length, 0);
      if (o.quick && size > QUICK_MAX_ELEMENTS) continue;
      const c = judgedCase(kernel, d, o.precision);
      put(`${kernel}-${String(k++).padStart(3, '0')}`, kernel, c.params, { ...kernelTensors(c), expected: f64(c.expected), bound: c.bound }, { case: JSON.stringify(d) });
    }
  }
  for (const m of o.models) {
    fillPendingWeights(m.model); // the model's values are written out and read in JS
    const th = quantileThresholds(m.model, m.prompts);
    m.prompts.forEach((p, k) => {
      for (const mc of maskCases(m.model, p, th)) put(`mask-${mc.params.method}-${m.name}-${k}`, 'mask', { ...mc.params, model: m.name }, mc.tensors, {});
    });
    const steps = Math.min(o.quick ? 32 : 128, m.model.config.seqLen);
    const modelFile = `model-${m.name}.safetensors`;
    files.write(modelFile, encodeSafetensors(modelTensors(m.model)));
    for (const method of ['dense', 'tda', 'griffin'] as Method[]) {
      m.prompts.forEach((p, k) => {
        const g = generationCase(m.model, method, p, steps, th);
        put(`generate-${method}-${m.name}-${k}`, 'generate', { ...g.params, model_file: modelFile, ...configParams(m.model) }, g.tensors, {});
      });
    }
  }
  const manifest: Manifest = { format: VECTORS_FORMAT, precision: o.precision, seed: o.seed, quick: o.quick, cases };
  files.write('manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`));
  return manifest;
}

// ---------------------------------------------------------------------------
// Masks: a prompt's dense activations per layer (the reference's), the kit's
// statistic of every neuron, the threshold, and the expected keep flags. A
// consumer computes its own flags from the activations; a flag may differ only
// where |stat − threshold| ≤ bound (float32 evaluation of the statistic; the tie
// rule of docs/tolerances.md).

interface MaskCase { params: CaseParams; tensors: Record<string, Tensor> }

function maskCases(model: Model, prompt: number[], th: { tt: number[]; tda: number[] }): MaskCase[] {
  const { nLayers, hiddenDim: H, dim } = model.config;
  const traces = tracePrefill(model, referenceKernels, prompt, 'fp32');
  const T = prompt.length;
  const acts: Record<string, Tensor> = {};
  const norms: Record<string, Tensor> = {};
  traces.forEach((tr, l) => {
    const a = new Float32Array(T * H);
    tr.aRef.forEach((row, t) => a.set(row, t * H));
    acts[`a.${l}`] = a;
    norms[`down_norms.${l}`] = downColumnNorms(model.weights.layers[l].ffn, dim);
  });
  const eps = gamma(H + T + 8);
  const out: MaskCase[] = [];
  // TT: per token and neuron, m = |a|·‖d‖ ≥ τ_l.
  {
    const n = nLayers * T * H;
    const expected = new Float64Array(n);
    const stat = new Float64Array(n);
    const thr = new Float64Array(n);
    traces.forEach((tr, l) => {
      const nm = downColumnNorms(model.weights.layers[l].ffn, dim);
      tr.aRef.forEach((a, t) => {
        for (let i = 0; i < H; i++) {
          const at = (l * T + t) * H + i;
          stat[at] = Math.abs(a[i]) * nm[i];
          thr[at] = th.tt[l];
          expected[at] = stat[at] >= th.tt[l] ? 1 : 0;
        }
      });
    });
    out.push({ params: { method: 'tt', n_layers: nLayers, tokens: T, hidden: H }, tensors: { ...acts, ...norms, stat, threshold: thr, expected, bound: stat.map((s, i) => eps * (s + thr[i])) } });
  }
  // TDA: s_i = sqrt(mean_t (m_ti / ‖m_t‖)²) ≥ τ_l.  Griffin: top k of sqrt(Σ_t (a_ti / ‖a_t‖)²), ties to the lower id.
  for (const method of ['tda', 'griffin'] as const) {
    const n = nLayers * H;
    const expected = new Float64Array(n);
    const stat = new Float64Array(n);
    const thr = new Float64Array(n);
    traces.forEach((tr, l) => {
      let s: Float64Array;
      let tau: number;
      let kept: Set<number>;
      if (method === 'tda') {
        const st = new TdaStatistic(downColumnNorms(model.weights.layers[l].ffn, dim));
        tr.aRef.forEach((a) => st.add(a));
        s = st.values();
        tau = th.tda[l];
        kept = new Set([...s.keys()].filter((i) => s[i] >= tau));
      } else {
        const g = new GriffinScore(H);
        tr.aRef.forEach((a) => g.add(a));
        s = g.scores();
        const k = griffinK(0.5, H);
        const ids = topK(s, k);
        kept = new Set(ids);
        tau = Math.min(...Array.from(ids, (i) => s[i])); // the k-th score: the cut
      }
      for (let i = 0; i < H; i++) {
        stat[l * H + i] = s[i];
        thr[l * H + i] = tau;
        expected[l * H + i] = kept.has(i) ? 1 : 0;
      }
    });
    const params: CaseParams = { method, n_layers: nLayers, tokens: T, hidden: H };
    if (method === 'griffin') params.density = 0.5;
    out.push({ params, tensors: { ...acts, ...norms, stat, threshold: thr, expected, bound: stat.map((x, i) => eps * (x + thr[i])) } });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Generation: greedy decoding of a prompt with the model's weights (one shared
// file per model), for Dense and for TDA / Griffin with the reference's masks
// given (kept.{l}, used from the first generated token on; prefill is dense).

function configParams(m: Model): CaseParams {
  const c = m.config;
  return {
    dim: c.dim,
    hidden_dim: c.hiddenDim,
    n_layers: c.nLayers,
    n_heads: c.nHeads,
    n_kv_heads: c.nKvHeads,
    vocab_size: c.vocabSize,
    seq_len: c.seqLen,
    ffn_kind: c.ffnKind,
    norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
  };
}

function modelTensors(m: Model): Record<string, Tensor> {
  const w = m.weights;
  const t: Record<string, Tensor> = { token_embedding: w.tokenEmbedding, rms_final: w.rmsFinal, classifier: w.classifier };
  w.layers.forEach((l, i) => {
    Object.assign(t, { [`layers.${i}.rms_att`]: l.rmsAtt, [`layers.${i}.wq`]: l.wq, [`layers.${i}.wk`]: l.wk, [`layers.${i}.wv`]: l.wv, [`layers.${i}.wo`]: l.wo, [`layers.${i}.rms_ffn`]: l.rmsFfn, [`layers.${i}.ffn.up`]: l.ffn.up, [`layers.${i}.ffn.downT`]: l.ffn.downT });
    if (l.ffn.gate) t[`layers.${i}.ffn.gate`] = l.ffn.gate;
    if (l.ffn.upBias) t[`layers.${i}.ffn.upBias`] = l.ffn.upBias;
    if (l.ffn.downBias) t[`layers.${i}.ffn.downBias`] = l.ffn.downBias;
  });
  return t;
}

function generationCase(model: Model, method: Method, prompt: number[], steps: number, th: { tt: number[]; tda: number[] }): MaskCase {
  const H = model.config.hiddenDim;
  const run = generate(model, { promptTokens: prompt, steps, policy: policyFor(method, model, th), kernels: referenceKernels, keepLogits: true });
  const masks = run.masks;
  const fixed = () => (method === 'dense' ? policyFor('dense', model, th) : fixedMaskPolicy(method, masks, H));
  const twin = generate(model, { promptTokens: prompt, steps, policy: fixed(), kernels: fp32Kernels('sequential', 'fp32'), forcedTokens: run.tokens, keepLogits: true });
  let drift = 0;
  twin.logits!.forEach((l, i) => {
    for (let j = 0; j < l.length; j++) drift = Math.max(drift, Math.abs(l[j] - run.logits![i][j]));
  });
  const tol = logitTolerance(drift);
  const V = model.config.vocabSize;
  const expected = new Float64Array(run.logits!.length * V);
  run.logits!.forEach((l, i) => expected.set(l, i * V));
  const tensors: Record<string, Tensor> = {
    prompt: Int32Array.from(prompt),
    expected_tokens: Int32Array.from(run.tokens),
    expected,
    bound: new Float64Array(expected.length).fill(tol),
  };
  if (method !== 'dense') masks.forEach((m, l) => (tensors[`kept.${l}`] = m ?? Int32Array.from({ length: H }, (_, i) => i)));
  return { params: { method, steps, logit_tolerance: tol }, tensors };
}

// ---------------------------------------------------------------------------
// Running a backend over the vectors.

export function readManifest(files: Pick<VectorFiles, 'read'>): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder().decode(files.read('manifest.json')));
  } catch (e) {
    throw new Error(`manifest.json: ${(e as Error).message.split('\n')[0]}`);
  }
  if (m?.format !== VECTORS_FORMAT) throw new Error(`manifest.json: format is ${JSON.stringify(m?.format)}, expected "${VECTORS_FORMAT}"`);
  if (!Array.isArray(m.cases)) throw new Error('manifest.json: no "cases" list');
  return m;
}

function loadCall(c: VectorCase, files: Pick<VectorFiles, 'read'>): { call: KernelCall; tensors: Record<string, Tensor> } {
  const { tensors } = decodeSafetensors(files.read(c.file), c.file);
  const arrays: CaseArrays = {};
  const plain: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(tensors)) {
    plain[n] = t.data;
    if (!['expected', 'bound', 'stat', 'threshold', 'expected_tokens'].includes(n) && !(t.data instanceof Float64Array)) arrays[n] = t.data as Float32Array | Int32Array;
  }
  return { call: { kernel: c.kernel as KernelName, params: c.params, arrays }, tensors: plain };
}

/** Runs every kernel case (masks and generation too) on K; writes `<id>.safetensors` with tensor `out` (and `tokens`). */
export function runVectors(K: Kernels, manifest: Manifest, input: Pick<VectorFiles, 'read'>, output: Pick<VectorFiles, 'write'>, onCase?: (c: VectorCase) => void): void {
  const models = new Map<string, Model>();
  for (const c of manifest.cases) {
    const { call, tensors } = loadCall(c, input);
    let result: Record<string, Tensor>;
    if (c.kernel === 'mask') result = { out: runMask(c, tensors) };
    else if (c.kernel === 'generate') {
      const file = String(c.params.model_file);
      let model = models.get(file);
      if (!model) models.set(file, (model = modelFromVectors(c.params, decodeSafetensors(input.read(file), file).tensors)));
      result = runGeneration(K, model, c, tensors);
    } else result = { out: runCall(K, call) };
    output.write(`${c.id}.safetensors`, encodeSafetensors(result));
    onCase?.(c);
  }
}

/** The kit's own masks from the vectors' activations (what a consumer does). */
function runMask(c: VectorCase, t: Record<string, Tensor>): Int32Array {
  const L = Number(c.params.n_layers);
  const T = Number(c.params.tokens);
  const H = Number(c.params.hidden);
  const method = c.params.method;
  const rows = (l: number) => Array.from({ length: T }, (_, k) => (t[`a.${l}`] as Float32Array).subarray(k * H, (k + 1) * H));
  const threshold = t.threshold as Float64Array;
  if (method === 'tt') {
    const out = new Int32Array(L * T * H);
    for (let l = 0; l < L; l++) {
      const nm = t[`down_norms.${l}`];
      rows(l).forEach((a, k) => {
        for (let i = 0; i < H; i++) out[(l * T + k) * H + i] = Math.abs(a[i]) * nm[i] >= threshold[(l * T + k) * H + i] ? 1 : 0;
      });
    }
    return out;
  }
  const out = new Int32Array(L * H);
  for (let l = 0; l < L; l++) {
    if (method === 'tda') {
      const st = new TdaStatistic(Float64Array.from(t[`down_norms.${l}`]));
      rows(l).forEach((a) => st.add(a));
      const s = st.values();
      for (let i = 0; i < H; i++) out[l * H + i] = s[i] >= threshold[l * H + i] ? 1 : 0;
    } else {
      const g = new GriffinScore(H);
      rows(l).forEach((a) => g.add(a));
      for (const i of topK(g.scores(), griffinK(Number(c.params.density), H))) out[l * H + i] = 1;
    }
  }
  return out;
}

function modelFromVectors(p: CaseParams, t: Record<string, { data: Tensor }>): Model {
  const f = (n: string) => {
    const x = t[n]?.data;
    if (!(x instanceof Float32Array)) throw new Error(`model file: tensor ${n} missing or not F32`);
    return x;
  };
  const opt = (n: string) => (t[n] ? f(n) : null);
  const L = Number(p.n_layers);
  return {
    config: {
      dim: Number(p.dim),
      hiddenDim: Number(p.hidden_dim),
      nLayers: L,
      nHeads: Number(p.n_heads),
      nKvHeads: Number(p.n_kv_heads),
      vocabSize: Number(p.vocab_size),
      seqLen: Number(p.seq_len),
      ffnKind: p.ffn_kind as FfnKind,
      normEps: Number(p.norm_eps),
      ropeTheta: Number(p.rope_theta),
    },
    weights: {
      tokenEmbedding: f('token_embedding'),
      rmsFinal: f('rms_final'),
      classifier: f('classifier'),
      layers: Array.from({ length: L }, (_, i) => ({
        rmsAtt: f(`layers.${i}.rms_att`),
        wq: f(`layers.${i}.wq`),
        wk: f(`layers.${i}.wk`),
        wv: f(`layers.${i}.wv`),
        wo: f(`layers.${i}.wo`),
        rmsFfn: f(`layers.${i}.rms_ffn`),
        ffn: { gate: opt(`layers.${i}.ffn.gate`), up: f(`layers.${i}.ffn.up`), downT: f(`layers.${i}.ffn.downT`), upBias: opt(`layers.${i}.ffn.upBias`), downBias: opt(`layers.${i}.ffn.downBias`) },
      })),
    },
    fingerprint: `vectors:${String(p.model_file)}`,
    source: String(p.model_file),
  };
}

function runGeneration(K: Kernels, model: Model, c: VectorCase, t: Record<string, Tensor>): Record<string, Tensor> {
  const method = c.params.method as Method;
  const H = model.config.hiddenDim;
  const masks = Array.from({ length: model.config.nLayers }, (_, l) => (t[`kept.${l}`] as Int32Array | undefined) ?? null);
  const policy = method === 'dense' ? policyFor('dense', model, { tt: [], tda: [] }) : fixedMaskPolicy(method, masks, H);
  const g = generate(model, { promptTokens: Array.from(t.prompt as Int32Array), steps: Number(c.params.steps), policy, kernels: K, keepLogits: true });
  const V = model.config.vocabSize;
  const out = new Float32Array(g.logits!.length * V);
  g.logits!.forEach((l, i) => out.set(l, i * V));
  return { out, tokens: Int32Array.from(g.tokens) };
}

// ---------------------------------------------------------------------------
// Judging results written by anything.

export interface CheckOptions {
  /** For the report header. */
  backend?: string;
  only?: string[];
}

function rowName(c: VectorCase): string {
  if (c.kernel === 'mask') return `mask ${c.params.method}`;
  if (c.kernel === 'generate') return `e2e ${c.params.method}`;
  return `kernel ${c.kernel}`;
}

export function checkVectors(manifest: Manifest, input: Pick<VectorFiles, 'read'>, results: (id: string) => Uint8Array | undefined, o: CheckOptions = {}): ConformanceReport {
  const t0 = performance.now();
  const groups = new Map<string, { cases: number; r: CaseResult; notes: string[]; tolerance: string }>();
  for (const c of manifest.cases) {
    const name = rowName(c);
    if (o.only?.length && !o.only.some((s) => name.includes(s))) continue;
    let g = groups.get(name);
    if (!g) {
      const tolerance = c.kernel === 'mask' ? 'tie rule: |stat−τ| ≤ its bound' : c.kernel === 'generate' ? 'logits ≤ tolerance; tokens equal' : TOLERANCE_TEXT[c.kernel];
      groups.set(name, (g = { cases: 0, r: { maxAbs: 0, maxRatio: 0 }, notes: [], tolerance }));
    }
    g.cases++;
    let r: CaseResult;
    try {
      r = judgeVector(c, input, results(c.id));
    } catch (e) {
      r = { maxAbs: NaN, maxRatio: NaN, fail: `${c.id}: ${(e as Error).message.split('\n')[0]}` };
    }
    if (r.fail && !g.r.fail) r = { ...r, fail: r.fail.startsWith(c.id) ? r.fail : `${c.id}: ${r.fail}` };
    g.r = mergeResults(g.r, r);
  }
  const rows: ReportRow[] = [...groups].map(([check, g]) => ({
    backend: o.backend ?? 'vectors',
    device: 'results on disk',
    check,
    cases: g.cases,
    maxAbsErr: g.r.maxAbs,
    maxErrOverBound: g.r.maxRatio,
    tolerance: g.tolerance,
    verdict: g.r.fail ? 'fail' : 'pass',
    notes: g.r.fail,
  }));
  const info: BackendInfo = { engine: 'vectors', mode: 'results on disk', device: 'unknown', threads: 0, simd: false, precision: manifest.precision };
  return finishReport({ backend: o.backend ?? 'vectors', info, seed: manifest.seed, runs: 0, quick: manifest.quick, rows, elapsedMs: performance.now() - t0 });
}

function judgeVector(c: VectorCase, input: Pick<VectorFiles, 'read'>, resultBytes: Uint8Array | undefined): CaseResult {
  if (!resultBytes) return { maxAbs: Infinity, maxRatio: Infinity, fail: `no result file ${c.id}.safetensors` };
  const res = decodeSafetensors(resultBytes, `${c.id}.safetensors`).tensors;
  const { tensors } = loadCall(c, input);
  const out = res.out?.data;
  if (!out) return { maxAbs: Infinity, maxRatio: Infinity, fail: 'the result has no tensor "out"' };
  const expected = tensors.expected as Float64Array;
  const bound = tensors.bound as Float64Array;
  if (c.kernel === 'mask') {
    if (out.length !== expected.length) return { maxAbs: Infinity, maxRatio: Infinity, fail: `"out" has ${out.length} flags, expected ${expected.length}` };
    const stat = tensors.stat as Float64Array;
    const thr = tensors.threshold as Float64Array;
    for (let i = 0; i < expected.length; i++) {
      if ((out[i] ? 1 : 0) === expected[i]) continue;
      if (Math.abs(stat[i] - thr[i]) <= bound[i]) continue; // ambiguous: may go either way
      return { maxAbs: 1, maxRatio: Infinity, fail: `flag ${i}: expected ${expected[i]}, got ${out[i]} (statistic ${stat[i]}, threshold ${thr[i]}, tie bound ${bound[i].toExponential(2)})` };
    }
    return { maxAbs: 0, maxRatio: 0 };
  }
  if (c.kernel === 'generate') {
    const V = Number(c.params.vocab_size);
    const tok = res.tokens?.data;
    if (!tok) return { maxAbs: Infinity, maxRatio: Infinity, fail: 'the result has no tensor "tokens"' };
    const rows = (a: ArrayLike<number>) => Array.from({ length: Math.floor(a.length / V) }, (_, i) => Float32Array.from(Array.prototype.slice.call(a, i * V, (i + 1) * V)));
    const j = judgeGeneration({ tokens: tensors.expected_tokens, logits: rows(expected) }, { tokens: tok, logits: rows(out) }, Number(c.params.logit_tolerance), c.id);
    return { maxAbs: j.maxAbs, maxRatio: j.maxRatio, fail: j.fail };
  }
  if (!(out instanceof Float32Array)) return { maxAbs: Infinity, maxRatio: Infinity, fail: '"out" must be F32' };
  return compare(out, Float32Array.from(expected), bound, 'out');
}
