// The conformance harness as a library: runConformance(backend) runs the kernel
// property checks, the mask checks and the end-to-end greedy checks, and returns a
// report whose verdict is "conformant" only when every row passes.

import type { Backend } from '../core/kernels.js';
import { runEndToEnd } from './endToEnd.js';
import { type CheckContext, runKernelChecks } from './kernels.js';
import { runMaskChecks } from './masks.js';
import { loadStories } from './models.js';
import { type ConformanceReport, finishReport, type ReportRow } from './report.js';

export { formatReport, reportJson } from './report.js';
export type { ConformanceReport, ReportRow } from './report.js';

export interface ConformanceOptions {
  /** Seed of every random choice (fast-check and synthetic models). Default 1. */
  seed?: number;
  /** Property runs per kernel. Default 100 (quick: 25). */
  runs?: number;
  /** Fewer runs, no LLaMA-size FFN cases, 64-step generations. */
  quick?: boolean;
  /** Folder with stories260K.bin (default $TDA_MODEL_DIR or ../shared/models). */
  modelDir?: string;
  /** Run only the checks whose name contains one of these strings (e.g. "kernel matvec"). */
  only?: string[];
  /** How the run was invoked, for replay hints in the report. */
  command?: string;
  /** Called after each group of checks (for progress output). */
  onRows?: (rows: ReportRow[]) => void;
}

export async function runConformance(backend: Backend, opts: ConformanceOptions = {}): Promise<ConformanceReport> {
  const t0 = performance.now();
  const quick = opts.quick ?? false;
  const seed = opts.seed ?? 1;
  const runs = opts.runs ?? (quick ? 25 : 100);
  const info = backend.info();
  const ctx: CheckContext = {
    backend: backend.name,
    device: info.device,
    precision: info.precision,
    seed,
    runs,
    quick,
    replay: opts.command ?? `tda conformance --backend ${backend.name} --seed ${seed} --runs ${runs}${quick ? ' --quick' : ''}`,
  };
  const only = opts.only?.length ? (c: string) => opts.only!.some((o) => c.includes(o)) : undefined;
  // Load the model first: a missing model is bad input (exit 2), not a verdict.
  const stories = loadStories(opts.modelDir);
  const rows: ReportRow[] = [];
  const add = (r: ReportRow[]) => {
    rows.push(...r);
    opts.onRows?.(r);
  };
  const K = backend.kernels;
  add(runKernelChecks(K, ctx, only));
  add(runMaskChecks(K, ctx, { model: stories.model, prompts: stories.golden.map((g) => g.prompt_tokens) }, only));
  add(
    runEndToEnd(K, ctx, { model: stories.model, golden: stories.golden, steps: quick ? 64 : 256, precision: info.precision }, only),
  );
  return finishReport({ backend: backend.name, info, seed, runs, quick, rows, elapsedMs: performance.now() - t0 });
}
