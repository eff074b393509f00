// Test data for the kernel checks. A case is a small descriptor (shape, value
// distribution, seed) that fast-check generates and shrinks; the tensors are
// materialised from it deterministically, so a shrunk counterexample is a few
// numbers that replay exactly, whatever the tensor size (4096 × 11008 included).

import fc from 'fast-check';
import { FLT_MIN } from './fp.js';
import { Rng } from '../reference/random.js';

/**
 * Value distributions:
 *  normal   N(0, 1/√n)-scaled values, the trained-model regime;
 *  heavy    Cauchy-like tails (ratio of normals), capped at ±2^20;
 *  mixed    adversarial mixture: exact zeros, subnormals, ±large, ±tiny normals, normals;
 *  subnormal every value below FLT_MIN (what GPUs flush to zero);
 *  sparse   mostly exact zeros (ReLU-like);
 *  grid     small integers × 2^-3: every partial sum is exact in float32, so the
 *           tolerance is exactly 0 and ties at a threshold are real ties;
 *  positive |normal|: no cancellation, rounding errors can all point one way;
 *  spike    one entry a power of two, the rest exact zeros: a sum whose every
 *           partial sum sits on a power of two, where one extra ulp per step is
 *           twice the worst rounding error (catches accumulating drift);
 *  small    normal values times 2^-e, one e in [24, 56] per array: every value
 *           is a normal float32 far below 1, so a kernel that cuts off "tiny"
 *           terms (|a| < 1e-6 …) loses the whole result, while products stay
 *           normal (no flushing allowance hides the loss).
 */
export const DISTS = ['normal', 'heavy', 'mixed', 'subnormal', 'sparse', 'grid', 'positive', 'spike', 'small'] as const;
export type Dist = (typeof DISTS)[number];

export const distArb = fc.constantFrom<Dist>(...DISTS);

export interface FillOptions {
  /** Typical magnitude for 'normal' (e.g. 1/√fan_in). */
  scale?: number;
  /** Largest magnitude for ±large values (fp16 weights need ≤ 2^12). */
  large?: number;
  /** For 'spike': the index of the spike, shared by w and x of one case. */
  spikeAt?: number;
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

const NORMAL_TABLE = Float64Array.from({ length: (1 << 14) + 1 }, (_, k) => normalQuantile((Math.min(k, (1 << 14) - 1) + 0.5) / (1 << 14)));

/**
 * The data generator: a 32-bit xorshift seeded from the case's Rng, and normals
 * by table lookup (the inverse normal CDF at 2^14 cell midpoints, linearly
 * interpolated): LLaMA-size cases draw 45 million values, which Box–Muller on the
 * 64-bit Rng would take seconds for. Tails are cut at ±3.9σ; nothing here needs more.
 */
class DataRng {
  private s: number;
  private readonly table = NORMAL_TABLE;
  constructor(rng: Rng) {
    this.s = rng.nextU32() | 1;
  }
  u32(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (this.s = s) >>> 0;
  }
  float(): number {
    return (this.u32() >>> 8) / 16777216;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  normal(): number {
    const r = this.u32();
    const k = r >>> 18; // 14 bits: the cell
    const f = (r & 0x3ffff) / 0x40000; // 18 bits: the place inside it
    const t = this.table;
    return t[k] + (t[k + 1] - t[k]) * f;
  }
}

const TINY_NORMAL = FLT_MIN; // a local copy: module bindings are slow in the 45M-value loops

function drawValue(g: DataRng, dist: Dist, o: Required<Omit<FillOptions, 'spikeAt'>>): number {
  switch (dist) {
    case 'normal':
    case 'small':
      return g.normal() * o.scale;
    case 'positive':
      return Math.abs(g.normal()) * o.scale;
    case 'heavy': {
      const v = (g.normal() / Math.max(Math.abs(g.normal()), 1e-9)) * o.scale;
      return Math.max(-o.large, Math.min(o.large, v));
    }
    case 'mixed': {
      const r = g.int(8);
      const sign = g.float() < 0.5 ? -1 : 1;
      if (r === 0) return 0;
      if (r === 1) return sign * (1 + g.int(1 << 20)) * 2 ** -149; // subnormal
      if (r === 2) return sign * o.large * (0.5 + g.float() / 2);
      if (r === 3) return sign * TINY_NORMAL * (1 + g.float() * 8); // tiny normal
      return g.normal() * o.scale;
    }
    case 'subnormal':
      return (g.float() < 0.5 ? -1 : 1) * (1 + g.int((1 << 23) - 1)) * 2 ** -149;
    case 'sparse':
      return g.float() < 0.85 ? 0 : g.normal() * o.scale;
    case 'grid':
      return (g.int(17) - 8) / 8;
    case 'spike':
      return 0;
  }
}

/** A Float32Array of n values of `dist`, from `rng`. */
export function fill(rng: Rng, n: number, dist: Dist, opts: FillOptions = {}): Float32Array {
  const o = { scale: opts.scale ?? 1, large: opts.large ?? 2 ** 20 };
  const out = new Float32Array(n);
  if (dist === 'spike') {
    const at = opts.spikeAt ?? 0;
    if (n > 0) out[Math.min(at, n - 1)] = (rng.nextFloat() < 0.5 ? -1 : 1) * 2 ** (rng.nextInt(9) - 4);
    return out;
  }
  if (dist === 'small') o.scale *= 2 ** -(24 + rng.nextInt(33));
  const g = new DataRng(rng);
  if (dist === 'normal' || dist === 'small') {
    const scale = o.scale;
    for (let i = 0; i < n; i++) out[i] = g.normal() * scale; // the big matrices: no per-value switch
  } else for (let i = 0; i < n; i++) out[i] = drawValue(g, dist, o);
  return out;
}

/** A matrix whose rows all have a power-of-two spike in column `at` (the rest random normal). */
export function spikeMatrix(rng: Rng, rows: number, cols: number, at: number): Float32Array {
  const m = fill(rng, rows * cols, 'normal');
  for (let r = 0; r < rows; r++) m[r * cols + at] = (rng.nextFloat() < 0.5 ? -1 : 1) * 2 ** (rng.nextInt(9) - 4);
  return m;
}

/**
 * Kept-neuron lists: all (null), allExplicit (every id listed), empty, random
 * (≈ half), first / last neuron only, a block at the end, every other id.
 */
export const KEPTS = ['all', 'allExplicit', 'empty', 'random', 'first', 'last', 'tailBlock', 'alternate'] as const;
export type KeptKind = (typeof KEPTS)[number];
export const keptArb = fc.constantFrom<KeptKind>(...KEPTS);

export function keptList(rng: Rng, hidden: number, kind: KeptKind): Int32Array | null {
  const ids: number[] = [];
  switch (kind) {
    case 'all':
      return null;
    case 'allExplicit':
      for (let i = 0; i < hidden; i++) ids.push(i);
      break;
    case 'empty':
      break;
    case 'random':
      for (let i = 0; i < hidden; i++) if (rng.nextFloat() < 0.5) ids.push(i);
      break;
    case 'first':
      ids.push(0);
      break;
    case 'last':
      ids.push(hidden - 1);
      break;
    case 'tailBlock':
      for (let i = Math.floor(hidden * 0.75); i < hidden; i++) ids.push(i);
      break;
    case 'alternate':
      for (let i = 1; i < hidden; i += 2) ids.push(i);
      break;
  }
  return Int32Array.from(ids);
}

/** Seeds are plain 32-bit integers: they shrink toward 0 and print compactly. */
export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });
