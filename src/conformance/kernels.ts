// Per-kernel property checks: every kernel of a backend against the reference
// kernels, on fast-check-generated cases from tiny shapes to LLaMA-2-7B rows,
// each output element within its own error bound (tolerance.ts), inputs left
// unchanged and a repeated call bit-identical (judge.ts).
//
// Shapes are chosen where real kernels break, not where they are convenient:
// lengths that are no multiple of 8/16/32/…/256 (a vector loop's tail), primes,
// row counts above 4096 (a grid or tile limit), head sizes 64/80/96/128/256 and
// GQA groups 1/2/4/8, kept lists up to all 11008 neurons of LLaMA-2-7B — all of
// them in --quick too. The generators live here once: `tda vectors export`
// writes the cases they produce (vectors.ts).

import fc from 'fast-check';
import type { Kernels } from '../core/kernels.js';
import { acceptedKvTypes } from '../core/kv-cache.js';
import { roundFp16 } from './fp.js';
import { FFN_KINDS, type FfnKind, type FfnWeights, isGated } from '../core/model.js';
import { Rng } from '../reference/random.js';
import { type CaseArrays, judgeCall, type KernelCall, type KernelCase, type KernelName, KERNEL_NAMES } from './cases.js';
import { checkCase, type CaseResult } from './judge.js';
import type { ReportRow } from './report.js';
import { largeWeight, type Precision } from './tolerance.js';
import { type Dist, distArb, fill, type KeptKind, keptArb, keptList, seedArb, spikeMatrix } from './values.js';

export { activationBounds } from './cases.js';

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
    let r: CaseResult;
    try {
      r = run(c);
    } catch (e) {
      throw new Error(`the backend threw: ${((e as Error)?.message ?? String(e)).split('\n')[0]}`);
    }
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
    maxErrOverBound: maxRatio,
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

export const TOLERANCE_TEXT: Record<KernelName, string> = {
  matvec: 'γ_n·(Σ|w·x|+δw) + u|y| (+flush)',
  rmsnorm: '(γ_{n+3}/2 + 4u + γ_3)|out|',
  rope: '(|v0|+|v1|)(Δangle+4u) + γ_2 + u',
  attention: 'Σ|Δp|·|v| (softmax intervals) + 2γ_T',
  ffnActivations: 'L·E_g·|u| + |act|·E_u + eval',
  ffnDown: 'γ_n·(Σ|w·x|+δw) + u|y| (+flush)',
  ffnSliced: 'Σ E_a|d| + γ_n·Σ|a·d|',
};

// ---------------------------------------------------------------------------
// Shapes. `awkward(...)` mixes small random sizes (they shrink well) with fixed
// lengths just off the powers of two and primes, where vector tails and tiles
// go wrong.

const dims = (max: number) => fc.integer({ min: 1, max });
const awkward = (max: number, ...sizes: number[]) => fc.oneof({ arbitrary: dims(max), weight: 3 }, { arbitrary: fc.constantFrom(...sizes), weight: 2 });
/** Lengths around 2^k and primes: the tails of 8-, 16-, 32-, 64-, 128- and 256-wide loops. */
const ODD_LENGTHS = [7, 9, 15, 17, 31, 33, 63, 65, 127, 129, 255, 257, 263, 383, 509, 511, 513, 1021, 1025, 1031];
/** Row counts past a 4096 limit (a grid dimension, a 12-bit index, one tile too few). */
const TALL_ROWS = [4097, 4099, 4111, 5003, 8191, 8193];
/** Head sizes of real models: LLaMA / Mistral 128, GPT-2 / Phi 64 and 80, 96 (Phi-3), 256 (Gemma); as half-sizes. */
const HEAD_HALVES = [32, 40, 48, 64, 128];
const GQA_GROUPS = [1, 2, 4, 8];
/** FFN widths: LLaMA-2-7B's 11008, and widths just past 1024 / 4096. */
const HIDDEN_SIZES = [1000, 1025, 1031, 4097, 11008];

