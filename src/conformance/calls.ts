// Sequences of calls as a decoder makes them: the same weight arrays again and
// again, weights that are views into one buffer, activation buffers reused with
// new contents, a KV cache filled row by row and then rewritten for a second
// prompt, kept lists of equal length but different neurons. A backend may cache
// device copies of *weights* keyed by the identity of their array (the contract,
// src/core/kernels.ts) — and nothing else: a cache keyed by length, by buffer, by
// the activation array, or one that never re-reads the KV cache, gives a wrong
// answer somewhere in these sequences, while each call alone on fresh arrays
// (kernels.ts) would pass.

import type { Kernels } from '../core/kernels.js';
import { kvTypeFor } from '../core/kv-cache.js';
import { roundFp16 } from './fp.js';
import type { FfnKind, FfnWeights } from '../core/model.js';
import { Rng } from '../reference/random.js';
import { type CaseArrays, judgeCall, type KernelCall, type KernelName, runCall } from './cases.js';
import { compare, type CaseResult, firstBitDifference, mergeResults } from './judge.js';
import type { CheckContext } from './kernels.js';
import type { ReportRow } from './report.js';
import { fill } from './values.js';

/** One call on the arrays as they are now, judged on copies of them. */
function step(K: Kernels, ctx: CheckContext, c: KernelCall, label: string): CaseResult {
  const copies: CaseArrays = {};
  for (const [n, a] of Object.entries(c.arrays)) copies[n] = a.slice();
  const judged = judgeCall({ ...c, arrays: copies }, ctx.precision);
  const out = runCall(K, c);
  const r = compare(out, judged.expected, judged.bound, `${label}: out`);
  if (r.fail) return r;
  for (const [n, a] of Object.entries(c.arrays)) {
    const i = firstBitDifference(a, copies[n]);
    if (i >= 0) return { ...r, fail: `${label}: the kernel modified its input ${n}[${i}]` };
  }
  return r;
}

type Sequence = (K: Kernels, ctx: CheckContext, rng: Rng) => CaseResult;

const normal = (rng: Rng, n: number, scale = 1) => fill(rng, n, 'normal', { scale });

/** Runs steps until the first failure. */
function sequence(steps: (() => CaseResult)[]): CaseResult {
  let r: CaseResult = { maxAbs: 0, maxRatio: 0 };
  for (const s of steps) {
    r = mergeResults(r, s());
    if (r.fail) break;
  }
  return r;
}

const matvecSeq: Sequence = (K, ctx, rng) => {
  const rows = 1031;
  const cols = 517;
  const buf = normal(rng, 2 * rows * cols, 1 / Math.sqrt(cols));
  const w1 = buf.subarray(0, rows * cols); // two weight matrices that are views into one buffer
  const w2 = buf.subarray(rows * cols);
  const w3 = normal(rng, rows * cols, 1 / Math.sqrt(cols));
  const x = normal(rng, cols);
  const mv = (w: Float32Array, label: string) => () => step(K, ctx, { kernel: 'matvec', params: { rows, cols }, arrays: { w, x } }, label);
  return sequence([
    mv(w1, 'matvec W1'),
    mv(w2, 'matvec W2 (a view into the same buffer as W1)'),
    mv(w3, 'matvec W3 (same shape, its own array)'),
    () => (x.set(normal(rng, cols)), { maxAbs: 0, maxRatio: 0 }),
    mv(w1, 'matvec W1 again, the same x array with new contents'),
    mv(w3, 'matvec W3 again'),
  ]);
};

const rmsnormSeq: Sequence = (K, ctx, rng) => {
  const n = 1030;
  const w1 = normal(rng, n);
  const w2 = normal(rng, n);
  const x = normal(rng, n);
  const rms = (weight: Float32Array, label: string) => () => step(K, ctx, { kernel: 'rmsnorm', params: { eps: 1e-5, alias: 0 }, arrays: { x, weight } }, label);
  return sequence([rms(w1, 'rmsnorm gain 1'), rms(w2, 'rmsnorm gain 2 (same length)'), () => (x.set(normal(rng, n, 30)), { maxAbs: 0, maxRatio: 0 }), rms(w1, 'rmsnorm gain 1, x with new contents')]);
};

const ropeSeq: Sequence = (K, ctx, rng) => {
  const vec = normal(rng, 4 * 128);
  const rope = (pos: number, headSize: number) => () => step(K, ctx, { kernel: 'rope', params: { pos, headSize, theta: 10000 }, arrays: { vec } }, `rope pos ${pos} head size ${headSize}`);
  return sequence([rope(7, 64), rope(7, 128), rope(3, 64), rope(4000, 256), rope(7, 64)]);
};

/**
 * The decoder's use of attention: rows appended one per position, then a second prompt
 * over the same cache arrays, in the cache type a decoder on K keeps (an F16 one as F16
 * words: rows rounded as the decoder writes them, cases.ts kvArg).
 */
