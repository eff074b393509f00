// Mask checks: the TT, Griffin and TDA masks that the policies compute from a
// backend's activations equal the ones they compute from the reference's, except
// for neurons whose statistic lies within its error bound of the threshold
// ("ambiguous", docs/tolerances.md). Checked on random synthetic models, on
// stories260K's golden prompts, and on integer-grid FFNs where every activation is
// exact and thresholds sit exactly on a neuron's statistic (true ties, no band).
//
// Layer-local comparison: the backend runs the whole prefill (its own attention,
// norms and earlier layers); at every layer the FFN input x̂ it produced is
// captured, and the reference activations are computed on that same x̂. The
// difference is then bounded by the activation bound alone, rigorously, instead of
// by an error propagated through layers (which end-to-end checks cover).

import { referenceKernels } from '../reference/kernels.js';
import type { Kernels } from '../core/kernels.js';
import { Decoder } from '../reference/decoder.js';
import { downColumnNorms } from '../reference/ffn.js';
import type { FfnWeights, Model } from '../core/model.js';
import { densePolicy } from '../reference/policies/dense.js';
import { griffinPolicy } from '../reference/policies/griffin.js';
import { tdaPolicy } from '../reference/policies/tda.js';
import { ttPolicy } from '../reference/policies/tt.js';
import type { FfnPolicy } from '../reference/policies/types.js';
import { syntheticModel } from '../reference/synthetic.js';
import { FFN_KINDS } from '../core/model.js';
import { activationBounds, type CheckContext } from './kernels.js';
import type { ReportRow } from './report.js';
import { Rng } from '../reference/random.js';
import { fill } from './values.js';

/** Per layer, per prompt token: the backend's FFN input and activations, and the reference's on the same input. */
export interface LayerTrace {
  a: Float32Array[]; // backend
  aRef: Float32Array[]; // reference on the backend's input
  E: Float64Array[]; // bound of |a − aRef| per neuron
}

/** Runs the prefill of `tokens` on kernels K and captures every layer's FFN input and output. */
export function tracePrefill(model: Model, K: Kernels, tokens: number[], precision: CheckContext['precision']): LayerTrace[] {
  const layerOf = new Map<FfnWeights, number>();
  model.weights.layers.forEach((l, i) => layerOf.set(l.ffn, i));
  const traces: LayerTrace[] = model.weights.layers.map(() => ({ a: [], aRef: [], E: [] }));
  const kind = model.config.ffnKind;
  const wrapped: Kernels = {
    ...K,
    // The reference reads the same FFN weights here: these kernels read float32 values.
    readsStoredHalf: undefined,
    ffnActivations(a, x, ffn, k) {
      K.ffnActivations(a, x, ffn, k);
      const l = layerOf.get(ffn);
      if (l === undefined) return;
      const xs = Float32Array.from(x);
      const aRef = new Float32Array(a.length);
      referenceKernels.ffnActivations(aRef, xs, ffn, kind);
      traces[l].a.push(Float32Array.from(a));
      traces[l].aRef.push(aRef);
      traces[l].E.push(activationBounds(xs, ffn, kind, precision));
    },
  };
  const dec = new Decoder(model, wrapped);
  const policy = densePolicy();
  tokens.forEach((t, pos) => dec.forward(t, pos, 'prefill', policy));
  return traces;
}

/** |a| ± E as an interval of magnitudes. */
function magInterval(a: number, E: number): [number, number] {
  const m = Math.abs(a);
  return [Math.max(0, m - E), m + E];
}

// Intervals are computed in float64 from float32 data; widen them by a relative
// 1e-12 so that float64's own rounding never makes a tie look non-ambiguous.
const SLACK = 1e-12;

function toSet(n: number, ids: Int32Array | null): Uint8Array {
  const s = new Uint8Array(n);
  if (!ids) s.fill(1);
  else for (const i of ids) s[i] = 1;
  return s;
}

export interface MaskTally {
  cases: number;
  neurons: number;
  ambiguous: number;
  mismatches: number;
  ambiguousFlips: number;
  maxStatErr: number;
  maxStatRatio: number;
  firstMismatch?: string;
}

function newTally(): MaskTally {
  return { cases: 0, neurons: 0, ambiguous: 0, mismatches: 0, ambiguousFlips: 0, maxStatErr: 0, maxStatRatio: 0 };
}

function tallyMasks(t: MaskTally, ref: Uint8Array, got: Uint8Array, amb: Uint8Array, where: string): void {
  t.cases++;
  for (let i = 0; i < ref.length; i++) {
    t.neurons++;
    if (amb[i]) {
      t.ambiguous++;
      if (ref[i] !== got[i]) t.ambiguousFlips++;
    } else if (ref[i] !== got[i]) {
      t.mismatches++;
      t.firstMismatch ??= `${where}, neuron ${i}: reference ${ref[i] ? 'keeps' : 'drops'} it, backend ${got[i] ? 'keeps' : 'drops'} it`;
    }
  }
}