// ---------------------------------------------------------------------------
// Case descriptors → calls. A descriptor is a few numbers and names that
// fast-check generates and shrinks; the call's tensors are materialised from
// it deterministically, so a counterexample replays exactly whatever its size.

export interface MatvecCase { rows: number; cols: number; wDist: Dist; xDist: Dist; seed: number }
export interface RmsCase { n: number; dist: Dist; eps: number; alias: boolean; seed: number }
export interface RopeCase { nHeads: number; half: number; pos: number; theta: number; dist: Dist; seed: number }
export interface AttnCase { nKvHeads: number; group: number; half: number; pos: number; dist: Dist; seed: number }
export interface ActCase { dim: number; hidden: number; kind: FfnKind; wDist: Dist; xDist: Dist; seed: number }
export interface DownCase { dim: number; hidden: number; kept: KeptKind; aDist: Dist; wDist: Dist; bias: boolean; seed: number }
export interface SlicedCase { dim: number; hidden: number; kind: FfnKind; kept: KeptKind; wDist: Dist; xDist: Dist; seed: number }

/** A kernel's generator: random cases, fixed examples, and how a case becomes a call. */
export interface KernelGenerator<T> {
  arb: fc.Arbitrary<T>;
  examples: (quick: boolean) => T[];
  call: (c: T, p: Precision) => KernelCall;
}

const noSpike = (d: Dist): Dist => (d === 'spike' ? 'sparse' : d);

function matvecCall(c: MatvecCase, p: Precision): KernelCall {
  const rng = new Rng(c.seed);
  const spike = c.wDist === 'spike' || c.xDist === 'spike';
  const at = rng.nextInt(c.cols);
  const w = spike
    ? spikeMatrix(rng, c.rows, c.cols, at)
    : fill(rng, c.rows * c.cols, c.wDist, { scale: 1 / Math.sqrt(c.cols), large: largeWeight(p) });
  const x = spike ? fill(rng, c.cols, 'spike', { spikeAt: at }) : fill(rng, c.cols, c.xDist);
  return { kernel: 'matvec', params: { rows: c.rows, cols: c.cols }, arrays: { w, x } };
}

const matvecGen: KernelGenerator<MatvecCase> = {
  arb: fc.oneof(
    { arbitrary: fc.record({ rows: dims(48), cols: awkward(300, ...ODD_LENGTHS), wDist: distArb, xDist: distArb, seed: seedArb }), weight: 4 },
    { arbitrary: fc.record({ rows: fc.constantFrom(...TALL_ROWS), cols: awkward(24, 33, 65), wDist: distArb, xDist: distArb, seed: seedArb }), weight: 1 },
  ),
  examples: (quick) => [
    { rows: 8, cols: 300, wDist: 'spike', xDist: 'spike', seed: 7 },
    { rows: 4, cols: 257, wDist: 'grid', xDist: 'grid', seed: 3 },
    { rows: 4096, cols: 11008, wDist: 'normal', xDist: 'mixed', seed: 1 }, // LLaMA-2-7B down projection rows
    { rows: 4111, cols: 1031, wDist: 'small', xDist: 'small', seed: 4 }, // tall, prime-ish, tiny but normal values
    { rows: 32003, cols: 67, wDist: 'normal', xDist: 'normal', seed: 6 }, // a vocabulary-sized classifier
    ...(quick
      ? []
      : [
          { rows: 11008, cols: 4096, wDist: 'heavy', xDist: 'normal', seed: 2 } as MatvecCase, // up / gate rows
          { rows: 4096, cols: 11008, wDist: 'spike', xDist: 'spike', seed: 5 } as MatvecCase,
        ]),
  ],
  call: matvecCall,
};

