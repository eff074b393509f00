// Per-kernel property checks: every kernel of a backend against the reference
// kernels, on fast-check-generated cases from tiny shapes to LLaMA-2-7B rows,
// each output element within its own error bound (tolerance.ts).

import fc from 'fast-check';
import { referenceKernels } from '../reference/kernels.js';
import type { Kernels } from '../core/kernels.js';
import { FFN_KINDS, type FfnKind, type FfnWeights, isGated } from '../core/model.js';
import type { ReportRow } from './report.js';
import { Rng } from '../reference/random.js';
import {
  activationOf,
  attentionBound,
  dotBound,
  dotTerms,
  emptyDot,
  addTerm,
  gamma,
  gatedActivationBound,
  largeWeight,
  plainActivationBound,
  type Precision,
  rmsnormBound,
  ropeBound,
} from './tolerance.js';
import { type Dist, distArb, fill, type KeptKind, keptArb, keptList, seedArb, spikeMatrix } from './values.js';

export interface CheckContext {
  backend: string;
  device: string;
  precision: Precision;
  seed: number;
  runs: number;
  quick: boolean;
  /** Command line that reruns the whole conformance with the same seed. */
  replay: string;
}

/** Outcome of one case: the worst element and, if any element broke its bound, why. */
export interface CaseResult {
  maxAbs: number;
  maxRatio: number;
  fail?: string;
}

/** Compares out against ref element-wise under bound(i); NaN / Inf where ref is finite fails. */
export function compare(out: Float32Array, ref: Float32Array, bound: (i: number) => number, what: string): CaseResult {
  let maxAbs = 0;
  let maxRatio = 0;
  let fail: string | undefined;
  for (let i = 0; i < ref.length; i++) {
    const o = out[i];
    const r = ref[i];
    if (Object.is(o, r) || o === r) continue;
    const err = Math.abs(o - r);
    if (Number.isNaN(err)) {
      fail ??= `${what}[${i}] = ${o}, reference ${r}`;
      maxAbs = maxRatio = Infinity;
      continue;
    }
    const b = bound(i);
    const ratio = b > 0 ? err / b : Infinity;
    if (err > maxAbs) maxAbs = err;
    if (ratio > maxRatio) maxRatio = ratio;
    if (err > b && !fail) fail = `${what}[${i}] = ${o}, reference ${r}: error ${err.toExponential(3)} > bound ${b.toExponential(3)}`;
  }
  return { maxAbs, maxRatio, fail };
}

function sameInput(a: Float32Array, copy: Float32Array, what: string): string | undefined {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], copy[i])) return `the kernel modified its input ${what}[${i}]`;
  return undefined;
}

function merge(a: CaseResult, b: CaseResult): CaseResult {
  return { maxAbs: Math.max(a.maxAbs, b.maxAbs), maxRatio: Math.max(a.maxRatio, b.maxRatio), fail: a.fail ?? b.fail };
}

/**
 * Runs one property with fast-check and turns the outcome into a report row.
 * `examples` run first on every invocation: the fixed big (LLaMA-2-7B) and
 * adversarial cases that random generation would rarely hit.
 */
export function runProperty<T>(
  ctx: CheckContext,
  check: string,
  tolerance: string,
  arb: fc.Arbitrary<T>,
  examples: T[],
  run: (c: T) => CaseResult,
): ReportRow {
  let maxAbs = 0;
  let maxRatio = 0;
  const prop = fc.property(arb, (c) => {
    const r = run(c);
    if (r.maxAbs > maxAbs) maxAbs = r.maxAbs;
    if (r.maxRatio > maxRatio) maxRatio = r.maxRatio;
    if (r.fail) throw new Error(r.fail);
  });
  const details = fc.check(prop, { seed: ctx.seed, numRuns: ctx.runs, examples: examples.map((e) => [e] as [T]) });
  const row: ReportRow = {
    backend: ctx.backend,
    device: ctx.device,
    check,
    cases: details.numRuns,
    maxAbsErr: maxAbs,
    maxRelErr: maxRatio,
    tolerance,
    verdict: details.failed ? 'fail' : 'pass',
  };
  if (details.failed && details.counterexample) {
    const err = details.errorInstance as Error | undefined;
    row.counterexample = {
      value: details.counterexample[0],
      seed: details.seed,
      path: details.counterexamplePath ?? '',
      message: (err?.message ?? String(details.errorInstance)).split('\n')[0],
      replay: `${ctx.replay} --only "${check}"`,
    };
    row.notes = `failed after ${details.numRuns} case(s), ${details.numShrinks} shrink(s)`;
  }
  return row;
}

