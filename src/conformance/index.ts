// The conformance harness as a library: runConformance(backend) runs the kernel
// property checks, the mask checks and the end-to-end greedy checks, and returns a
// report whose verdict is "conformant" only when every row passes.

import type { Backend } from '../core/kernels.js';
import { fillPendingWeights, type Model } from '../core/model.js';
import { Rng } from '../reference/random.js';
import { checkAttentionBlock, checkPrefillLayer } from './batched.js';
import { checkCallSequences } from './calls.js';
import { E2E_METHODS, type E2eModel, runEndToEnd, syntheticE2eModels } from './endToEnd.js';
import { type CheckContext, checkAttentionF16Cache, checkKernel } from './kernels.js';
import { KERNEL_NAMES } from './cases.js';
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
  /** More models to run end to end (e.g. `--model FILE`), with seeded random prompts. */
  models?: { name: string; model: Model }[];
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
  // The checks compare against the reference and read weights in JS, on any backend: a
  // model loaded wordsOnly gets its float32 values now (src/core/model.ts).
  for (const m of opts.models ?? []) fillPendingWeights(m.model);
  const rows: ReportRow[] = [];
  const add = (r: ReportRow[]) => {
    rows.push(...r);
    opts.onRows?.(r);
  };
  const K = backend.kernels;
  // One row at a time, so that progress shows while the LLaMA-size cases run.
  for (const name of KERNEL_NAMES) if (!only || only(`kernel ${name}`)) add([checkKernel(K, ctx, name)]);
  if (!only || only('kernel attention (F16 KV cache)')) {
    const f16 = checkAttentionF16Cache(K, ctx);
    if (f16) add([f16]);
  }
  if (!only || only('kernel call sequences')) add([checkCallSequences(K, ctx)]);
  if (!only || only('kernel prefillLayer')) {
    const batched = checkPrefillLayer(K, ctx);
    if (batched) add([batched]);
  }
  if (!only || only('kernel attentionBlock')) {
    const block = checkAttentionBlock(K, ctx);
    if (block) add([block]);
  }
  add(runMaskChecks(K, ctx, { model: stories.model, prompts: stories.golden.map((g) => g.prompt_tokens) }, only));
  const steps = quick ? 64 : 256;
  const e2eModels: E2eModel[] = [
    {
      name: '',
      model: stories.model,
      prompts: stories.golden.map((g, k) => ({ tokens: g.prompt_tokens, label: `prompt ${k} ${JSON.stringify(g.prompt)}`, golden: g.greedy_tokens })),
      steps,
      methods: E2E_METHODS,
    },
    ...syntheticE2eModels(seed, quick, only),
    ...(opts.models ?? []).map((m) => ({ name: m.name, model: m.model, prompts: randomPrompts(m.model, seed), steps: Math.min(quick ? 32 : 128, m.model.config.seqLen), methods: E2E_METHODS })),
  ];
  runEndToEnd(K, ctx, { models: e2eModels, precision: info.precision }, only, (row) => add([row]));
  return finishReport({ backend: backend.name, info, seed, runs, quick, rows, elapsedMs: performance.now() - t0 });
}

/** Two seeded prompts of 6 tokens (BOS first) for a model without golden prompts. */
function randomPrompts(model: Model, seed: number): E2eModel['prompts'] {
  const rng = new Rng(seed * 977 + 5);
  const v = model.config.vocabSize;
  return [0, 1].map((k) => {
    const tokens = [1, ...Array.from({ length: 5 }, () => 2 + rng.nextInt(Math.max(v - 2, 1)))];
    return { tokens, label: `prompt ${k} [${tokens.join(' ')}]` };
  });
}