const rmsnormGen: KernelGenerator<RmsCase> = {
  arb: fc.record({ n: awkward(600, ...ODD_LENGTHS, 4095, 4097, 5120, 11008), dist: distArb, eps: fc.constantFrom(1e-5, 1e-6), alias: fc.boolean(), seed: seedArb }),
  examples: () => [
    { n: 4096, dist: 'heavy', eps: 1e-5, alias: true, seed: 1 },
    { n: 11008, dist: 'mixed', eps: 1e-5, alias: false, seed: 2 },
    { n: 64, dist: 'subnormal', eps: 1e-5, alias: false, seed: 3 },
    { n: 4099, dist: 'small', eps: 1e-6, alias: false, seed: 4 },
  ],
  call: (c) => {
    const rng = new Rng(c.seed);
    const x = fill(rng, c.n, c.dist, { large: 2 ** 40 });
    const weight = new Float32Array(c.n);
    for (let i = 0; i < c.n; i++) weight[i] = 1 + 0.1 * rng.nextNormal();
    return { kernel: 'rmsnorm', params: { eps: c.eps, alias: c.alias ? 1 : 0 }, arrays: { x, weight } };
  },
};

const ropeGen: KernelGenerator<RopeCase> = {
  arb: fc.record({
    nHeads: dims(4),
    half: awkward(64, ...HEAD_HALVES), // headSize = 2·half
    pos: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 8191 })),
    theta: fc.constantFrom(10000, 500000, 1000000),
    dist: distArb,
    seed: seedArb,
  }),
  examples: () => [
    { nHeads: 32, half: 64, pos: 4095, theta: 10000, dist: 'normal', seed: 1 }, // LLaMA-2-7B q at the last position
    { nHeads: 2, half: 4, pos: 1, theta: 10000, dist: 'grid', seed: 2 },
    { nHeads: 3, half: 40, pos: 777, theta: 10000, dist: 'normal', seed: 3 }, // head size 80
    { nHeads: 2, half: 128, pos: 8000, theta: 1000000, dist: 'small', seed: 4 }, // head size 256
  ],
  call: (c) => {
    const rng = new Rng(c.seed);
    const vec = fill(rng, c.nHeads * 2 * c.half, c.dist);
    return { kernel: 'rope', params: { pos: c.pos, headSize: 2 * c.half, theta: c.theta }, arrays: { vec } };
  },
};

function attentionCall(c: AttnCase): KernelCall {
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
  return {
    kernel: 'attention',
    params: { pos: c.pos, nHeads, nKvHeads: c.nKvHeads, headSize: hs, kvDim },
    arrays: { q, keyCache, valueCache },
  };
}

const attentionGen: KernelGenerator<AttnCase> = {
  arb: fc.record({
    nKvHeads: dims(3),
    group: fc.oneof(dims(3), fc.constantFrom(...GQA_GROUPS)),
    half: awkward(16, ...HEAD_HALVES),
    pos: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 40 }), weight: 3 }, { arbitrary: fc.integer({ min: 41, max: 700 }), weight: 1 }),
    dist: distArb,
    seed: seedArb,
  }),
  examples: () => [
    { nKvHeads: 2, group: 4, half: 64, pos: 300, dist: 'normal', seed: 1 }, // headSize 128, GQA 8:2
    { nKvHeads: 1, group: 1, half: 1, pos: 0, dist: 'normal', seed: 2 },
    { nKvHeads: 1, group: 8, half: 128, pos: 129, dist: 'normal', seed: 3 }, // head size 256, 8 query heads per KV head
    { nKvHeads: 2, group: 2, half: 40, pos: 517, dist: 'normal', seed: 4 }, // head size 80
    { nKvHeads: 1, group: 4, half: 48, pos: 33, dist: 'small', seed: 7 }, // tiny but normal values
    { nKvHeads: 3, group: 1, half: 48, pos: 64, dist: 'mixed', seed: 5 }, // head size 96; huge scores (±2^40)
    { nKvHeads: 2, group: 2, half: 32, pos: 1100, dist: 'heavy', seed: 6 }, // head size 64, a long context
  ],
  call: attentionCall,
};

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

