// End to end: greedy generation for every method and every prompt, on the backend
// and on the reference — on stories260K with its golden prompts (Dense also
// against llama2.c's golden tokens) and on synthetic models of realistic shapes,
// one per FFN kind. Per position where the tokens agree, the largest logit error
// must stay within the logit tolerance: 4× the largest deviation that a
// legitimate float32 implementation (fp32twin.ts) shows against the reference
// along the same tokens. A flip of the argmax is allowed — "ambiguous", not a
// failure — only where the reference's top-2 margin is within that tolerance.
// A reduced-precision backend is compared with the reference on the weights as it
// stores them (stored.ts), so its tolerance is as tight as float32's; a backend that
// keeps an F16 KV cache (src/core/kv-cache.ts) likewise, with the reference and the twin
// keeping the same cache (the rounding of K/V rows is part of the run). Finally the
// first prompt runs once more after the others: tokens and logits must be
// bit-identical to its first run (no state carried from one prompt to the next).

import { referenceKernels } from '../reference/kernels.js';
import type { Kernels } from '../core/kernels.js';
import { type KvType, kvTypeFor } from '../core/kv-cache.js';
import { downColumnNorms } from '../reference/ffn.js';
import { type GenerationResult, generate } from '../reference/generate.js';
import type { Model } from '../core/model.js';
import { densePolicy } from '../reference/policies/dense.js';
import { griffinPolicy } from '../reference/policies/griffin.js';
import { tdaPolicy, TdaStatistic } from '../reference/policies/tda.js';
import { ttPolicy } from '../reference/policies/tt.js';
import { type FfnPolicy, type Method, planForMask } from '../reference/policies/types.js';
import { fp32Kernels } from './fp32twin.js';
import type { CheckContext } from './kernels.js';
import { errorRow } from './masks.js';
import type { ReportRow } from './report.js';
import { storedModel } from './stored.js';
import { logitTolerance, type Precision } from './tolerance.js';
import { syntheticModel } from '../reference/synthetic.js';
import { Rng } from '../reference/random.js';
import type { FfnKind } from '../core/model.js';

export const E2E_METHODS: readonly Method[] = ['dense', 'tt', 'griffin', 'tda'];

/**
 * Fixed per-layer thresholds near 50% density, from the reference's dense prefill
 * of all golden prompts: TT, the median neuron output magnitude |a|·‖d‖ over all
 * prompt tokens; TDA, the median of the per-prompt statistic. Not calibrate.ts:
 * its thresholds depend on a calibration set and settings that may change, while
 * a conformance check needs thresholds that are fixed and cheap; any fixed list
 * exercises the same code paths.
 */
export function quantileThresholds(model: Model, prompts: number[][]): { tt: number[]; tda: number[] } {
  const { dim, nLayers } = model.config;
  const norms = model.weights.layers.map((l) => downColumnNorms(l.ffn, dim));
  const mags: number[][] = Array.from({ length: nLayers }, () => []);
  const stats: number[][] = Array.from({ length: nLayers }, () => []);
  for (const p of prompts) {
    const tda = norms.map((n) => new TdaStatistic(n));
    const recorder: FfnPolicy = {
      ...densePolicy(),
      observePrompt(l, a) {
        for (let i = 0; i < a.length; i++) mags[l].push(Math.abs(a[i]) * norms[l][i]);
        tda[l].add(a);
      },
    };
    generate(model, { promptTokens: p, steps: p.length, policy: recorder });
    tda.forEach((s, l) => stats[l].push(...s.values()));
  }
  const med = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { tt: mags.map(med), tda: stats.map(med) };
}

export function policyFor(method: Method, model: Model, th: { tt: number[]; tda: number[] }): FfnPolicy {
  if (method === 'dense') return densePolicy();
  if (method === 'tt') return ttPolicy(model, th.tt);
  if (method === 'griffin') return griffinPolicy(model, 0.5);
  return tdaPolicy(model, th.tda);
}

/**
 * A policy that replays given masks (Griffin / TDA after prefill). Used to compare
 * a backend with the reference *under the backend's own masks* when an ambiguous
 * neuron (one at its threshold within the statistic's bound; masks.ts) went the
 * other way: a different mask is a legitimately different computation, not drift.
 */
export function fixedMaskPolicy(method: Method, masks: (Int32Array | null)[], hiddenDim: number): FfnPolicy {
  const full = Int32Array.from({ length: hiddenDim }, (_, i) => i);
  return {
    method,
    observePrompt: () => {},
    endPrompt: () => {},
    plan: (l) => planForMask(masks[l] ?? full, hiddenDim),
    selectForToken: () => null,
    masks: () => masks,
  };
}

