// The shapes of a bench run's results, shared by the suites, the table, the SVG
// and `--json`.

import type { BackendInfo } from '../core/kernels.js';
import type { Method } from '../reference/policies/types.js';

export type Suite = 'ffn' | 'layer' | 'e2e';
export const SUITES: readonly Suite[] = ['ffn', 'layer', 'e2e'];
/** Suites `--suite` accepts; `all` means SUITES (the paper scenario is asked for by name: it takes minutes). */
export type SuiteName = Suite | 'paper';

/** One scenario of the `paper` suite: prompt + generation end to end (suite-paper.ts). */
export interface PaperRow {
  suite: 'paper';
  backend: string;
  model: string;
  method: Method;
  density: number;
  weights: 'f32' | 'f16';
  /** The KV cache's element type: the kit's (src/core/kv-cache.ts), or llama.cpp's default (F16). */
  kv_cache: 'f32' | 'f16';
  prompt_tokens: number;
  new_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  total_ms: number;
  /**
   * Peak resident set during the row's timed run, MiB: the high-water mark reset before it
   * (Linux), so it includes what was resident when the row began (the model, earlier rows'
   * live copies) but no earlier row's peak. See peak_rss_scope.
   */
  peak_rss_mb: number;
  /**
   * 'row': peak_rss_mb is the row's own peak (as above). 'process': the high-water mark
   * could not be reset (no /proc/self/clear_refs), so it is the process's peak so far,
   * monotonic over the run. Always set by the suite.
   */
  peak_rss_scope?: 'row' | 'process';
  decode_tokens_per_s: number;
  note?: string;
}

export interface BenchRow {
  backend: string;
  suite: Suite;
  /** e.g. "4096x11008", "layer 4096x11008 ctx 1024", "stories260K". */
  shape: string;
  method: Method;
  /** Fraction of FFN neurons kept (1 for dense). */
  density: number;
  kept: number;
  median_ms: number;
  q1_ms: number;
  q3_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  /** median(dense) / median(this), same backend, suite, shape and run. */
  speedup_vs_dense: number;
  /** bytes(dense) / bytes(method): the memory-bound ceiling for this row. */
  ceiling: number;
  bytes_touched: number;
  /** bytes_touched / median time, GB/s. */
  effective_gbs: number;
  /** e2e only: 1000 / median ms per generated token. */
  tokens_per_s?: number;
  note?: string;
}

/** A backend or baseline that could not run, and why (one line). */
export interface Skipped {
  backend: string;
  suite: SuiteName | 'all';
  reason: string;
}

export interface BackendEntry {
  name: string;
  info: BackendInfo;
}

export interface PrefillOverhead {
  backend: string;
  model: string;
  promptTokens: number;
  /** TDA statistic accumulation over all prompt tokens and layers. */
  statisticsMs: number;
  /** Per-layer threshold → kept list. */
  maskMs: number;
  /** Copying kept rows, if the backend slices (native-cpu copies them on the second call with a list). */
  slicingMs: number;
  overheadMs: number;
  /** The kit's decoder prefill of the prompt on this backend (token by token). */
  prefillMs: number;
  prefillHow: string;
  fraction: number;
  /** The same overhead against llama.cpp's batched prefill of the same prompt length, if measured. */
  llamaCppPrefillMs?: number;
  fractionOfLlamaCpp?: number;
}

export interface Target {
  target: string;
  /** The threshold, in the same unit as measured. */
  goal: number;
  measured: number | null;
  unit: string;
  met: boolean | null;
  /** measured − goal (positive: met by that much; negative: missed by that much). */
  by: number | null;
  note?: string;
}

/** One engine loading one model file in a process of its own (src/bench/scale.ts). */
export interface ScaleRow {
  suite: 'scale';
  model: string;
  file: string;
  file_mb: number;
  /** A kit backend name, or "llama.cpp". */
  engine: string;
  load_ms: number;
  /** Peak RSS right after the load (kit only; llama.cpp maps the file lazily). */
  load_rss_mb: number | null;
  /** Peak RSS of the whole child process: load, then `steps` decode steps. */
  peak_rss_mb: number;
  tokens_per_s: number;
  steps: number;
  note?: string;
}

export interface BenchReport {
  tool: string;
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memory_gib: number; node: string; platform: string };
  copy_bandwidth_gbs: number;
  copy_bandwidth: {
    median: number; q1: number; q3: number; runs: number; buffer_bytes: number; method: string;
    single_thread_gbs: number; multi_thread_gbs: number | null; threads: number;
  };
  settings: Record<string, unknown>;
  backends: BackendEntry[];
  skipped: Skipped[];
  rows: BenchRow[];
  /** The paper suite's rows (suite "paper"), when it ran. */
  paper_rows: PaperRow[];
  /** Load time, peak RSS and tokens/s per engine on the paper suite's GGUF files. */
  scale_rows: ScaleRow[];
  prefill_overhead: PrefillOverhead | null;
  targets: Target[];
  notes: string[];
  wall_s: number;
}