/** The FFN weights of a call under their array names; `which` picks the ones the kernel reads. */
function ffnArrays(ffn: FfnWeights, which: 'act' | 'down' | 'all'): CaseArrays {
  const a: CaseArrays = {};
  if (which !== 'down') {
    if (ffn.gate) a['ffn.gate'] = ffn.gate;
    a['ffn.up'] = ffn.up;
    if (ffn.upBias) a['ffn.upBias'] = ffn.upBias;
  }
  if (which !== 'act') {
    a['ffn.downT'] = ffn.downT;
    if (ffn.downBias) a['ffn.downBias'] = ffn.downBias;
  }
  return a;
}

const kindArb = fc.constantFrom<FfnKind>(...FFN_KINDS);

const activationsGen: KernelGenerator<ActCase> = {
  arb: fc.oneof(
    { arbitrary: fc.record({ dim: awkward(64, 65, 127, 129), hidden: dims(96), kind: kindArb, wDist: distArb, xDist: distArb, seed: seedArb }), weight: 3 },
    { arbitrary: fc.record({ dim: dims(24), hidden: fc.constantFrom(...HIDDEN_SIZES), kind: kindArb, wDist: distArb, xDist: distArb, seed: seedArb }), weight: 1 },
  ),
  examples: (quick) => [
    ...FFN_KINDS.map((kind, k) => ({ dim: 16, hidden: 24, kind, wDist: 'grid' as Dist, xDist: 'grid' as Dist, seed: k })),
    ...FFN_KINDS.map((kind, k) => ({ dim: 67, hidden: 4111, kind, wDist: 'small' as Dist, xDist: 'normal' as Dist, seed: 20 + k })),
    ...(quick ? [] : [{ dim: 4096, hidden: 11008, kind: 'swiglu', wDist: 'normal', xDist: 'heavy', seed: 9 } as ActCase]),
  ],
  call: (c, p) => {
    const rng = new Rng(c.seed);
    const ffn = randomFfn(rng, c.dim, c.hidden, c.kind, noSpike(c.wDist), p);
    const x = fill(rng, c.dim, noSpike(c.xDist));
    return { kernel: 'ffnActivations', params: { kind: c.kind, dim: c.dim, hidden: c.hidden }, arrays: { x, ...ffnArrays(ffn, 'act') } };
  },
};

function keptArrays(kept: Int32Array | null): CaseArrays {
  return kept ? { kept } : {};
}

const downGen: KernelGenerator<DownCase> = {
  arb: fc.record({
    dim: awkward(64, 65, 129),
    hidden: awkward(128, ...HIDDEN_SIZES),
    kept: keptArb,
    aDist: distArb,
    wDist: distArb,
    bias: fc.boolean(),
    seed: seedArb,
  }),
  examples: (quick) => [
    { dim: 8, hidden: 40, kept: 'random', aDist: 'grid', wDist: 'grid', bias: false, seed: 1 },
    { dim: 8, hidden: 40, kept: 'empty', aDist: 'normal', wDist: 'normal', bias: true, seed: 2 },
    { dim: 4096, hidden: 11008, kept: 'random', aDist: 'heavy', wDist: 'normal', bias: false, seed: 3 }, // LLaMA-2-7B, ~5500 kept
    { dim: 33, hidden: 11008, kept: 'allExplicit', aDist: 'small', wDist: 'normal', bias: false, seed: 4 }, // no bias to hide tiny terms
    ...(quick ? [] : [{ dim: 4096, hidden: 11008, kept: 'allExplicit', aDist: 'normal', wDist: 'normal', bias: false, seed: 5 } as DownCase]),
  ],
  call: (c, p) => {
    const rng = new Rng(c.seed);
    const a = fill(rng, c.hidden, noSpike(c.aDist));
    const downT = fill(rng, c.hidden * c.dim, noSpike(c.wDist), { scale: 1 / Math.sqrt(c.hidden), large: largeWeight(p) });
    const downBias = c.bias ? fill(rng, c.dim, 'normal', { scale: 0.1 }) : null;
    const kept = keptList(rng, c.hidden, c.kept);
    const ffn: FfnWeights = { gate: null, up: new Float32Array(0), downT, upBias: null, downBias };
    return { kernel: 'ffnDown', params: { dim: c.dim, hidden: c.hidden }, arrays: { a, ...ffnArrays(ffn, 'down'), ...keptArrays(kept) } };
  },
};