function statErr(t: MaskTally, ref: number, got: number, lo: number, hi: number): void {
  const err = Math.abs(got - ref);
  if (err > t.maxStatErr) t.maxStatErr = err;
  const half = Math.max(hi - ref, ref - lo);
  const ratio = err === 0 ? 0 : half > 0 ? err / half : Infinity;
  if (ratio > t.maxStatRatio) t.maxStatRatio = ratio;
}

/**
 * Median of the positive values: a value attained, so the threshold ties exactly
 * with a neuron; positive, because with ReLU most magnitudes are 0 and τ = 0 would
 * keep everything and test nothing.
 */
function median(v: number[]): number {
  const s = v.filter((x) => x > 0).sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

/** TT: per token, kept = { i : |a_i|·‖d_i‖ ≥ τ_l }, τ_l the median magnitude (a tie). */
export function ttMaskCheck(model: Model, traces: LayerTrace[], t: MaskTally, label: string): void {
  const { dim } = model.config;
  const norms = model.weights.layers.map((l) => downColumnNorms(l.ffn, dim));
  const thresholds = traces.map((tr, l) => median(tr.aRef.flatMap((a) => Array.from(a, (v, i) => Math.abs(v) * norms[l][i]))));
  const policy = ttPolicy(model, thresholds);
  traces.forEach((tr, l) => {
    const tau = thresholds[l];
    tr.a.forEach((a, tok) => {
      const n = a.length;
      const ref = toSet(n, policy.selectForToken(l, tr.aRef[tok]));
      const got = toSet(n, policy.selectForToken(l, a));
      const amb = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const E = tr.E[tok][i];
        const [lo, hi] = magInterval(tr.aRef[tok][i], E).map((m) => m * norms[l][i]);
        statErr(t, Math.abs(tr.aRef[tok][i]) * norms[l][i], Math.abs(a[i]) * norms[l][i], lo, hi);
        amb[i] = E > 0 && lo * (1 - SLACK) <= tau && tau <= hi * (1 + SLACK) ? 1 : 0;
      }
      tallyMasks(t, ref, got, amb, `${label} layer ${l} token ${tok}`);
    });
  });
}

/** Interval of the relative statistic r²_{t,i} = m_i² / Σ_j m_j², from intervals of the m_i. */
function relSquaresIntervals(lo: Float64Array, hi: Float64Array): { rlo: Float64Array; rhi: Float64Array } {
  let slo = 0;
  let shi = 0;
  for (let i = 0; i < lo.length; i++) {
    slo += lo[i] * lo[i];
    shi += hi[i] * hi[i];
  }
  const rlo = new Float64Array(lo.length);
  const rhi = new Float64Array(lo.length);
  for (let i = 0; i < lo.length; i++) {
    if (shi === 0) continue; // an all-zero token contributes nothing either way
    // The denominator contains the neuron's own m_i², so r² ≤ 1 always.
    rlo[i] = (lo[i] * lo[i]) / shi;
    rhi[i] = slo > 0 ? Math.min(1, (hi[i] * hi[i]) / slo) : 1;
  }
  return { rlo, rhi };
}

/** Statistic intervals over a prompt: sqrt(scale · Σ_t r²) with scale 1 (Griffin) or 1/T (TDA). */
function statIntervals(tr: LayerTrace, weights: Float64Array, rms: boolean): { lo: Float64Array; hi: Float64Array; exact: Uint8Array } {
  const n = weights.length;
  const sumLo = new Float64Array(n);
  const sumHi = new Float64Array(n);
  const exact = new Uint8Array(n).fill(1);
  tr.aRef.forEach((a, tok) => {
    const lo = new Float64Array(n);
    const hi = new Float64Array(n);
    let anyInexact = false;
    for (let i = 0; i < n; i++) {
      const [l, h] = magInterval(a[i], tr.E[tok][i]);
      lo[i] = l * weights[i];
      hi[i] = h * weights[i];
      if (tr.E[tok][i] > 0) anyInexact = true;
    }
    const { rlo, rhi } = relSquaresIntervals(lo, hi);
    for (let i = 0; i < n; i++) {
      sumLo[i] += rlo[i];
      sumHi[i] += rhi[i];
      // One inexact neuron moves every r of that token through the norm.
      if (anyInexact) exact[i] = 0;
    }
  });
  const T = rms ? Math.max(tr.aRef.length, 1) : 1;
  return {
    lo: sumLo.map((s) => Math.sqrt(s / T) * (1 - SLACK)),
    hi: sumHi.map((s) => Math.sqrt(s / T) * (1 + SLACK)),
    exact,
  };
}

