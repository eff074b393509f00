// The timing loop shared by the `ffn` and `layer` suites.
//
// Runs are grouped by density: each group times Dense and every other method at
// that density side by side (interleaved rounds, timing.ts), with one kept list for
// the group. Grouping matters for backends that copy the rows of a kept list once
// and cache only the latest list (tfjs-wasm): alternating densities would re-slice on
// every call and time the slicing, not the kernel. Each method's speed-up is taken
// against the Dense median of its own group; the Dense row pools all groups.

import type { Method } from '../reference/policies/types.js';
import { ceiling } from './ceiling.js';
import { randomKept } from './masks.js';
import { summarize } from './stats.js';
import { timeInterleaved } from './timing.js';
import type { BenchRow, Suite } from './types.js';

export interface KernelSuiteSpec {
  backend: string;
  suite: Suite;
  shape: string;
  hiddenDim: number;
  methods: Method[];
  densities: number[];
  warmup: number;
  runs: number;
  seed: number;
  /** Bytes touched by `method` with `kept` neurons. */
  bytes: (method: Method, kept: number) => number;
  /** One timed step of `method` over `kept` (null for dense). */
  step: (method: Method, kept: Int32Array | null) => void;
  onRound?: () => void;
  /** A backend whose single dense step takes longer than this is not timed (the reason is thrown). */
  maxStepMs?: number;
}

/** Thrown when a backend is too slow at this shape to be timed within the run. */
export class TooSlowError extends Error {}

/** Times one step; throws TooSlowError past the limit (e.g. gpu.js in CPU mode at 4096 × 11008). */
export function probeStep(step: () => void, maxStepMs: number, what: string, warm = true): void {
  if (warm) step(); // first calls upload or pack weights on some backends: not the steady cost
  const t0 = performance.now();
  step();
  const ms = performance.now() - t0;
  if (ms > maxStepMs) {
    throw new TooSlowError(`one ${what} took ${(ms / 1000).toFixed(1)} s (limit ${(maxStepMs / 1000).toFixed(1)} s): too slow to time repeatedly here`);
  }
}

export function runKernelSuite(s: KernelSuiteSpec): BenchRow[] {
  const denseSamples: number[] = [];
  const rows: BenchRow[] = [];
  const denseBytes = s.bytes('dense', s.hiddenDim);
  const others = s.methods.filter((m) => m !== 'dense');
  if (s.maxStepMs !== undefined) probeStep(() => s.step('dense', null), s.maxStepMs, `dense ${s.suite} step`);
  for (const [gi, density] of s.densities.entries()) {
    const kept = randomKept(s.hiddenDim, density, s.seed + gi);
    const cases = [
      { key: 'dense', run: () => s.step('dense', null) },
      ...others.map((m) => ({ key: m, run: () => s.step(m, kept) })),
    ];
    const res = timeInterleaved(cases, { warmup: s.warmup, runs: s.runs, onRound: s.onRound });
    const dense = res.get('dense')!;
    denseSamples.push(...dense.samples);
    for (const m of others) {
      const t = res.get(m)!.summary;
      const bytes = s.bytes(m, kept.length);
      rows.push({
        backend: s.backend,
        suite: s.suite,
        shape: s.shape,
        method: m,
        density,
        kept: kept.length,
        median_ms: t.median,
        q1_ms: t.q1,
        q3_ms: t.q3,
        min_ms: t.min,
        max_ms: t.max,
        runs: t.n,
        speedup_vs_dense: dense.summary.median / t.median,
        ceiling: ceiling(denseBytes, bytes),
        bytes_touched: bytes,
        effective_gbs: bytes / (t.median * 1e6),
      });
    }
  }
  const d = summarize(denseSamples);
  rows.unshift({
    backend: s.backend,
    suite: s.suite,
    shape: s.shape,
    method: 'dense',
    density: 1,
    kept: s.hiddenDim,
    median_ms: d.median,
    q1_ms: d.q1,
    q3_ms: d.q3,
    min_ms: d.min,
    max_ms: d.max,
    runs: d.n,
    speedup_vs_dense: 1,
    ceiling: 1,
    bytes_touched: denseBytes,
    effective_gbs: denseBytes / (d.median * 1e6),
  });
  return rows;
}