const slicedGen: KernelGenerator<SlicedCase> = {
  arb: fc.oneof(
    { arbitrary: fc.record({ dim: awkward(48, 65, 129), hidden: dims(96), kind: kindArb, kept: keptArb, wDist: distArb, xDist: distArb, seed: seedArb }), weight: 3 },
    { arbitrary: fc.record({ dim: dims(16), hidden: fc.constantFrom(...HIDDEN_SIZES), kind: kindArb, kept: keptArb, wDist: distArb, xDist: distArb, seed: seedArb }), weight: 1 },
  ),
  examples: (quick) => [
    ...FFN_KINDS.map((kind, k) => ({ dim: 8, hidden: 32, kind, kept: 'random' as KeptKind, wDist: 'normal' as Dist, xDist: 'normal' as Dist, seed: 10 + k })),
    // Kept lists of all 11008 neurons (and about half of them) of LLaMA-2-7B's FFN.
    { dim: 37, hidden: 11008, kind: 'swiglu', kept: 'allExplicit', wDist: 'normal', xDist: 'normal', seed: 20 },
    { dim: 61, hidden: 11008, kind: 'geglu', kept: 'random', wDist: 'small', xDist: 'normal', seed: 21 },
    { dim: 29, hidden: 4099, kind: 'relu', kept: 'tailBlock', wDist: 'normal', xDist: 'small', seed: 22 },
    ...(quick ? [] : [{ dim: 4096, hidden: 11008, kind: 'swiglu', kept: 'random', wDist: 'normal', xDist: 'normal', seed: 23 } as SlicedCase]),
  ],
  call: (c, p) => {
    const rng = new Rng(c.seed);
    const ffn = randomFfn(rng, c.dim, c.hidden, c.kind, noSpike(c.wDist), p);
    const x = fill(rng, c.dim, noSpike(c.xDist));
    const kept = keptList(rng, c.hidden, c.kept);
    return { kernel: 'ffnSliced', params: { kind: c.kind, dim: c.dim, hidden: c.hidden }, arrays: { x, ...ffnArrays(ffn, 'all'), ...keptArrays(kept) } };
  },
};

export const KERNEL_GENERATORS: { [K in KernelName]: KernelGenerator<any> } = {
  matvec: matvecGen,
  rmsnorm: rmsnormGen,
  rope: ropeGen,
  attention: attentionGen,
  ffnActivations: activationsGen,
  ffnDown: downGen,
  ffnSliced: slicedGen,
};

// Judged cases depend only on (kernel, descriptor, precision): several backends
// checked in one process share them — every small case, and the latest few
// LLaMA-size ones (seconds of reference and bound arithmetic, ~200 MB each).
const bigCases = new Map<string, KernelCase>();
const smallCases = new Map<string, KernelCase>();

/**
 * The judged case of a descriptor: reference output and bounds (cached for big ones).
 * `variant` names another way of turning descriptors into calls (`call`).
 */
