// A legitimate float32 implementation of the kernels: every operation rounded to
// float32 (Math.fround), reductions summed in a chosen order, transcendental
// functions rounded once. It is what llama2.c's run.c computes. The harness uses
// it twice: (1) as a self-test that the bounds of tolerance.ts are not tighter than
// honest float32 arithmetic, and (2) end to end, as the "legitimate drift" that a
// conformant backend may show on logits (see endToEnd.ts). With `precision` fp16
// or bf16 it also rounds (or, with `truncate`, truncates) every weight it reads, as
// a half-precision backend does; with `flush` it flushes subnormals to zero. The
// honest test backends (test/fixtures/broken-backends/honest-*.ts) are built from it.

import { widenKv } from '../core/kv-cache.js';
import type { Kernels } from '../core/kernels.js';
import type { FfnKind, FfnWeights } from '../core/model.js';
import { roundBf16, roundFp16 } from './fp.js';
import type { Precision } from './tolerance.js';

let fr = Math.fround;

export type SumOrder = 'sequential' | 'pairwise' | 'lanes8';

let scratch = new Float64Array(1024);

/** Columns of the down projection gathered at once (twin's non-sequential path). */
const DOWN_BLOCK = 16;

/** The rounded products fr(w[wOff + i·stride]·x[xOff + i]) summed in `order` — no closure per term (45M-term cases). */
function dotOrdered(w: Float32Array, wOff: number, stride: number, x: Float32Array, xOff: number, n: number, order: SumOrder): number {
  if (scratch.length < n) scratch = new Float64Array(n);
  const p = scratch;
  for (let i = 0; i < n; i++) p[i] = fr(w[wOff + i * stride] * x[xOff + i]);
  return sumOrdered(p, 0, n, order);
}

/**
 * Σ p[lo..hi) in float32, in `order`: sequential; 8 SIMD lanes then a horizontal
 * sum (a vectorised CPU kernel); pairwise halves (a GPU tree reduction).
 */
function sumOrdered(p: Float64Array, lo: number, hi: number, order: SumOrder): number {
  if (order === 'sequential') {
    let s = 0;
    for (let i = lo; i < hi; i++) s = fr(s + p[i]);
    return s;
  }
  if (order === 'lanes8') {
    // Lane l holds the terms lo + l, lo + l + 8, …; the lanes are then summed in order.
    let l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
    let i = lo;
    for (; i + 8 <= hi; i += 8) {
      l0 = fr(l0 + p[i]);
      l1 = fr(l1 + p[i + 1]);
      l2 = fr(l2 + p[i + 2]);
      l3 = fr(l3 + p[i + 3]);
      l4 = fr(l4 + p[i + 4]);
      l5 = fr(l5 + p[i + 5]);
      l6 = fr(l6 + p[i + 6]);
      l7 = fr(l7 + p[i + 7]);
    }
    const n = hi - i;
    if (n > 0) l0 = fr(l0 + p[i]);
    if (n > 1) l1 = fr(l1 + p[i + 1]);
    if (n > 2) l2 = fr(l2 + p[i + 2]);
    if (n > 3) l3 = fr(l3 + p[i + 3]);
    if (n > 4) l4 = fr(l4 + p[i + 4]);
    if (n > 5) l5 = fr(l5 + p[i + 5]);
    if (n > 6) l6 = fr(l6 + p[i + 6]);
    return fr(fr(fr(fr(fr(fr(fr(fr(0 + l0) + l1) + l2) + l3) + l4) + l5) + l6) + l7);
  }
  return pairwise(p, lo, hi);
}

/**
 * The pairwise tree: a range splits at lo + ⌊L/2⌋ (L = hi − lo), and a range of at most
 * 2 terms is summed in order from 0. The tree depends on L only. Ranges of up to 4
 * terms are written out (their trees: 3 = 1 + 2, 4 = 2 + 2), which halves the calls.
 */