function runPolicy(policy: FfnPolicy, acts: Float32Array[][]): (Int32Array | null)[] {
  acts.forEach((perTok, l) => perTok.forEach((a) => policy.observePrompt(l, a)));
  policy.endPrompt();
  return policy.masks();
}

/** Exact statistics (for thresholds and errors), computed as the policies do. */
function statValues(tr: Float32Array[], weights: Float64Array, rms: boolean): Float64Array {
  const n = weights.length;
  const sum = new Float64Array(n);
  for (const a of tr) {
    let norm2 = 0;
    for (let i = 0; i < n; i++) norm2 += (a[i] * weights[i]) ** 2;
    if (norm2 === 0) continue;
    for (let i = 0; i < n; i++) sum[i] += (a[i] * weights[i]) ** 2 / norm2;
  }
  const T = rms ? Math.max(tr.length, 1) : 1;
  return sum.map((s) => Math.sqrt(s / T));
}

/** TDA: kept = { i : s_i ≥ τ_l }, τ_l the median statistic (a tie). */
export function tdaMaskCheck(model: Model, traces: LayerTrace[], t: MaskTally, label: string): void {
  const { dim } = model.config;
  const norms = model.weights.layers.map((l) => downColumnNorms(l.ffn, dim));
  const refStats = traces.map((tr, l) => statValues(tr.aRef, norms[l], true));
  const thresholds = refStats.map((s) => median(Array.from(s)));
  const ref = runPolicy(tdaPolicy(model, thresholds), traces.map((tr) => tr.aRef));
  const got = runPolicy(tdaPolicy(model, thresholds), traces.map((tr) => tr.a));
  traces.forEach((tr, l) => {
    const n = norms[l].length;
    const { lo, hi, exact } = statIntervals(tr, norms[l], true);
    const gotStats = statValues(tr.a, norms[l], true);
    const amb = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      statErr(t, refStats[l][i], gotStats[i], lo[i], hi[i]);
      amb[i] = !exact[i] && lo[i] <= thresholds[l] && thresholds[l] <= hi[i] ? 1 : 0;
    }
    tallyMasks(t, toSet(n, ref[l]), toSet(n, got[l]), amb, `${label} layer ${l}`);
  });
}

/** Griffin: top-k (k = half the neurons) by s_i = sqrt(Σ_t z²), ties to the lower id. */
export function griffinMaskCheck(model: Model, traces: LayerTrace[], t: MaskTally, label: string): void {
  const density = 0.5;
  const ref = runPolicy(griffinPolicy(model, density), traces.map((tr) => tr.aRef));
  const got = runPolicy(griffinPolicy(model, density), traces.map((tr) => tr.a));
  traces.forEach((tr, l) => {
    const n = model.config.hiddenDim;
    const ones = new Float64Array(n).fill(1);
    const k = Math.round(density * n);
    const { lo, hi, exact } = statIntervals(tr, ones, false);
    const refStats = statValues(tr.aRef, ones, false);
    const gotStats = statValues(tr.a, ones, false);
    // A neuron's membership in the top k is certain when, whatever values inside
    // the intervals the statistics take, it stays on the same side of the k-th.
    const amb = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      statErr(t, refStats[i], gotStats[i], lo[i], hi[i]);
      let mayBeat = 0; // others that could rank above i
      let sureBeat = 0; // others that rank above i whatever happens
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const bothExact = exact[i] && exact[j];
        if (bothExact) {
          const above = refStats[j] > refStats[i] || (refStats[j] === refStats[i] && j < i);
          if (above) {
            mayBeat++;
            sureBeat++;
          }
          continue;
        }
        if (hi[j] >= lo[i]) mayBeat++;
        if (lo[j] > hi[i]) sureBeat++;
      }
      const surelyKept = mayBeat < k;
      const surelyDropped = sureBeat >= k;
      amb[i] = surelyKept || surelyDropped ? 0 : 1;
    }
    tallyMasks(t, toSet(n, ref[l]), toSet(n, got[l]), amb, `${label} layer ${l}`);
  });
}

const METHOD_CHECKS = { tt: ttMaskCheck, griffin: griffinMaskCheck, tda: tdaMaskCheck } as const;