function maskDiff(a: (Int32Array | null)[], b: (Int32Array | null)[], hiddenDim: number): number {
  let d = 0;
  for (let l = 0; l < Math.max(a.length, b.length); l++) {
    const sa = new Uint8Array(hiddenDim);
    const sb = new Uint8Array(hiddenDim);
    for (const i of a[l] ?? []) sa[i] = 1;
    for (const i of b[l] ?? []) sb[i] = 1;
    for (let i = 0; i < hiddenDim; i++) if (sa[i] !== sb[i]) d++;
  }
  return d;
}

// Reference and twin runs depend only on (model, method, prompt, steps, precision):
// computed once per process, so checking several backends costs one reference pass.
const refCache = new Map<string, GenerationResult>();
const driftCache = new Map<string, Float64Array>();

function cached<T>(m: Map<string, T>, key: string, make: () => T): T {
  let v = m.get(key);
  if (v === undefined) m.set(key, (v = make()));
  return v;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as NaN
  }
  return m;
}

function top2Margin(l: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (const v of l) {
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  return a - b;
}

interface Divergence {
  pos: number; // index into generated tokens
  expected: number;
  got: number;
}

function firstDivergence(expected: number[], got: number[]): Divergence | null {
  const n = Math.max(expected.length, got.length);
  for (let i = 0; i < n; i++) if (expected[i] !== got[i]) return { pos: i, expected: expected[i], got: got[i] };
  return null;
}

export interface Generation {
  tokens: ArrayLike<number>;
  /** One row of vocabSize logits per generated token. */
  logits: Float32Array[];
}

/**
 * The one rule for generated tokens and logits (in-process end-to-end rows and
 * `tda vectors check`): at every generated token up to and including the first
 * divergence the context is the same, so each logit must lie within `tol` of the
 * reference's; a divergence fails unless the reference's top-2 margin there is
 * within `tol` (an ambiguous flip: reported, and nothing after it is compared).
 */
export function judgeGeneration(ref: Generation, got: Generation, tol: number, label: string): { maxAbs: number; maxRatio: number; fail?: string; notes: string[] } {
  let maxAbs = 0;
  let maxRatio = 0;
  let fail: string | undefined;
  const notes: string[] = [];
  const div = firstDivergence(Array.from(ref.tokens), Array.from(got.tokens));
  const upto = Math.min(div ? div.pos + 1 : Infinity, got.logits.length, ref.logits.length);
  for (let i = 0; i < upto; i++) {
    if (got.logits[i].length !== ref.logits[i].length) {
      fail ??= `${label}: ${got.logits[i].length} logits at generated token ${i}, expected ${ref.logits[i].length}`;
      break;
    }
    const d = maxAbsDiff(got.logits[i], ref.logits[i]);
    if (!(d <= maxAbs)) maxAbs = d;
    if (!(d / tol <= maxRatio)) maxRatio = d / tol;
    if (!(d <= tol)) fail ??= `${label}: logit error ${d.toExponential(3)} at generated token ${i} > logit tolerance ${tol.toExponential(3)}`;
  }
  if (div) {
    const margin = div.pos < ref.logits.length ? top2Margin(ref.logits[div.pos]) : Infinity;
    const msg = `${label}: first divergence at generated token ${div.pos} (reference ${div.expected}, backend ${div.got}), reference top-2 margin ${margin.toExponential(2)}, logit tolerance ${tol.toExponential(2)}`;
    if (margin <= tol) notes.push(`ambiguous flip — ${msg}`);
    else fail ??= msg;
  }
  return { maxAbs, maxRatio, fail, notes };
}

/** One model to generate with, and its prompts (golden: llama2.c's tokens for Dense). */
export interface E2eModel {
  /** Shown in the check name: "" for stories260K ("e2e dense"), else e.g. "synthetic swiglu …". */
  name: string;
  model: Model;
  prompts: { tokens: number[]; label: string; golden?: number[] }[];
  /** Forward passes per prompt (golden: 256); quick runs use fewer and compare prefixes. */
  steps: number;
  methods: readonly Method[];
}

export interface E2eOptions {
  models: E2eModel[];
  precision: Precision;
}

/**
 * Synthetic models of realistic shapes, one per FFN kind: matvec widths that are
 * no power of two, head sizes 80 / 256 / 96 / 64 with GQA groups 2 / 1 / 1 / 8,
 * FFN widths 864 … 1031 (TDA masks of hundreds of neurons). Seeded: the same
 * every run. Only the models with a row that `wanted` selects are built (a run with
 * --only on kernel checks should not pay for generating their weights).
 */
export function syntheticE2eModels(seed: number, quick: boolean, wanted: (check: string) => boolean = () => true): E2eModel[] {
  // TDA prefills densely (ffnActivations + ffnDown) and generates sliced
  // (ffnSliced), so it covers every FFN kernel; TT adds per-token kept lists.
  const shapes: { kind: FfnKind; dim: number; nHeads: number; nKvHeads: number; hiddenDim: number; methods: Method[] }[] = [
    { kind: 'swiglu', dim: 320, nHeads: 4, nKvHeads: 2, hiddenDim: 864, methods: ['tda', 'tt'] },
    { kind: 'geglu', dim: 256, nHeads: 1, nKvHeads: 1, hiddenDim: 1031, methods: ['tda'] },
    { kind: 'relu', dim: 288, nHeads: 3, nKvHeads: 3, hiddenDim: 1000, methods: ['tda'] },
    { kind: 'gelu', dim: 512, nHeads: 8, nKvHeads: 1, hiddenDim: 517, methods: ['tda'] },
  ];
  const nameOf = (s: (typeof shapes)[number]) => `synthetic ${s.kind} d${s.dim} h${s.dim / s.nHeads} g${s.nHeads / s.nKvHeads} ff${s.hiddenDim}`;
  return shapes.flatMap((s, k) => {
    const name = nameOf(s);
    if (!s.methods.some((m) => wanted(`e2e ${m} (${name})`))) return [];
    const model = syntheticModel(
      { dim: s.dim, hiddenDim: s.hiddenDim, nLayers: 2, nHeads: s.nHeads, nKvHeads: s.nKvHeads, vocabSize: 700, seqLen: 64, ffnKind: s.kind },
      seed * 101 + k,
    );
    const rng = new Rng(seed * 131 + k);
    const prompts = [0, 1].map((p) => {
      const tokens = [1, ...Array.from({ length: 4 }, () => 2 + rng.nextInt(698))];
      return { tokens, label: `prompt ${p} [${tokens.join(' ')}]` };
    });
    return {
      name,
      model,
      prompts,
      steps: quick ? 11 : 40,
      methods: s.methods,
    };
  });
}

export function runEndToEnd(
  K: Kernels,
  ctx: CheckContext,
  o: E2eOptions,
  only?: (c: string) => boolean,
  onRow?: (row: ReportRow) => void,
): ReportRow[] {
  const rows: ReportRow[] = [];
  const push = (r: ReportRow) => {
    rows.push(r);
    onRow?.(r);
  };
  for (const em of o.models) {
    const checks = em.methods.map((m) => (em.name ? `e2e ${m} (${em.name})` : `e2e ${m}`));
    if (only && !checks.some(only)) continue;
    let judgeModel: Model;
    let th: { tt: number[]; tda: number[] };
    try {
      // The reference side: the model as the backend stores it (reduced precision only).
      judgeModel = o.precision === 'fp32' ? em.model : storedModel(em.model, K);
      th = cached(thresholdCache, em.model.fingerprint, () => quantileThresholds(em.model, em.prompts.map((p) => p.tokens)));
    } catch (e) {
      push(errorRow(ctx, checks[0], e));
      continue;
    }
    em.methods.forEach((method, i) => {
      if (only && !only(checks[i])) return;
      try {
        push(e2eMethod(K, ctx, em, judgeModel, method, th, checks[i], o.precision));
      } catch (e) {
        push(errorRow(ctx, checks[i], e));
      }
    });
  }
  return rows;
}

const thresholdCache = new Map<string, { tt: number[]; tda: number[] }>();

function sameRun(a: GenerationResult, b: GenerationResult): string | undefined {
  const div = firstDivergence(a.tokens, b.tokens);
  if (div) return `token ${div.pos}: ${div.expected} then ${div.got}`;
  for (let i = 0; i < a.logits!.length; i++) {
    const x = new Int32Array(a.logits![i].buffer);
    const y = new Int32Array(b.logits![i].buffer);
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return `logit ${j} at generated token ${i}: ${a.logits![i][j]} then ${b.logits![i][j]}`;
  }
  return undefined;
}

function e2eMethod(
  K: Kernels,
  ctx: CheckContext,
  em: E2eModel,
  judgeModel: Model,
  method: Method,
  th: { tt: number[]; tda: number[] },
  check: string,
  precision: Precision,
): ReportRow {
  const { model, steps } = em;
  let maxAbs = 0;
  let maxRatio = 0;
  let fail: string | undefined;
  const notes: string[] = [];
  const hidden = model.config.hiddenDim;
  const sliced = method === 'griffin' || method === 'tda';
  const runs: GenerationResult[] = [];
  // The cache the backend keeps (its default): the reference and the twin keep the same one.
  const kvCache: KvType = kvTypeFor(K);
  if (kvCache !== 'f32') notes.push(`${kvCache.toUpperCase()} KV cache, kept by the reference and the twin too`);
  em.prompts.forEach((pr, k) => {
    const p = pr.tokens;
    const key = `${judgeModel.fingerprint}|${method}|${p.join(',')}|${steps}|${kvCache}`;
    const refRun = cached(refCache, key, () =>
      generate(judgeModel, { promptTokens: p, steps, policy: policyFor(method, model, th), kernels: referenceKernels, keepLogits: true, kvCache }),
    );
    const got = generate(model, { promptTokens: p, steps, policy: policyFor(method, model, th), kernels: K, keepLogits: true });
    runs.push(got);
    const differing = sliced ? maskDiff(refRun.masks, got.masks, hidden) : 0;
    // Under the backend's masks when an ambiguous neuron flipped (see fixedMaskPolicy).
    const ref = differing
      ? generate(judgeModel, { promptTokens: p, steps, policy: fixedMaskPolicy(method, got.masks, hidden), kernels: referenceKernels, keepLogits: true, kvCache })
      : refRun;
    if (differing) notes.push(`${pr.label}: masks differ in ${differing} neuron(s) (the mask rows judge them); tokens compared under the backend's masks`);
    // Legitimate drift: the fp32 twin along the reference's tokens, with the
    // reference's masks fixed so that only arithmetic differs.
    const twinPolicy = () => (sliced ? fixedMaskPolicy(method, ref.masks, hidden) : policyFor(method, model, th));
    const makeDrift = () => {
      const twin = generate(judgeModel, {
        promptTokens: p,
        steps,
        policy: twinPolicy(),
        kernels: fp32Kernels('sequential', 'fp32'),
        forcedTokens: ref.tokens,
        keepLogits: true,
        kvCache,
      });
      return Float64Array.from(twin.logits!, (l, i) => maxAbsDiff(l, ref.logits![i]));
    };
    const drift = differing ? makeDrift() : cached(driftCache, key, makeDrift);
    const tol = logitTolerance(Math.max(...drift));
    const j = judgeGeneration({ tokens: ref.tokens, logits: ref.logits! }, { tokens: got.tokens, logits: got.logits! }, tol, pr.label);
    maxAbs = Math.max(maxAbs, j.maxAbs);
    maxRatio = Math.max(maxRatio, j.maxRatio);
    fail ??= j.fail;
    notes.push(...j.notes);
    const div = firstDivergence(ref.tokens, got.tokens);
    if (method === 'dense' && pr.golden && precision === 'fp32') {
      // llama2.c's golden tokens, truncated to the steps run here.
      const n = steps - p.length + 1;
      const want = pr.golden.slice(0, n);
      const gdiv = firstDivergence(want, got.tokens.slice(0, want.length));
      const rdiv = firstDivergence(want, ref.tokens.slice(0, want.length));
      if (rdiv) notes.push(`${pr.label}: the REFERENCE differs from the golden file at token ${rdiv.pos}`);
      if (gdiv && (!div || div.pos > gdiv.pos)) fail ??= `${pr.label}: differs from the golden file at token ${gdiv.pos} (golden ${gdiv.expected}, backend ${gdiv.got})`;
    }
  });
  // The first prompt again, after the others: a backend that carries state from
  // one prompt to the next (a stale cache, a scratch buffer) differs here.
  const first = em.prompts[0].tokens;
  const again = generate(model, { promptTokens: first, steps, policy: policyFor(method, model, th), kernels: K, keepLogits: true });
  const changed = sameRun(runs[0], again);
  if (changed) fail ??= `${em.prompts[0].label} run again after the other prompts is not bit-identical to its first run (${changed})`;
  if (fail) notes.unshift(fail);
  return {
    backend: ctx.backend,
    device: ctx.device,
    check,
    cases: em.prompts.length + 1,
    maxAbsErr: maxAbs,
    maxErrOverBound: maxRatio,
    tolerance: 'logits ≤ 4·fp32 drift; tokens equal; rerun same bits',
    verdict: fail ? 'fail' : 'pass',
    notes: notes.length ? notes.join('; ') : undefined,
  };
}