const TOL = {
  dot: 'γ_n·(Σ|w·x|+δw) + u|y| (+flush)',
  rmsnorm: '(γ_{n+3}/2 + 4u + γ_3)|out|',
  rope: '(|v0|+|v1|)(Δangle+4u) + γ_2 + u',
  attention: '(e^{2E}−1+4u+γ_T)·Σp|v| + 2γ_T',
  act: "L·E_g·|u| + |act|·E_u + eval",
  sliced: 'Σ E_a|d| + γ_n·Σ|a·d|',
};

const dims = (max: number) => fc.integer({ min: 1, max });

// ---------------------------------------------------------------------------

interface MatvecCase { rows: number; cols: number; wDist: Dist; xDist: Dist; seed: number }

export function checkMatvec(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({ rows: dims(48), cols: dims(300), wDist: distArb, xDist: distArb, seed: seedArb });
  const examples: MatvecCase[] = [
    { rows: 8, cols: 300, wDist: 'spike', xDist: 'spike', seed: 7 },
    { rows: 4, cols: 257, wDist: 'grid', xDist: 'grid', seed: 3 },
    { rows: 4096, cols: 11008, wDist: 'normal', xDist: 'mixed', seed: 1 }, // LLaMA-2-7B down projection rows
  ];
  if (!ctx.quick) {
    examples.push({ rows: 11008, cols: 4096, wDist: 'heavy', xDist: 'normal', seed: 2 }); // up / gate rows
    examples.push({ rows: 4096, cols: 11008, wDist: 'spike', xDist: 'spike', seed: 5 });
  }
  return runProperty(ctx, 'kernel matvec', TOL.dot, arb, examples, (c: MatvecCase) => {
    const { w, x, ref, bounds } = matvecData(c, ctx.precision);
    const xCopy = x.slice();
    const out = new Float32Array(c.rows).fill(NaN);
    K.matvec(out, w, x, c.rows, c.cols);
    const r = compare(out, ref, (i) => bounds[i], 'out');
    return { ...r, fail: r.fail ?? sameInput(x, xCopy, 'x') };
  });
}

interface MatvecData { w: Float32Array; x: Float32Array; ref: Float32Array; bounds: Float64Array }
// The LLaMA-size case costs ~2 s of reference and bound arithmetic; several
// backends checked in one process share it (one entry: 180 MB of weights).
let bigMatvec: { key: string; data: MatvecData } | undefined;

function matvecData(c: MatvecCase, p: Precision): MatvecData {
  const key = `${JSON.stringify(c)}|${p}`;
  const big = c.rows * c.cols >= 1 << 20;
  if (big && bigMatvec?.key === key) return bigMatvec.data;
  const rng = new Rng(c.seed);
  const spike = c.wDist === 'spike' || c.xDist === 'spike';
  const at = rng.nextInt(c.cols);
  const w = spike
    ? spikeMatrix(rng, c.rows, c.cols, at)
    : fill(rng, c.rows * c.cols, c.wDist, { scale: 1 / Math.sqrt(c.cols), large: largeWeight(p) });
  const x = spike ? fill(rng, c.cols, 'spike', { spikeAt: at }) : fill(rng, c.cols, c.xDist);
  const ref = new Float32Array(c.rows);
  referenceKernels.matvec(ref, w, x, c.rows, c.cols);
  const bounds = Float64Array.from({ length: c.rows }, (_, i) => dotBound(dotTerms(w, i * c.cols, x, 0, c.cols, p)));
  const data = { w, x, ref, bounds };
  if (big) bigMatvec = { key, data };
  return data;
}