function pairwise(p: Float64Array, lo: number, hi: number): number {
  const n = hi - lo;
  if (n <= 4) {
    if (n === 4) return fr(fr(fr(0 + p[lo]) + p[lo + 1]) + fr(fr(0 + p[lo + 2]) + p[lo + 3]));
    if (n === 3) return fr(fr(0 + p[lo]) + fr(fr(0 + p[lo + 1]) + p[lo + 2]));
    if (n === 2) return fr(fr(0 + p[lo]) + p[lo + 1]);
    return n === 1 ? fr(0 + p[lo]) : 0;
  }
  const mid = lo + (n >> 1);
  return fr(pairwise(p, lo, mid) + pairwise(p, mid, hi));
}

/** Σ fr(w[wOff + i·stride]·x[xOff + i]) in order, each step rounded: the end-to-end hot loop, without a closure per term. */
function dotSequential(w: Float32Array, wOff: number, stride: number, x: Float32Array, xOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = fr(s + fr(w[wOff + i * stride] * x[xOff + i]));
  return s;
}

export interface TwinOptions {
  /** Flush every subnormal input and result to zero (GPUs, fast-math CPUs). */
  flush?: boolean;
  /** Store bf16 / fp16 weights by truncation instead of rounding to nearest. */
  truncate?: boolean;
}

const FLT_MIN = 2 ** -126;
const flushed = (x: number) => {
  const r = Math.fround(x);
  return r > -FLT_MIN && r < FLT_MIN ? 0 : r;
};

/** Truncation to bf16 (drop the low 16 bits) or fp16 (toward zero). */
function truncateTo(p: Precision): (x: number) => number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  if (p === 'bf16') {
    return (x) => {
      f[0] = x;
      u[0] &= 0xffff0000;
      return f[0];
    };
  }
  return (x) => {
    const r = roundFp16(x);
    return Math.abs(r) > Math.abs(x) ? Math.sign(x) * (Math.abs(r) - fp16Ulp(Math.abs(x))) : r;
  };
}

function fp16Ulp(a: number): number {
  return 2 ** (Math.max(Math.floor(Math.log2(a)), -14) - 10);
}

/** f of every element of a, in a new array (a loop, not a.map(f): several times faster). */
function mapped(a: Float32Array, f: (x: number) => number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
  return out;
}

/**
 * mapped(w, f), made once per weight array and kept by its identity, as the kernel
 * contract allows (weights are immutable once loaded).
 */
function mapOnce(cache: WeakMap<Float32Array, Float32Array>, w: Float32Array, f: (x: number) => number): Float32Array {
  let m = cache.get(w);
  if (!m) cache.set(w, (m = mapped(w, f)));
  return m;
}

export function fp32Kernels(order: SumOrder = 'sequential', precision: Precision = 'fp32', opts: TwinOptions = {}): Kernels {
  const k = makeKernels(order, precision, opts);
  if (!opts.flush) return k;
  // Every kernel of the flushing twin runs with fr = flush(fround(·)), on flushed inputs.
  // The weight arguments (matvec's w, rmsnorm's weight) are flushed once per array, by
  // identity as the contract allows: they are immutable, and flushing a LLaMA-size w on
  // every call would cost more than the kernel.
  const WEIGHT_ARG: Record<string, number> = { matvec: 1, rmsnorm: 2 };
  const flushedCopy = (a: Float32Array): Float32Array => mapped(a, flushed);
  const flushedWeights = new WeakMap<Float32Array, Float32Array>();
  const flushedWeight = (w: Float32Array): Float32Array => mapOnce(flushedWeights, w, flushed);
  const wrapped = {} as Kernels;
  for (const [name, fn] of Object.entries(k)) {
    (wrapped as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      fr = flushed;
      try {
        const flushedArgs = args.map((a, i) =>
          !(a instanceof Float32Array) ? a : i === WEIGHT_ARG[name] ? flushedWeight(a) : flushedCopy(a),
        );
        // rmsnorm / rope work in place or alias: write the flushed result back.
        (fn as (...a: unknown[]) => void)(...flushedArgs);
        args.forEach((a, i) => {
          if (a instanceof Float32Array && (i === 0 || name === 'rope')) a.set(flushedArgs[i] as Float32Array);
        });
      } finally {
        fr = Math.fround;
      }
    };
  }
  return wrapped;
}

