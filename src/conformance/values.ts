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
 *           twice the worst rounding error (catches accumulating drift).
 */
export const DISTS = ['normal', 'heavy', 'mixed', 'subnormal', 'sparse', 'grid', 'positive', 'spike'] as const;
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

function drawValue(rng: Rng, dist: Dist, o: Required<Omit<FillOptions, 'spikeAt'>>): number {
  switch (dist) {
    case 'normal':
      return rng.nextNormal() * o.scale;
    case 'positive':
      return Math.abs(rng.nextNormal()) * o.scale;
    case 'heavy': {
      const v = (rng.nextNormal() / Math.max(Math.abs(rng.nextNormal()), 1e-9)) * o.scale;
      return Math.max(-o.large, Math.min(o.large, v));
    }
    case 'mixed': {
      const r = rng.nextInt(8);
      const sign = rng.nextFloat() < 0.5 ? -1 : 1;
      if (r === 0) return 0;
      if (r === 1) return sign * (1 + rng.nextInt(1 << 20)) * 2 ** -149; // subnormal
      if (r === 2) return sign * o.large * (0.5 + rng.nextFloat() / 2);
      if (r === 3) return sign * FLT_MIN * (1 + rng.nextFloat() * 8); // tiny normal
      return rng.nextNormal() * o.scale;
    }
    case 'subnormal':
      return (rng.nextFloat() < 0.5 ? -1 : 1) * (1 + rng.nextInt((1 << 23) - 1)) * 2 ** -149;
    case 'sparse':
      return rng.nextFloat() < 0.85 ? 0 : rng.nextNormal() * o.scale;
    case 'grid':
      return (rng.nextInt(17) - 8) / 8;
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
  for (let i = 0; i < n; i++) out[i] = drawValue(rng, dist, o);
  return out;
}

/** A matrix whose rows all have a power-of-two spike in column `at` (the rest random normal). */
export function spikeMatrix(rng: Rng, rows: number, cols: number, at: number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = rng.nextNormal();
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