// ---------------------------------------------------------------------------

interface RmsCase { n: number; dist: Dist; eps: number; alias: boolean; seed: number }

export function checkRmsnorm(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({
    n: dims(600),
    dist: distArb,
    eps: fc.constantFrom(1e-5, 1e-6),
    alias: fc.boolean(),
    seed: seedArb,
  });
  const examples: RmsCase[] = [
    { n: 4096, dist: 'heavy', eps: 1e-5, alias: true, seed: 1 },
    { n: 11008, dist: 'mixed', eps: 1e-5, alias: false, seed: 2 },
    { n: 64, dist: 'subnormal', eps: 1e-5, alias: false, seed: 3 },
  ];
  return runProperty(ctx, 'kernel rmsnorm', TOL.rmsnorm, arb, examples, (c: RmsCase) => {
    const rng = new Rng(c.seed);
    const x = fill(rng, c.n, c.dist, { large: 2 ** 40 });
    const weight = new Float32Array(c.n);
    for (let i = 0; i < c.n; i++) weight[i] = 1 + 0.1 * rng.nextNormal();
    let ss = 0;
    for (let i = 0; i < c.n; i++) ss += x[i] * x[i];
    const scale = 1 / Math.sqrt(ss / c.n + c.eps);
    const ref = new Float32Array(c.n);
    referenceKernels.rmsnorm(ref, x, weight, c.eps);
    const xIn = x.slice();
    const out = c.alias ? xIn : new Float32Array(c.n).fill(NaN);
    K.rmsnorm(out, xIn, weight, c.eps);
    const r = compare(out, ref, (i) => rmsnormBound(x[i], weight[i], scale, c.n, ctx.precision), c.alias ? 'out (aliased with x)' : 'out');
    return { ...r, fail: r.fail ?? (c.alias ? undefined : sameInput(xIn, x, 'x')) };
  });
}

// ---------------------------------------------------------------------------

interface RopeCase { nHeads: number; half: number; pos: number; theta: number; dist: Dist; seed: number }

export function checkRope(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({
    nHeads: dims(4),
    half: dims(64), // headSize = 2·half
    pos: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 8191 })),
    theta: fc.constantFrom(10000, 500000, 1000000),
    dist: distArb,
    seed: seedArb,
  });
  const examples: RopeCase[] = [
    { nHeads: 32, half: 64, pos: 4095, theta: 10000, dist: 'normal', seed: 1 }, // LLaMA-2-7B q at the last position
    { nHeads: 2, half: 4, pos: 1, theta: 10000, dist: 'grid', seed: 2 },
  ];
  return runProperty(ctx, 'kernel rope', TOL.rope, arb, examples, (c: RopeCase) => {
    const rng = new Rng(c.seed);
    const hs = 2 * c.half;
    const v = fill(rng, c.nHeads * hs, c.dist);
    const ref = v.slice();
    referenceKernels.rope(ref, c.pos, hs, c.theta);
    const out = v.slice();
    K.rope(out, c.pos, hs, c.theta);
    return compare(out, ref, (i) => {
      const i0 = i & ~1;
      const j = i0 % hs;
      const angle = c.pos * (1 / Math.pow(c.theta, j / hs));
      return ropeBound(v[i0], v[i0 + 1], angle, j, hs, c.theta);
    }, 'vec');
  });
}

// ---------------------------------------------------------------------------

interface AttnCase { nKvHeads: number; group: number; half: number; pos: number; dist: Dist; seed: number }