function makeKernels(order: SumOrder, precision: Precision, opts: TwinOptions): Kernels {
  const rw = precision === 'fp32' ? (x: number) => fr(x) : opts.truncate ? truncateTo(precision) : precision === 'fp16' ? roundFp16 : roundBf16;
  // float32 weights read as they are, summed in order: the fast loops below.
  const plain = order === 'sequential' && precision === 'fp32';
  // A reduced-precision twin stores each weight matrix once, by array identity as the
  // kernel contract allows (weights are immutable): rounding 45M weights on every call
  // of a LLaMA-size case would cost more than the sums. The values are rw's either way.
  const storedCopies = new WeakMap<Float32Array, Float32Array>();
  const stored = (w: Float32Array): Float32Array => (precision === 'fp32' ? w : mapOnce(storedCopies, w, rw));
  // A weight as the sums read it: rw applied to every element. For float32 that is the
  // array itself (fround of a float32 is the identity), or its flushed copy in a
  // flushing twin (fr = flush∘fround there), kept by identity like `stored`.
  const flushedCopies = new WeakMap<Float32Array, Float32Array>();
  const readAs = (w: Float32Array): Float32Array =>
    precision !== 'fp32' ? stored(w) : opts.flush ? mapOnce(flushedCopies, w, flushed) : w;
  const act = (kind: FfnKind, x: number): number => {
    if (kind === 'relu') return x > 0 ? x : 0;
    if (kind === 'swiglu') return fr(x / fr(1 + fr(Math.exp(-x))));
    const inner = fr(0.7978845608028654 * fr(x + fr(0.044715 * fr(x * fr(x * x)))));
    return fr(fr(0.5 * x) * fr(1 + fr(Math.tanh(inner))));
  };
  const activation = (x: Float32Array, ffn: FfnWeights, kind: FfnKind, i: number): number => {
    const dim = x.length;
    const up = plain ? dotSequential(ffn.up, i * dim, 1, x, 0, dim) : dotOrdered(stored(ffn.up), i * dim, 1, x, 0, dim, order);
    if (ffn.gate && (kind === 'swiglu' || kind === 'geglu')) {
      const g = plain ? dotSequential(ffn.gate, i * dim, 1, x, 0, dim) : dotOrdered(stored(ffn.gate), i * dim, 1, x, 0, dim, order);
      return fr(act(kind, g) * up);
    }
    return act(kind, fr(up + (ffn.upBias ? rw(ffn.upBias[i]) : 0)));
  };
  const down = (out: Float32Array, a: (i: number) => number, ffn: FfnWeights, ids: ArrayLike<number>): void => {
    const dim = out.length;
    if (plain) {
      // Same order (kept neurons ascending), accumulated per output column.
      const acc = new Float32Array(dim);
      for (let k = 0; k < ids.length; k++) {
        const ai = a(ids[k]);
        const base = ids[k] * dim;
        for (let j = 0; j < dim; j++) acc[j] = acc[j] + fr(ai * ffn.downT[base + j]);
      }
      for (let j = 0; j < dim; j++) out[j] = fr(acc[j] + (ffn.downBias ? ffn.downBias[j] : 0));
      return;
    }
    // Column j sums the kept terms in `order`; the terms of DOWN_BLOCK columns are
    // gathered per kept row (rows of downT are contiguous), then each column is summed.
    const n = ids.length;
    const aK = Float64Array.from(ids, (i) => a(i));
    const downT = readAs(ffn.downT);
    const block = new Float64Array(DOWN_BLOCK * n);
    for (let j0 = 0; j0 < dim; j0 += DOWN_BLOCK) {
      const cols = Math.min(DOWN_BLOCK, dim - j0);
      for (let k = 0; k < n; k++) {
        const ak = aK[k];
        const base = ids[k] * dim + j0;
        for (let c = 0; c < cols; c++) block[c * n + k] = fr(ak * downT[base + c]);
      }
      for (let c = 0; c < cols; c++) {
        const j = j0 + c;
        out[j] = fr(sumOrdered(block, c * n, c * n + n, order) + (ffn.downBias ? rw(ffn.downBias[j]) : 0));
      }
    }
  };
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  return {
    kvCacheTypes: ['f32', 'f16'],
    matvec(out, w, x, rows, cols) {
      if (plain) for (let r = 0; r < rows; r++) out[r] = dotSequential(w, r * cols, 1, x, 0, cols);
      else {
        const ws = stored(w);
        for (let r = 0; r < rows; r++) out[r] = dotOrdered(ws, r * cols, 1, x, 0, cols, order);
      }
    },
    rmsnorm(out, x, weight, eps) {
      const ss = dotOrdered(x, 0, 1, x, 0, x.length, order);
      const scale = fr(1 / fr(Math.sqrt(fr(fr(ss / x.length) + fr(eps)))));
      for (let i = 0; i < x.length; i++) out[i] = fr(rw(weight[i]) * fr(scale * x[i]));
    },
    rope(vec, pos, headSize, theta) {
      for (let i = 0; i < vec.length; i += 2) {
        const j = i % headSize;
        const freq = fr(1 / fr(Math.pow(theta, fr(j / headSize))));
        const angle = fr(pos * freq);
        const c = fr(Math.cos(angle));
        const s = fr(Math.sin(angle));
        const v0 = vec[i];
        const v1 = vec[i + 1];
        vec[i] = fr(fr(v0 * c) - fr(v1 * s));
        vec[i + 1] = fr(fr(v0 * s) + fr(v1 * c));
      }
    },
    attention(out, q, kc, vc, pos, shape) {
      const { nHeads, nKvHeads, headSize, kvDim } = shape;
      // An F16 cache is its words' float32 values (src/core/kv-cache.ts): the same sums over them.
      const keyCache = widenKv(kc, (pos + 1) * kvDim);
      const valueCache = widenKv(vc, (pos + 1) * kvDim);
      const group = nHeads / nKvHeads;
      const scale = fr(1 / fr(Math.sqrt(headSize)));
      const sc = new Float32Array(pos + 1);
      for (let h = 0; h < nHeads; h++) {
        const kvOff = Math.floor(h / group) * headSize;
        let max = -Infinity;
        for (let t = 0; t <= pos; t++) {
          const dot = plain
            ? dotSequential(keyCache, t * kvDim + kvOff, 1, q, h * headSize, headSize)
            : dotOrdered(keyCache, t * kvDim + kvOff, 1, q, h * headSize, headSize, order);
          sc[t] = fr(dot * scale);
          if (sc[t] > max) max = sc[t];
        }
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          sc[t] = fr(Math.exp(fr(sc[t] - max)));
          sum = fr(sum + sc[t]);
        }
        for (let t = 0; t <= pos; t++) sc[t] = fr(sc[t] / sum);
        for (let d = 0; d < headSize; d++) {
          out[h * headSize + d] = plain
            ? dotSequential(valueCache, kvOff + d, kvDim, sc, 0, pos + 1)
            : dotOrdered(valueCache, kvOff + d, kvDim, sc, 0, pos + 1, order);
        }
      }
    },
    ffnActivations(a, x, ffn, kind) {
      for (let i = 0; i < a.length; i++) a[i] = activation(x, ffn, kind, i);
    },
    ffnDown(out, a, ffn, kept) {
      down(out, (i) => a[i], ffn, kept ?? all(a.length));
    },
    ffnSliced(out, x, ffn, kind, kept) {
      const ids = kept ?? all(ffn.up.length / x.length);
      const a = new Map<number, number>();
      for (const i of ids) a.set(i, activation(x, ffn, kind, i));
      down(out, (i) => a.get(i)!, ffn, ids);
    },
  };
}