const attentionSeq: Sequence = (K, ctx, rng) => {
  const f16 = kvTypeFor(K) === 'f16';
  const row = (n: number) => (f16 ? normal(rng, n).map(roundFp16) : normal(rng, n));
  const nHeads = 8;
  const nKvHeads = 2;
  const headSize = 80;
  const kvDim = nKvHeads * headSize;
  const seqLen = 48;
  const keyCache = new Float32Array(seqLen * kvDim);
  const valueCache = new Float32Array(seqLen * kvDim);
  const q = new Float32Array(nHeads * headSize);
  const steps: (() => CaseResult)[] = [];
  const prompt = (len: number, which: string) => {
    for (let pos = 0; pos < len; pos++) {
      steps.push(() => {
        keyCache.set(row(kvDim), pos * kvDim);
        valueCache.set(row(kvDim), pos * kvDim);
        q.set(normal(rng, nHeads * headSize));
        const params = { pos, nHeads, nKvHeads, headSize, kvDim, ...(f16 ? { kvCache: 'f16' } : {}) };
        const c: KernelCall = { kernel: 'attention', params, arrays: { q, keyCache, valueCache } };
        return step(K, ctx, c, `attention, ${which} prompt, position ${pos} (KV cache arrays reused)`);
      });
    }
  };
  prompt(40, 'first');
  prompt(24, 'second');
  return sequence(steps);
};

function ffn(rng: Rng, dim: number, hidden: number, kind: FfnKind): FfnWeights {
  const gated = kind === 'swiglu' || kind === 'geglu';
  return {
    gate: gated ? normal(rng, hidden * dim, 1 / Math.sqrt(dim)) : null,
    up: normal(rng, hidden * dim, 1 / Math.sqrt(dim)),
    downT: normal(rng, hidden * dim, 1 / Math.sqrt(hidden)),
    upBias: gated ? null : normal(rng, hidden, 0.1),
    downBias: gated ? null : normal(rng, dim, 0.1),
  };
}

interface FfnShape { dim: number; hidden: number }

function ffnCall(kernel: KernelName, f: FfnWeights, vec: Float32Array, kind: FfnKind, kept: Int32Array | null, shape: FfnShape): KernelCall {
  const arrays: CaseArrays = kernel === 'ffnDown' ? { a: vec } : { x: vec };
  if (kernel !== 'ffnDown') {
    if (f.gate) arrays['ffn.gate'] = f.gate;
    arrays['ffn.up'] = f.up;
    if (f.upBias) arrays['ffn.upBias'] = f.upBias;
  }
  if (kernel !== 'ffnActivations') {
    arrays['ffn.downT'] = f.downT;
    if (f.downBias) arrays['ffn.downBias'] = f.downBias;
    if (kept) arrays.kept = kept;
  }
  return { kernel, params: { kind, ...shape }, arrays };
}

/** Kept lists of the same length with different neurons, the same list object again, all, none. */
function keptLists(rng: Rng, hidden: number, k: number): Int32Array[] {
  const pick = () => {
    const ids = new Set<number>();
    while (ids.size < k) ids.add(rng.nextInt(hidden));
    return Int32Array.from([...ids].sort((a, b) => a - b));
  };
  return [pick(), pick()];
}

const ffnSeq = (kernel: 'ffnActivations' | 'ffnDown' | 'ffnSliced', kind: FfnKind): Sequence => (K, ctx, rng) => {
  const dim = 67;
  const hidden = 1031;
  const f1 = ffn(rng, dim, hidden, kind);
  const f2 = ffn(rng, dim, hidden, kind);
  const vec = normal(rng, kernel === 'ffnDown' ? hidden : dim);
  const [k1, k2] = keptLists(rng, hidden, 517);
  const run = (f: FfnWeights, kept: Int32Array | null, label: string) => () =>
    step(K, ctx, ffnCall(kernel, f, vec, kind, kept, { dim, hidden }), `${kernel} (${kind}) ${label}`);
  const refill = () => (vec.set(normal(rng, vec.length)), { maxAbs: 0, maxRatio: 0 });
  return sequence([
    run(f1, k1, 'FFN 1, kept list A'),
    run(f1, k2, 'FFN 1, kept list B (same length, other neurons)'),
    run(f2, k1, 'FFN 2 (same shape), kept list A'),
    refill,
    run(f1, k1, 'FFN 1, kept list A again, input array with new contents'),
    run(f1, null, 'FFN 1, all neurons'),
    run(f1, new Int32Array(0), 'FFN 1, no neuron'),
    run(f1, k2, 'FFN 1, kept list B again'),
  ]);
};

const SEQUENCES: [string, Sequence][] = [
  ['matvec', matvecSeq],
  ['rmsnorm', rmsnormSeq],
  ['rope', ropeSeq],
  ['attention', attentionSeq],
  ['ffnActivations', ffnSeq('ffnActivations', 'gelu')],
  ['ffnDown', ffnSeq('ffnDown', 'relu')],
  ['ffnSliced', ffnSeq('ffnSliced', 'swiglu')],
  ['ffnSliced', ffnSeq('ffnSliced', 'relu')],
];

export function checkCallSequences(K: Kernels, ctx: CheckContext): ReportRow {
  let r: CaseResult = { maxAbs: 0, maxRatio: 0 };
  let cases = 0;
  for (const [name, seq] of SEQUENCES) {
    let s: CaseResult;
    try {
      s = seq(K, ctx, new Rng(ctx.seed * 7919 + cases));
    } catch (e) {
      s = { maxAbs: NaN, maxRatio: NaN, fail: `${name}: the backend threw: ${((e as Error)?.message ?? String(e)).split('\n')[0]}` };
    }
    cases++;
    r = mergeResults(r, s);
  }
  return {
    backend: ctx.backend,
    device: ctx.device,
    check: 'kernel call sequences',
    cases,
    maxAbsErr: r.maxAbs,
    maxErrOverBound: r.maxRatio,
    tolerance: 'each call within its kernel bound; inputs unchanged',
    verdict: r.fail ? 'fail' : 'pass',
    notes: r.fail,
  };
}