export function checkAttention(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({
    nKvHeads: dims(3),
    group: dims(3),
    half: dims(16),
    pos: fc.integer({ min: 0, max: 40 }),
    dist: distArb,
    seed: seedArb,
  });
  const examples: AttnCase[] = [
    { nKvHeads: 2, group: 4, half: 64, pos: 300, dist: 'normal', seed: 1 }, // headSize 128, GQA 8:2
    { nKvHeads: 1, group: 1, half: 1, pos: 0, dist: 'normal', seed: 2 },
  ];
  return runProperty(ctx, 'kernel attention', TOL.attention, arb, examples, (c: AttnCase) => {
    const rng = new Rng(c.seed);
    const hs = 2 * c.half;
    const nHeads = c.nKvHeads * c.group;
    const kvDim = c.nKvHeads * hs;
    const T = c.pos + 1;
    const q = fill(rng, nHeads * hs, c.dist, { scale: 1 });
    // Two rows past `pos` hold NaN: a kernel that reads beyond the causal window fails.
    const keyCache = new Float32Array((T + 2) * kvDim).fill(NaN);
    const valueCache = new Float32Array((T + 2) * kvDim).fill(NaN);
    keyCache.set(fill(rng, T * kvDim, c.dist, { scale: 1 }));
    valueCache.set(fill(rng, T * kvDim, c.dist, { scale: 1 }));
    const shape = { nHeads, nKvHeads: c.nKvHeads, headSize: hs, kvDim };
    const ref = new Float32Array(nHeads * hs);
    referenceKernels.attention(ref, q, keyCache, valueCache, c.pos, shape);
    const out = new Float32Array(nHeads * hs).fill(NaN);
    K.attention(out, q, keyCache, valueCache, c.pos, shape);
    // Exact (float64) scores and softmax weights per head, for the bounds.
    const bounds = new Float64Array(nHeads * hs);
    const scale = 1 / Math.sqrt(hs);
    const score = new Float64Array(T);
    const scoreAbs = new Float64Array(T);
    const p = new Float64Array(T);
    const vcol = new Float64Array(T);
    for (let h = 0; h < nHeads; h++) {
      const kvOff = Math.floor(h / c.group) * hs;
      let max = -Infinity;
      for (let t = 0; t < T; t++) {
        let s = 0;
        let sa = 0;
        for (let d = 0; d < hs; d++) {
          const prod = q[h * hs + d] * keyCache[t * kvDim + kvOff + d];
          s += prod;
          sa += Math.abs(prod);
        }
        score[t] = s * scale;
        scoreAbs[t] = sa * scale;
        if (score[t] > max) max = score[t];
      }
      let sum = 0;
      for (let t = 0; t < T; t++) sum += (p[t] = Math.exp(score[t] - max));
      for (let t = 0; t < T; t++) p[t] /= sum;
      for (let d = 0; d < hs; d++) {
        for (let t = 0; t < T; t++) vcol[t] = valueCache[t * kvDim + kvOff + d];
        bounds[h * hs + d] = attentionBound(scoreAbs, score, p, vcol, T, hs);
      }
    }
    return compare(out, ref, (i) => bounds[i], 'out');
  });
}

// ---------------------------------------------------------------------------

function randomFfn(rng: Rng, dim: number, hidden: number, kind: FfnKind, wDist: Dist, p: Precision): FfnWeights {
  const gated = isGated(kind);
  const opts = { scale: 1 / Math.sqrt(dim), large: largeWeight(p) };
  return {
    gate: gated ? fill(rng, hidden * dim, wDist, opts) : null,
    up: fill(rng, hidden * dim, wDist, opts),
    downT: fill(rng, hidden * dim, wDist, { scale: 1 / Math.sqrt(hidden), large: largeWeight(p) }),
    upBias: gated ? null : fill(rng, hidden, wDist === 'grid' ? 'grid' : 'normal', { scale: 0.1 }),
    downBias: gated ? null : fill(rng, dim, wDist === 'grid' ? 'grid' : 'normal', { scale: 0.1 }),
  };
}