export function judgedCase(kernel: KernelName, desc: unknown, p: Precision, variant?: { name: string; call: (d: any, p: Precision) => KernelCall }): KernelCase {
  const key = `${kernel}${variant ? ` ${variant.name}` : ''}|${JSON.stringify(desc)}|${p}`;
  const hit = bigCases.get(key) ?? smallCases.get(key);
  if (hit) return hit;
  const c = judgeCall((variant?.call ?? KERNEL_GENERATORS[kernel].call)(desc, p), p);
  const size = Object.values(c.arrays).reduce((s, a) => s + a.length, 0);
  if (size >= 1 << 20) {
    if (bigCases.size >= 4) bigCases.delete(bigCases.keys().next().value!);
    bigCases.set(key, c);
  } else if (smallCases.size < 4000) smallCases.set(key, c);
  return c;
}

function forgetCase(kernel: KernelName, desc: unknown, p: Precision, variant?: { name: string }): void {
  const key = `${kernel}${variant ? ` ${variant.name}` : ''}|${JSON.stringify(desc)}|${p}`;
  bigCases.delete(key);
  smallCases.delete(key);
}

export function checkKernel(K: Kernels, ctx: CheckContext, kernel: KernelName): ReportRow {
  const gen = KERNEL_GENERATORS[kernel];
  return runProperty(ctx, `kernel ${kernel}`, TOLERANCE_TEXT[kernel], gen.arb, gen.examples(ctx.quick), (desc) => {
    const r = checkCase(K, judgedCase(kernel, desc, ctx.precision), 'out');
    // A failing backend may have written into the inputs: never share them with the next backend.
    if (r.fail) forgetCase(kernel, desc, ctx.precision);
    return r;
  });
}

/**
 * An attention case over an F16 KV cache: the same descriptors, with every cache value
 * rounded to F16 (nearest even; beyond ±65504 saturated, since a decoder refuses to
 * store those) so that the words and the float32 values are the same numbers. The
 * kernel reads the words; the reference and the bounds, their values: a cache kept as
 * F16 changes what is stored, not what attention must compute over it. The `small` and
 * `subnormal` distributions, below F16's range as float32 draws them, are first scaled
 * by a power of two to F16's own: largest magnitude 2^-13, so the cache holds F16
 * subnormals (below 2^-14) and small normals, where a hand-written F16 widening breaks.
 */
function attentionF16Call(c: AttnCase): KernelCall {
  const call = attentionCall(c);
  for (const name of ['keyCache', 'valueCache']) {
    const a = call.arrays[name] as Float32Array;
    if (c.dist === 'small' || c.dist === 'subnormal') {
      let max = 0;
      for (const v of a) if (Math.abs(v) > max) max = Math.abs(v); // NaN rows compare false
      if (max > 0) {
        const scale = 2 ** (-13 - Math.ceil(Math.log2(max)));
        for (let i = 0; i < a.length; i++) a[i] *= scale;
      }
    }
    for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i])) a[i] = Math.max(-F16_MAX, Math.min(F16_MAX, roundFp16(a[i])));
  }
  return { ...call, params: { ...call.params, kvCache: 'f16' } };
}

const F16_MAX = 65504;
const F16_VARIANT = { name: '(F16 KV cache)', call: attentionF16Call };

/**
 * The `kernel attention (F16 KV cache)` row, for kernels that accept an F16 cache
 * (kvCacheTypes); null for the others. Same generator, examples and bounds as the
 * attention row.
 */
export function checkAttentionF16Cache(K: Kernels, ctx: CheckContext): ReportRow | null {
  if (!acceptedKvTypes(K).includes('f16')) return null;
  return runProperty(ctx, `kernel attention ${F16_VARIANT.name}`, TOLERANCE_TEXT.attention, attentionGen.arb, attentionGen.examples(ctx.quick), (desc) => {
    const r = checkCase(K, judgedCase('attention', desc, ctx.precision, F16_VARIANT), 'out');
    if (r.fail) forgetCase('attention', desc, ctx.precision, F16_VARIANT);
    return r;
  });
}
