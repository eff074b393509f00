// End to end: greedy generation on stories260K for every method and every golden
// prompt, on the backend and on the reference; tokens must be equal (and, for
// Dense, equal to llama2.c's golden tokens). A backend's logits drift by rounding,
// so a flip of the argmax is allowed — "ambiguous", not a failure — only where the
// reference's top-2 margin at the first divergent position is within the logit
// tolerance: 4× the largest logit deviation that a legitimate float32
// implementation (fp32twin.ts, at the backend's weight precision) shows against the
// reference along the same tokens.

import { referenceKernels } from '../reference/kernels.js';
import type { Kernels } from '../core/kernels.js';
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
import type { GoldenCase } from './models.js';
import type { ReportRow } from './report.js';
import { logitTolerance, type Precision } from './tolerance.js';

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

function policyFor(method: Method, model: Model, th: { tt: number[]; tda: number[] }): FfnPolicy {
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

export interface E2eOptions {
  model: Model;
  golden: GoldenCase[];
  /** Forward passes per prompt (golden: 256); quick runs use fewer and compare prefixes. */
  steps: number;
  precision: Precision;
}

export function runEndToEnd(K: Kernels, ctx: CheckContext, o: E2eOptions, only?: (c: string) => boolean): ReportRow[] {
  const { model, golden } = o;
  const prompts = golden.map((g) => g.prompt_tokens);
  const th = cached(new Map<string, { tt: number[]; tda: number[] }>(), '', () => quantileThresholds(model, prompts));
  const rows: ReportRow[] = [];
  for (const method of E2E_METHODS) {
    const check = `e2e ${method}`;
    if (only && !only(check)) continue;
    try {
      rows.push(e2eMethod(K, ctx, o, method, th));
    } catch (e) {
      rows.push(errorRow(ctx, check, e));
    }
  }
  return rows;
}

function e2eMethod(K: Kernels, ctx: CheckContext, o: E2eOptions, method: Method, th: { tt: number[]; tda: number[] }): ReportRow {
  const { model, golden, steps } = o;
  let maxAbs = 0;
  let maxRatio = 0;
  let fail: string | undefined;
  const notes: string[] = [];
  golden.forEach((g, k) => {
    const p = g.prompt_tokens;
    const key = `${model.fingerprint}|${method}|${p.join(',')}|${steps}`;
    const hidden = model.config.hiddenDim;
    const refRun = cached(refCache, key, () =>
      generate(model, { promptTokens: p, steps, policy: policyFor(method, model, th), kernels: referenceKernels, keepLogits: true }),
    );
    const got = generate(model, { promptTokens: p, steps, policy: policyFor(method, model, th), kernels: K, keepLogits: true });
    const sliced = method === 'griffin' || method === 'tda';
    const differing = sliced ? maskDiff(refRun.masks, got.masks, hidden) : 0;
    // Under the backend's masks when an ambiguous neuron flipped (see fixedMaskPolicy).
    const ref = differing
      ? generate(model, { promptTokens: p, steps, policy: fixedMaskPolicy(method, got.masks, hidden), kernels: referenceKernels, keepLogits: true })
      : refRun;
    if (differing) notes.push(`prompt ${k}: masks differ in ${differing} neuron(s) (the mask rows judge them); tokens compared under the backend's masks`);
    // Legitimate drift: the fp32 twin along the reference's tokens, with the
    // reference's masks fixed so that only arithmetic differs.
    const twinPolicy = () => (sliced ? fixedMaskPolicy(method, ref.masks, hidden) : policyFor(method, model, th));
    const makeDrift = () => {
      const twin = generate(model, {
        promptTokens: p,
        steps,
        policy: twinPolicy(),
        kernels: fp32Kernels('sequential', o.precision),
        forcedTokens: ref.tokens,
        keepLogits: true,
      });
      return Float64Array.from(twin.logits!, (l, i) => maxAbsDiff(l, ref.logits![i]));
    };
    const drift = differing ? makeDrift() : cached(driftCache, `${key}|${o.precision}`, makeDrift);
    const legit = Math.max(...drift);
    const tol = logitTolerance(legit);
    const div = firstDivergence(ref.tokens, got.tokens);
    const upto = div ? div.pos + 1 : Math.min(got.logits!.length, ref.logits!.length);
    for (let i = 0; i < upto && i < got.logits!.length && i < ref.logits!.length; i++) {
      const d = maxAbsDiff(got.logits![i], ref.logits![i]);
      if (!(d <= maxAbs)) maxAbs = d;
      if (!(d / tol <= maxRatio)) maxRatio = d / tol;
    }
    const where = `prompt ${k} ${JSON.stringify(g.prompt)}`;
    if (div) {
      const margin = div.pos < ref.logits!.length ? top2Margin(ref.logits![div.pos]) : Infinity;
      const msg = `${where}: first divergence at generated token ${div.pos} (reference ${div.expected}, backend ${div.got}), reference top-2 margin ${margin.toExponential(2)}, logit tolerance ${tol.toExponential(2)}`;
      if (margin <= tol) notes.push(`ambiguous flip — ${msg}`);
      else fail ??= msg;
    }
    if (method === 'dense') {
      // llama2.c's golden tokens, truncated to the steps run here.
      const n = steps - p.length + 1;
      const want = g.greedy_tokens.slice(0, n);
      const gdiv = firstDivergence(want, got.tokens.slice(0, want.length));
      const rdiv = firstDivergence(want, ref.tokens.slice(0, want.length));
      if (rdiv) notes.push(`${where}: the REFERENCE differs from the golden file at token ${rdiv.pos}`);
      if (gdiv && (!div || div.pos > gdiv.pos)) fail ??= `${where}: differs from the golden file at token ${gdiv.pos} (golden ${gdiv.expected}, backend ${gdiv.got})`;
    }
  });
  if (fail) notes.unshift(fail);
  return {
    backend: ctx.backend,
    device: ctx.device,
    check: `e2e ${method}`,
    cases: golden.length,
    maxAbsErr: maxAbs,
    maxRelErr: maxRatio,
    tolerance: 'tokens equal; flips only if margin ≤ 4·fp32 drift',
    verdict: fail ? 'fail' : 'pass',
    notes: notes.length ? notes.join('; ') : undefined,
  };
}