/** Bound of every neuron's activation a_i for input x. */
export function activationBounds(x: Float32Array, ffn: FfnWeights, kind: FfnKind, p: Precision): Float64Array {
  const dim = x.length;
  const hidden = ffn.up.length / dim;
  const E = new Float64Array(hidden);
  const act = activationOf(kind);
  for (let i = 0; i < hidden; i++) {
    if (isGated(kind)) {
      const g = dotTerms(ffn.gate!, i * dim, x, 0, dim, p);
      const u = dotTerms(ffn.up, i * dim, x, 0, dim, p);
      E[i] = gatedActivationBound(act as 'silu' | 'gelu', g, u);
    } else {
      const pre = dotTerms(ffn.up, i * dim, x, 0, dim, p, ffn.upBias ? ffn.upBias[i] : 0);
      E[i] = plainActivationBound(act as 'relu' | 'gelu', pre);
    }
  }
  return E;
}

interface ActCase { dim: number; hidden: number; kind: FfnKind; wDist: Dist; xDist: Dist; seed: number }
const kindArb = fc.constantFrom<FfnKind>(...FFN_KINDS);

export function checkFfnActivations(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({ dim: dims(64), hidden: dims(96), kind: kindArb, wDist: distArb, xDist: distArb, seed: seedArb });
  const examples: ActCase[] = FFN_KINDS.map((kind, k) => ({ dim: 16, hidden: 24, kind, wDist: 'grid', xDist: 'grid', seed: k }));
  if (!ctx.quick) examples.push({ dim: 4096, hidden: 11008, kind: 'swiglu', wDist: 'normal', xDist: 'heavy', seed: 9 });
  return runProperty(ctx, 'kernel ffnActivations', TOL.act, arb, examples, (c: ActCase) => {
    const rng = new Rng(c.seed);
    const ffn = randomFfn(rng, c.dim, c.hidden, c.kind, c.wDist === 'spike' ? 'sparse' : c.wDist, ctx.precision);
    const x = fill(rng, c.dim, c.xDist === 'spike' ? 'sparse' : c.xDist);
    const ref = new Float32Array(c.hidden);
    referenceKernels.ffnActivations(ref, x, ffn, c.kind);
    const out = new Float32Array(c.hidden).fill(NaN);
    K.ffnActivations(out, x, ffn, c.kind);
    const E = activationBounds(x, ffn, c.kind, ctx.precision);
    return compare(out, ref, (i) => E[i], `a (${c.kind})`);
  });
}

// ---------------------------------------------------------------------------

interface DownCase { dim: number; hidden: number; kept: KeptKind; aDist: Dist; wDist: Dist; bias: boolean; seed: number }

export function checkFfnDown(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({
    dim: dims(64),
    hidden: dims(128),
    kept: keptArb,
    aDist: distArb,
    wDist: distArb,
    bias: fc.boolean(),
    seed: seedArb,
  });
  const examples: DownCase[] = [
    { dim: 8, hidden: 40, kept: 'random', aDist: 'grid', wDist: 'grid', bias: false, seed: 1 },
    { dim: 8, hidden: 40, kept: 'empty', aDist: 'normal', wDist: 'normal', bias: true, seed: 2 },
  ];
  if (!ctx.quick) examples.push({ dim: 4096, hidden: 11008, kept: 'random', aDist: 'heavy', wDist: 'normal', bias: false, seed: 3 });
  return runProperty(ctx, 'kernel ffnDown', TOL.dot, arb, examples, (c: DownCase) => {
    const rng = new Rng(c.seed);
    const a = fill(rng, c.hidden, c.aDist === 'spike' ? 'sparse' : c.aDist);
    const downT = fill(rng, c.hidden * c.dim, c.wDist === 'spike' ? 'sparse' : c.wDist, {
      scale: 1 / Math.sqrt(c.hidden),
      large: largeWeight(ctx.precision),
    });
    const ffn: FfnWeights = {
      gate: null,
      up: new Float32Array(c.hidden * c.dim),
      downT,
      upBias: null,
      downBias: c.bias ? fill(rng, c.dim, 'normal', { scale: 0.1 }) : null,
    };
    const kept = keptList(rng, c.hidden, c.kept);
    const ref = new Float32Array(c.dim);
    referenceKernels.ffnDown(ref, a, ffn, kept);
    const out = new Float32Array(c.dim).fill(NaN);
    K.ffnDown(out, a, ffn, kept);
    const ids = kept ?? Int32Array.from({ length: c.hidden }, (_, i) => i);
    return compare(out, ref, (j) => {
      const t = emptyDot();
      for (const i of ids) addTerm(t, downT[i * c.dim + j], a[i], ctx.precision);
      if (ffn.downBias) addTerm(t, ffn.downBias[j], 1, ctx.precision);
      return dotBound(t);
    }, `out (kept ${c.kept})`);
  });
}