/** A one-layer ReLU model whose FFN weights and inputs lie on an integer grid: every activation is exact. */
function gridTraces(K: Kernels, seed: number, precision: CheckContext['precision']): { model: Model; traces: LayerTrace[] } {
  const model = syntheticModel({ dim: 16, hiddenDim: 64, nLayers: 1, nHeads: 2, vocabSize: 8, seqLen: 8, ffnKind: 'relu' }, seed);
  const rng = new Rng(seed);
  const { dim, hiddenDim } = model.config;
  const ffn: FfnWeights = {
    gate: null,
    up: fill(rng, hiddenDim * dim, 'grid'),
    downT: fill(rng, hiddenDim * dim, 'grid'),
    upBias: fill(rng, hiddenDim, 'grid'),
    downBias: null,
  };
  // Duplicate a few neurons so that Griffin meets exactly equal scores (ties by id).
  for (let i = 0; i < 8; i++) {
    ffn.up.copyWithin((2 * i + 1) * dim, 2 * i * dim, (2 * i + 1) * dim);
    ffn.downT.copyWithin((2 * i + 1) * dim, 2 * i * dim, (2 * i + 1) * dim);
    ffn.upBias![2 * i + 1] = ffn.upBias![2 * i];
  }
  model.weights.layers[0].ffn = ffn;
  const tr: LayerTrace = { a: [], aRef: [], E: [] };
  for (let tok = 0; tok < 6; tok++) {
    const x = fill(rng, dim, 'grid');
    const a = new Float32Array(hiddenDim);
    K.ffnActivations(a, x, ffn, 'relu');
    const aRef = new Float32Array(hiddenDim);
    referenceKernels.ffnActivations(aRef, x, ffn, 'relu');
    tr.a.push(a);
    tr.aRef.push(aRef);
    tr.E.push(activationBounds(x, ffn, 'relu', precision));
  }
  return { model, traces: [tr] };
}

export interface MaskSource {
  name: string;
  items: () => { model: Model; traces: LayerTrace[]; label: string }[];
}

/** Sources of activations: synthetic models (each FFN kind), stories260K prompts, integer-grid ties. */
export function maskSources(K: Kernels, ctx: CheckContext, stories?: { model: Model; prompts: number[][] }): MaskSource[] {
  const sources: MaskSource[] = [
    {
      name: 'synthetic',
      items: () =>
        FFN_KINDS.map((kind, k) => {
          const model = syntheticModel(
            { dim: 32, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 64, seqLen: 16, ffnKind: kind },
            ctx.seed + k,
          );
          const rng = new Rng(ctx.seed * 31 + k);
          const tokens = [1, ...Array.from({ length: 7 }, () => rng.nextInt(64))];
          return { model, traces: tracePrefill(model, K, tokens, ctx.precision), label: `${kind} model, prompt ${tokens.join(' ')}` };
        }),
    },
    {
      name: 'grid ties',
      items: () => [0, 1, 2].map((s) => ({ ...gridTraces(K, ctx.seed + s, ctx.precision), label: `grid FFN seed ${ctx.seed + s}` })),
    },
  ];
  if (stories) {
    sources.push({
      name: 'stories260K',
      items: () =>
        stories.prompts.map((p, k) => ({ model: stories.model, traces: tracePrefill(stories.model, K, p, ctx.precision), label: `golden prompt ${k}` })),
    });
  }
  return sources;
}

export function runMaskChecks(K: Kernels, ctx: CheckContext, stories?: { model: Model; prompts: number[][] }, only?: (c: string) => boolean): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const src of maskSources(K, ctx, stories)) {
    const names = Object.keys(METHOD_CHECKS).map((m) => `mask ${m} (${src.name})`);
    if (only && !names.some(only)) continue;
    let items: ReturnType<MaskSource['items']>;
    try {
      items = src.items();
    } catch (e) {
      rows.push(errorRow(ctx, `mask (${src.name})`, e));
      continue;
    }
    for (const [method, fn] of Object.entries(METHOD_CHECKS)) {
      const check = `mask ${method} (${src.name})`;
      if (only && !only(check)) continue;
      const t = newTally();
      try {
        for (const it of items) fn(it.model, it.traces, t, it.label);
      } catch (e) {
        rows.push(errorRow(ctx, check, e));
        continue;
      }
      rows.push({
        backend: ctx.backend,
        device: ctx.device,
        check,
        cases: t.cases,
        maxAbsErr: t.maxStatErr,
        maxErrOverBound: t.maxStatRatio,
        tolerance: 'tie rule: |stat−τ| ≤ its bound',
        verdict: t.mismatches === 0 ? 'pass' : 'fail',
        notes:
          `${t.neurons} neuron decisions, ${t.ambiguous} ambiguous (${t.ambiguousFlips} went the other way), ${t.mismatches} mismatch(es)` +
          (t.firstMismatch ? `; first: ${t.firstMismatch}` : ''),
      });
    }
  }
  return rows;
}

export function errorRow(ctx: CheckContext, check: string, e: unknown): ReportRow {
  return {
    backend: ctx.backend,
    device: ctx.device,
    check,
    cases: 0,
    maxAbsErr: NaN,
    maxErrOverBound: NaN,
    tolerance: '-',
    verdict: 'fail',
    notes: `the backend threw: ${((e as Error)?.message ?? String(e)).split('\n')[0]}`,
  };
}