// ---------------------------------------------------------------------------

interface SlicedCase { dim: number; hidden: number; kind: FfnKind; kept: KeptKind; wDist: Dist; xDist: Dist; seed: number }

export function checkFfnSliced(K: Kernels, ctx: CheckContext): ReportRow {
  const arb = fc.record({
    dim: dims(48),
    hidden: dims(96),
    kind: kindArb,
    kept: keptArb,
    wDist: distArb,
    xDist: distArb,
    seed: seedArb,
  });
  const examples: SlicedCase[] = FFN_KINDS.map((kind, k) => ({ dim: 8, hidden: 32, kind, kept: 'random' as KeptKind, wDist: 'normal' as Dist, xDist: 'normal' as Dist, seed: 10 + k }));
  return runProperty(ctx, 'kernel ffnSliced', TOL.sliced, arb, examples, (c: SlicedCase) => {
    const rng = new Rng(c.seed);
    const ffn = randomFfn(rng, c.dim, c.hidden, c.kind, c.wDist === 'spike' ? 'sparse' : c.wDist, ctx.precision);
    const x = fill(rng, c.dim, c.xDist === 'spike' ? 'sparse' : c.xDist);
    const kept = keptList(rng, c.hidden, c.kept);
    const ref = new Float32Array(c.dim);
    referenceKernels.ffnSliced(ref, x, ffn, c.kind, kept);
    const out = new Float32Array(c.dim).fill(NaN);
    K.ffnSliced(out, x, ffn, c.kind, kept);
    const aRef = new Float32Array(c.hidden);
    referenceKernels.ffnActivations(aRef, x, ffn, c.kind);
    const E = activationBounds(x, ffn, c.kind, ctx.precision);
    const ids = kept ?? Int32Array.from({ length: c.hidden }, (_, i) => i);
    return compare(out, ref, (j) => {
      const t = emptyDot();
      let prop = 0;
      for (const i of ids) {
        const d = ffn.downT[i * c.dim + j];
        addTerm(t, d, aRef[i], ctx.precision);
        prop += E[i] * Math.abs(d);
      }
      if (ffn.downBias) addTerm(t, ffn.downBias[j], 1, ctx.precision);
      // The activation errors propagate through the down projection (its own
      // rounding on top: γ_n), then the usual dot-product bound.
      return dotBound(t) + prop * (1 + gamma(t.n + 1));
    }, `out (${c.kind}, kept ${c.kept})`);
  });
}

export const KERNEL_CHECKS = {
  matvec: checkMatvec,
  rmsnorm: checkRmsnorm,
  rope: checkRope,
  attention: checkAttention,
  ffnActivations: checkFfnActivations,
  ffnDown: checkFfnDown,
  ffnSliced: checkFfnSliced,
} as const;

export function runKernelChecks(K: Kernels, ctx: CheckContext, only?: (check: string) => boolean): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const [name, fn] of Object.entries(KERNEL_CHECKS)) {
    if (only && !only(`kernel ${name}`)) continue;
    rows.push(fn(K, ctx));
  }
  return rows;
}
