// Runs the suites asked for and assembles one BenchReport. Each suite/backend pair is
// independent: one that cannot run adds a `skipped` line and the rest goes on.

import type { KvType } from '../core/kv-cache.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Backend } from '../core/kernels.js';
import { loadCheckpoint } from '../models/llama2c.js';
import type { Model } from '../core/model.js';
import { METHODS, type Method } from '../reference/policies/types.js';
import { loadTokenizer } from '../models/tokenizer.js';
import { availableBackendNames, loadBackends } from './backends.js';
import { measureCopyBandwidth } from './bandwidth.js';
import { type GgufVocab, exportGguf, syntheticVocab, vocabFromTokenizer } from './llama-export.js';
import { runLlamaCpp } from './llama-cpp.js';
import { measurePrefillOverhead } from './prefill-overhead.js';
import { summarize } from './stats.js';
import { runE2eSuite } from './suite-e2e.js';
import { runFfnSuite } from './suite-ffn.js';
import { runLayerSuite } from './suite-layer.js';
import { evaluateTargets } from './targets.js';
import type { BenchReport, BenchRow, PaperRow, PrefillOverhead, ScaleRow, Skipped, Suite, SuiteName } from './types.js';
import { scaleRow, syntheticGgufFile } from './scale.js';
import { runPeakRssMb } from './rss.js';
import { detectFormat, loadModel } from '../models/discovery.js';
import { UserError } from '../errors.js';
import { startHogs } from './contention.js';
import { type PaperModel, runPaperSuite } from './suite-paper.js';
import type { SyntheticShape } from '../reference/synthetic.js';
import { WeightPool, benchSyntheticModel, fillFromPool } from './weights.js';
import { ceiling, modelBytes } from './ceiling.js';

export interface Progress {
  start(total: number): void;
  tick(label: string, n?: number): void;
  stop(): void;
}

export interface BenchOptions {
  suites: SuiteName[];
  /** Backend names; undefined: every registered backend (the reference only where small enough). */
  backends?: string[];
  methods: Method[];
  densities: number[];
  ctx: number;
  quick: boolean;
  /** ffn/layer shape; default LLaMA-2-7B. */
  dim: number;
  hiddenDim: number;
  seed: number;
  /** Folder holding stories260K.bin and tok512.bin, if any. */
  modelDir?: string;
  /** Synthetic e2e model shape. */
  synthetic: { dim: number; hiddenDim: number; nLayers: number; nHeads: number; vocabSize: number };
  llamaCpp: boolean;
  threads: number;
  goldenFile?: string;
  progress?: Progress;
  /** Start two CPU hogs for the whole run (a busy machine, measured). */
  contended?: boolean;
  /** e2e suite: a user's model file (any format the kit loads) instead of stories260K and the synthetic model. */
  model?: string;
  /** paper suite: which synthetic models (default both). */
  paperModels?: PaperModelName[];
  /** Paper suite: the kit's KV cache type (default: each backend's own). */
  kvCache?: KvType;
}

export const LLAMA2_7B = { dim: 4096, hiddenDim: 11008, nHeads: 32 };
export const DEFAULT_SYNTHETIC = { dim: 1024, hiddenDim: 2816, nLayers: 24, nHeads: 16, vocabSize: 32000 };
export const FULL_DENSITIES = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
export const QUICK_DENSITIES = [0.5];

/** The paper suite's models: the default 341 M synthetic model and a TinyLlama-1.1B-shaped one. */
export const PAPER_MODELS = {
  '341m': { ...DEFAULT_SYNTHETIC, nKvHeads: DEFAULT_SYNTHETIC.nHeads, label: 'synthetic' },
  tinyllama: { dim: 2048, hiddenDim: 5632, nLayers: 22, nHeads: 32, nKvHeads: 4, vocabSize: 32000, label: 'synthetic TinyLlama-1.1B shape' },
} as const;
export type PaperModelName = keyof typeof PAPER_MODELS;

/** The reference backend computes in float64 JS loops: allowed only where an FFN is small. */
const REFERENCE_MAX_FFN_WEIGHTS = 12e6;

function headsFor(dim: number): number {
  for (let h = 32; h >= 1; h--) if (dim % h === 0 && (dim / h) % 2 === 0) return h;
  return 1;
}

const noProgress: Progress = { start() {}, tick() {}, stop() {} };

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const hogs = o.contended ? startHogs(2) : null;
  try {
    return await runSuites(o);
  } finally {
    hogs?.stop();
  }
}

async function runSuites(o: BenchOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const progress = o.progress ?? noProgress;
  const warmup = o.quick ? 1 : 2;
  const runs = o.quick ? 5 : 11;
  const e2eRuns = o.quick ? 5 : 9;
  const all = await availableBackendNames();
  // gpu.js without a GL context runs its kernels on the CPU, too slow for --quick's minute.
  // bf16 decodes exactly as fast as f16 (same bytes); --quick times f16 only.
  const names = o.backends ?? all.filter((n) => !(o.quick && (n === 'gpujs' || n === 'native-cpu-bf16')));
  const { loaded, failed } = await loadBackends(names);
  const skipped: Skipped[] = failed.map((f) => ({ backend: f.name, suite: 'all', reason: f.reason }));
  if (!o.backends && o.quick && all.includes('gpujs')) {
    skipped.push({ backend: 'gpujs', suite: 'all', reason: 'left out of --quick (CPU fallback without a GL context is slow at these shapes); run without --quick or with --backend gpujs' });
  }
  const notes: string[] = [];
  const rows: BenchRow[] = [];
  const methods: Method[] = ['dense', ...o.methods.filter((m) => m !== 'dense')];

  const groups = o.densities.length;
  const kernelBackends = loaded.length;
  let total = 2;
  if (o.suites.includes('ffn')) total += kernelBackends * groups * runs;
  if (o.suites.includes('layer')) total += kernelBackends * groups * runs;
  if (o.suites.includes('e2e')) total += 11 * kernelBackends * e2eRuns + 8;
  if (o.suites.includes('paper')) total += 20 * (o.paperModels ?? Object.keys(PAPER_MODELS)).length;
  progress.start(total);

  const bw = await measureCopyBandwidth({ runs: o.quick ? 7 : 15, threads: o.threads });
  progress.tick('copy bandwidth', 2);

  const smallEnough = (b: Backend, weights: number, suite: Suite): boolean => {
    if (b.name !== 'reference' || weights <= REFERENCE_MAX_FFN_WEIGHTS) return true;
    skipped.push({ backend: b.name, suite, reason: `float64 JS loops: ${(weights / 1e6).toFixed(0)} M FFN weights per call is too slow to time here (allowed up to ${REFERENCE_MAX_FFN_WEIGHTS / 1e6} M, e.g. --shape 1024x2816, and for stories260K e2e)` });
    return false;
  };
  const guarded = (b: Backend, suite: Suite, what: () => BenchRow[]) => {
    try {
      rows.push(...what());
    } catch (e) {
      skipped.push({ backend: b.name, suite, reason: (e as Error).message.split('\n')[0] });
    }
  };

  // Steady-state limit per step (after one warm-up call): weeds out backends that
  // would take minutes at this shape, such as gpu.js fallen back to its CPU mode.
  const maxStepMs = o.quick ? 1_000 : 2_000;
  const pool = new WeightPool(o.seed);
  const ffnWeights = 3 * o.dim * o.hiddenDim;
  if (o.suites.includes('ffn')) {
    const ffn = pool.ffn(o.dim, o.hiddenDim);
    for (const b of loaded) {
      if (!smallEnough(b, ffnWeights, 'ffn')) continue;
      progress.tick(`ffn ${b.name}`, 0);
      guarded(b, 'ffn', () =>
        runFfnSuite(b, ffn, { dim: o.dim, hiddenDim: o.hiddenDim, methods, densities: o.densities, warmup, runs, seed: o.seed, maxStepMs, onRound: () => progress.tick(`ffn ${b.name}`) }),
      );
    }
  }
  if (o.suites.includes('layer')) {
    const weights = pool.layer(o.dim, o.hiddenDim, o.dim);
    const keyCache = new Float32Array(o.ctx * o.dim);
    const valueCache = new Float32Array(o.ctx * o.dim);
    fillFromPool(pool, keyCache);
    fillFromPool(pool, valueCache);
    const nHeads = o.dim === LLAMA2_7B.dim ? LLAMA2_7B.nHeads : headsFor(o.dim);
    for (const b of loaded) {
      if (!smallEnough(b, ffnWeights, 'layer')) continue;
      progress.tick(`layer ${b.name}`, 0);
      guarded(b, 'layer', () =>
        runLayerSuite(b, { weights, keyCache, valueCache }, {
          dim: o.dim, hiddenDim: o.hiddenDim, nHeads, ctx: o.ctx, methods, densities: o.densities, warmup, runs, seed: o.seed, maxStepMs,
          onRound: () => progress.tick(`layer ${b.name}`),
        }),
      );
    }
  }

  let prefill: PrefillOverhead | null = null;
  let gguf: Record<string, unknown> | null = null;
  if (o.suites.includes('e2e')) {
    const models: E2eModel[] = [];
    const storiesFile = o.modelDir ? path.join(o.modelDir, 'stories260K.bin') : undefined;
    if (o.model) {
      models.push(await userModel(o.model, o.quick, progress));
    } else if (storiesFile && fs.existsSync(storiesFile)) {
      const model = loadCheckpoint(storiesFile);
      const tok = loadTokenizer(path.join(o.modelDir!, 'tok512.bin'), model.config.vocabSize);
      models.push({ label: 'stories260K', model, vocab: () => vocabFromTokenizer(tok), prompt: tok.encode('Once upon a time, there was a little girl named Lily. She'), small: true, golden: true });
    } else {
      skipped.push({ backend: 'all', suite: 'e2e', reason: 'stories260K.bin not found in the model folder (TDA_MODEL_DIR)' });
    }
    const s = o.synthetic;
    const synthetic = o.model ? null : benchSyntheticModel({ ...s, seqLen: 1024 + 64 }, o.seed);
    if (synthetic) {
    progress.tick('building synthetic model', 0);
    const params = (s.nLayers * (4 * s.dim * s.dim + 3 * s.dim * s.hiddenDim) + s.vocabSize * s.dim) / 1e6;
    const synthLabel = `synthetic ${s.dim}x${s.hiddenDim} L${s.nLayers} V${s.vocabSize} (${params.toFixed(0)}M params)`;
    const promptLen = o.quick ? 8 : 32;
    const synthPrompt = [1, ...Array.from({ length: promptLen - 1 }, (_, i) => 259 + ((i * 7919) % (s.vocabSize - 259)))];
    models.push({ label: synthLabel, model: synthetic, vocab: () => syntheticVocab(s.vocabSize), prompt: synthPrompt, small: false });
    progress.tick('synthetic model', 2);
    }

    for (const m of models) {
      for (const b of loaded) {
        if (!m.small && b.name === 'reference') {
          skipped.push({ backend: b.name, suite: 'e2e', reason: `${m.label}: float64 JS loops, seconds per token; run on stories260K only` });
          continue;
        }
        if (!m.small && b.name === 'tfjs-wasm') {
          skipped.push({ backend: b.name, suite: 'e2e', reason: `${m.label}: not run: uploading and XNNPACK-packing 1.3 GB, then re-slicing 24 layers per kept list, takes minutes; its kernels are timed in ffn/layer` });
          continue;
        }
        if (!m.small && o.quick && b.name !== 'native-cpu') {
          skipped.push({ backend: b.name, suite: 'e2e', reason: `${m.label}: skipped in --quick; run without --quick` });
          continue;
        }
        progress.tick(`e2e ${m.label} ${b.name}`, 0);
        guarded(b, 'e2e', () =>
          runE2eSuite(b, m.model, {
            label: m.label, promptTokens: m.prompt, methods, densities: o.densities, warmup: m.small ? 5 * warmup : warmup,
            // Sub-millisecond tokens: many more samples, so GC pauses fall outside the IQR.
            runs: m.small ? 10 * e2eRuns : e2eRuns,
            interleave: b.name !== 'tfjs-wasm',
            maxStepMs,
            onRound: () => progress.tick(`e2e ${b.name}`),
          }),
        );
      }
      if (o.llamaCpp) {
        progress.tick(`llama.cpp ${m.label}`, 0);
        const r = await llamaCppRow(m, o, m.small ? 5 * warmup : warmup, m.small ? 10 * e2eRuns : e2eRuns, notes, skipped);
        if (r.row) rows.push(r.row);
        if (r.gguf) gguf = { ...(gguf ?? {}), ...r.gguf };
        progress.tick(`llama.cpp ${m.label}`, 2);
      }
    }

    const best = loaded.find((b) => b.name === 'native-cpu') ?? loaded.find((b) => b.name === 'tfjs-wasm');
    if (best && !synthetic) {
      skipped.push({ backend: best.name, suite: 'e2e', reason: 'prefill overhead: measured on the synthetic model only (a 1024-token prompt); not with --model' });
    } else if (best && synthetic) {
      const synthLabel = models[models.length - 1].label;
      progress.tick(`prefill overhead ${best.name}`, 0);
      try {
        const p = measurePrefillOverhead(best, synthetic, {
          promptTokens: 1024,
          positions: o.quick ? [0, 511, 1023] : [0, 255, 511, 767, 1023],
          repeats: o.quick ? 1 : 3,
          statTokens: o.quick ? 64 : 256,
          sliceLayers: o.quick ? 2 : s.nLayers,
          density: 0.5,
        });
        prefill = p;
        notes.push(`W_down column norms for TDA's statistic take ${p.normsMs.toFixed(0)} ms per model (weights only; cacheable, not counted as per-prompt overhead)`);
        if (o.llamaCpp && !o.quick) {
          const file = await ggufFor({ label: synthLabel, model: synthetic, vocab: () => syntheticVocab(s.vocabSize) });
          const lr = await runLlamaCpp({ modelPath: file, prompt: [1], generate: 1, threads: o.threads, contextSize: 64, prefillTokens: 1024 });
          if (lr.prefillMs) {
            prefill.llamaCppPrefillMs = lr.prefillMs;
            prefill.fractionOfLlamaCpp = p.overheadMs / lr.prefillMs;
          }
        }
      } catch (e) {
        skipped.push({ backend: best.name, suite: 'e2e', reason: `prefill overhead: ${(e as Error).message.split('\n')[0]}` });
      }
      progress.tick('prefill overhead', 4);
    }
  }
  const paperRows: PaperRow[] = [];
  const scaleRows: ScaleRow[] = [];
  if (o.suites.includes('paper')) {
    await runPaper(o, paperRows, scaleRows, skipped, notes, progress);
  }
  progress.stop();

  const report: BenchReport = {
    tool: 'tda bench',
    date: new Date().toISOString(),
    quick: o.quick,
    machine: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      cores: os.cpus().length,
      memory_gib: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
    },
    copy_bandwidth_gbs: bw.gbs.median,
    copy_bandwidth: {
      median: bw.gbs.median, q1: bw.gbs.q1, q3: bw.gbs.q3, runs: bw.gbs.n, buffer_bytes: bw.bufferBytes, method: bw.method,
      single_thread_gbs: bw.singleThread.median, multi_thread_gbs: bw.multiThread?.median ?? null, threads: bw.threads,
    },
    settings: {
      suites: o.suites, methods, densities: o.densities, ctx: o.ctx, shape: `${o.dim}x${o.hiddenDim}`, seed: o.seed,
      warmup, runs, e2e_runs: e2eRuns, synthetic: o.synthetic, threads: o.threads, ...(gguf ? { gguf } : {}),
      contended: o.contended ? 'two CPU hogs (node busy loops) ran beside the bench' : false,
    },
    backends: loaded.map((b) => ({ name: b.name, info: b.info() })),
    skipped,
    rows,
    paper_rows: paperRows,
    scale_rows: scaleRows,
    prefill_overhead: prefill,
    targets: [],
    notes: [...new Set(notes)],
    wall_s: 0,
  };
  report.targets = evaluateTargets({ ...report, contended: o.contended });
  report.wall_s = (performance.now() - t0) / 1000;
  for (const b of loaded) b.dispose?.();
  return report;
}

/** The paper suite, one model at a time (the TinyLlama shape holds 4.4 GB of float32 weights). */
async function runPaper(o: BenchOptions, rows: PaperRow[], scaleRows: ScaleRow[], skipped: Skipped[], notes: string[], progress: Progress): Promise<void> {
  const { loaded, failed } = await loadBackends(['native-cpu', 'native-cpu-f16']);
  for (const f of failed) skipped.push({ backend: f.name, suite: 'paper', reason: f.reason });
  const backends = { f32: loaded.find((b) => b.name === 'native-cpu'), f16: loaded.find((b) => b.name === 'native-cpu-f16') };
  const promptTokens = o.quick ? 256 : 1024;
  const newTokens = o.quick ? 128 : 1024;
  const paperRowsFor = async (m: PaperModel) => {
    const r = await runPaperSuite(m, {
      promptTokens, newTokens, methods: o.methods, density: 0.5, threads: o.threads, backends, llamaCpp: o.llamaCpp, kvCache: o.kvCache,
      onStep: (l) => progress.tick(l, 2),
    });
    rows.push(...r.rows);
    for (const why of r.skipped) skipped.push({ backend: why.startsWith('llama.cpp') ? 'llama.cpp' : 'native-cpu', suite: 'paper', reason: why });
  };
  for (const name of o.paperModels ?? (Object.keys(PAPER_MODELS) as PaperModelName[])) {
    const { label, ...shape } = PAPER_MODELS[name];
    progress.tick(`paper ${label}: building the model`, 0);
    const params = (shape.nLayers * (2 * shape.dim * shape.dim + 2 * shape.dim * (shape.dim * shape.nKvHeads) / shape.nHeads + 3 * shape.dim * shape.hiddenDim) + shape.vocabSize * shape.dim) / 1e6;
    const full = `${label} ${shape.dim}x${shape.hiddenDim} L${shape.nLayers} (${params.toFixed(0)}M params)`;
    const scaleSteps = o.quick ? 16 : 64;
    if (name === 'tinyllama') {
      // The scale model is the synthetic F16 GGUF itself (src/models/gguf-synthetic.ts),
      // loaded through the kit's GGUF loader as a user's file would be: its load time
      // and peak RSS are measured in child processes, then the paper rows run on it.
      progress.tick(`paper ${label}: writing the synthetic F16 GGUF`, 0);
      const file = syntheticGgufFile({ ...shape, seqLen: 4096 }, o.seed);
      for (const engine of ['native-cpu-f16', ...(o.llamaCpp ? ['llama.cpp'] : [])]) {
        progress.tick(`paper ${label}: load ${engine}`, 0);
        try {
          scaleRows.push(await scaleRow(file, full, engine, scaleSteps, o.threads));
        } catch (e) {
          skipped.push({ backend: engine, suite: 'paper', reason: `${full} load: ${(e as Error).message.split('\n').filter(Boolean).pop()}` });
        }
      }
      progress.tick(`paper ${label}: loading the model`, 0);
      // The F16 file's matrices are loaded as their words only, as `tda generate --backend
      // native-cpu-f16` loads them; the f32 rows, which run first, have the decoder widen a
      // twin of the record (unfilledTwin), released before the f16 rows run on the words.
      const model = await loadModel(file, undefined, { keepHalf: 'f16', wordsOnly: true });
      const m: PaperModel = {
        label: full, model, gguf: { f16: file },
        ggufMissing: { f32: 'not exported: this model is the synthetic F16 file itself (an F32 copy would add 4.4 GB on disk); llama.cpp F32 runs on the 341M model' },
      };
      await paperRowsFor(m);
      continue;
    }
    const s: SyntheticShape = { ...shape, seqLen: promptTokens + newTokens + 8 };
    const model = benchSyntheticModel(s, o.seed);
    const m: PaperModel = { label: full, model, gguf: {}, ggufMissing: {} };
    if (o.llamaCpp) {
      try {
        m.gguf.f32 = await ggufFor({ label: full, model, vocab: () => syntheticVocab(shape.vocabSize) });
      } catch (e) {
        m.ggufMissing!.f32 = `GGUF export failed: ${(e as Error).message.split('\n')[0]}`;
      }
      try {
        m.gguf.f16 = await ggufFor({ label: full, model, vocab: () => syntheticVocab(shape.vocabSize) }, 'F16');
      } catch (e) {
        m.ggufMissing!.f16 = `GGUF export failed: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    if (m.gguf.f16) {
      for (const engine of ['native-cpu-f16', ...(o.llamaCpp ? ['llama.cpp'] : [])]) {
        progress.tick(`paper ${label}: load ${engine}`, 0);
        try {
          scaleRows.push(await scaleRow(m.gguf.f16, full, engine, scaleSteps, o.threads));
        } catch (e) {
          skipped.push({ backend: engine, suite: 'paper', reason: `${full} load: ${(e as Error).message.split('\n').filter(Boolean).pop()}` });
        }
      }
    }
    await paperRowsFor(m);
  }
  notes.push(`paper suite: peak RSS of the bench process over the whole run so far ${runPeakRssMb().toFixed(0)} MiB (each row's peak_rss_mb is that row's own where peak_rss_scope is "row": docs/bench.md)`);
  notes.push(`paper suite: ${promptTokens}-token prompt + ${newTokens} new tokens per row, methods one after another (not interleaved: each row is a whole scenario); prefill batched in blocks of 64 tokens; new tokens teacher-forced from a fixed list so every method decodes the same count`);
  for (const b of loaded) b.dispose?.();
}

/** A model of the e2e suite. */
interface E2eModel {
  label: string;
  model: Model;
  vocab: () => GgufVocab;
  prompt: number[];
  /** Small enough for the reference backend and for many timed tokens. */
  small: boolean;
  /** stories260K: llama.cpp's tokens on its export are checked against run.c's golden tokens. */
  golden?: boolean;
  /** A GGUF file of the model itself: llama.cpp runs it as is (no export). */
  ggufFile?: string;
}

/**
 * `--model M`: a user's file in any format the kit loads. The prompt is fixed token ids
 * (BOS, then ids spread over the vocabulary), so no tokenizer is needed; llama.cpp runs
 * beside the kit on M itself when M is GGUF, and not otherwise (exporting another
 * format to GGUF would time a file the user does not have).
 */
async function userModel(file: string, quick: boolean, progress: Progress): Promise<E2eModel> {
  progress.tick(`loading ${path.basename(file)}`, 0);
  const model = await loadModel(file);
  const c = model.config;
  const n = Math.min(quick ? 8 : 32, c.seqLen - 64);
  if (n < 2) throw new UserError(`${file}: context length ${c.seqLen} is too short for the e2e suite (needs ≥ 66 positions)`);
  const prompt = [1, ...Array.from({ length: n - 1 }, (_, i) => 3 + ((i * 7919) % (c.vocabSize - 3)))];
  const small = c.nLayers * c.dim * c.hiddenDim * (c.ffnKind === 'swiglu' || c.ffnKind === 'geglu' ? 3 : 2) <= REFERENCE_MAX_FFN_WEIGHTS;
  const gguf = detectFormat(file).format === 'gguf' ? detectFormat(file).path : undefined;
  return {
    label: `${path.basename(file)} ${c.dim}x${c.hiddenDim} L${c.nLayers}`,
    model,
    vocab: () => { throw new Error('not exported: llama.cpp runs only on a GGUF --model'); },
    prompt,
    small,
    ggufFile: gguf,
  };
}

/** GGUF export of a model, cached in the temp folder by fingerprint and type (the synthetic one is 1.3 GB in F32). */
async function ggufFor(m: { label: string; model: Model; vocab: () => GgufVocab }, type: 'F32' | 'F16' = 'F32'): Promise<string> {
  const dir = path.join(os.tmpdir(), 'tda-bench');
  fs.mkdirSync(dir, { recursive: true });
  const hash = crypto.createHash('sha256').update(m.model.fingerprint).update('gguf-v1').digest('hex').slice(0, 16);
  const file = path.join(dir, type === 'F32' ? `${hash}.gguf` : `${hash}-${type.toLowerCase()}.gguf`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.part`;
    exportGguf(m.model, m.vocab(), tmp, m.label, type);
    fs.renameSync(tmp, file);
  }
  return file;
}

async function llamaCppRow(
  m: E2eModel,
  o: BenchOptions,
  warmup: number,
  runs: number,
  notes: string[],
  skipped: Skipped[],
): Promise<{ row?: BenchRow; gguf?: Record<string, unknown> }> {
  let file: string;
  try {
    file = m.ggufFile ?? (await ggufFor(m));
  } catch (e) {
    skipped.push({ backend: 'llama.cpp', suite: 'e2e', reason: `${m.label}: GGUF export failed: ${(e as Error).message.split('\n')[0]}` });
    return {};
  }
  const gguf: Record<string, unknown> = { [m.label]: file };
  try {
    const c = m.model.config;
    if (m.golden && o.goldenFile && fs.existsSync(o.goldenFile)) {
      // The export's proof: llama.cpp's greedy tokens equal run.c's golden tokens.
      const golden = JSON.parse(fs.readFileSync(o.goldenFile, 'utf8')).cases[0] as { prompt_tokens: number[]; greedy_tokens: number[] };
      const g = await runLlamaCpp({ modelPath: file, prompt: golden.prompt_tokens, generate: golden.greedy_tokens.length, threads: o.threads, contextSize: c.seqLen });
      let same = 0;
      while (same < g.tokens.length && same < golden.greedy_tokens.length && g.tokens[same] === golden.greedy_tokens[same]) same++;
      const n = Math.min(g.tokens.length, golden.greedy_tokens.length);
      notes.push(`GGUF export check: llama.cpp greedy tokens on ${m.label} match run.c's golden tokens for ${same} of ${n} (first divergence ${same < n ? `at ${same}` : 'none'})`);
      gguf[`${m.label} golden match`] = `${same}/${n}`;
    }
    const gen = warmup + runs + 1;
    const r = await runLlamaCpp({ modelPath: file, prompt: m.prompt, generate: gen, threads: o.threads, contextSize: Math.min(c.seqLen, m.prompt.length + gen + 8) });
    const samples = r.perTokenMs.slice(warmup);
    if (samples.length === 0) throw new Error('generated no timed tokens');
    const t = summarize(samples);
    const shape = { dim: c.dim, hiddenDim: c.hiddenDim, kvDim: (c.dim * c.nKvHeads) / c.nHeads, nLayers: c.nLayers, vocabSize: c.vocabSize };
    const bytes = modelBytes(shape, 'dense', c.hiddenDim, m.prompt.length + warmup + Math.ceil(runs / 2));
    notes.push(`llama.cpp: node-llama-cpp ${r.version}, prebuilt CPU binary, ${r.threads} threads; ${r.systemInfo.trim()}`);
    return {
      gguf,
      row: {
        backend: 'llama.cpp', suite: 'e2e', shape: m.label, method: 'dense', density: 1, kept: c.hiddenDim,
        median_ms: t.median, q1_ms: t.q1, q3_ms: t.q3, min_ms: t.min, max_ms: t.max, runs: t.n,
        speedup_vs_dense: 1, ceiling: ceiling(bytes, bytes), bytes_touched: bytes, effective_gbs: bytes / (t.median * 1e6),
        tokens_per_s: 1000 / t.median,
        note: `${m.ggufFile ? 'dense, on the --model GGUF file itself' : 'dense F32 GGUF of the same weights'}; timed after the kit rows, not interleaved (another engine, async API)`,
      },
    };
  } catch (e) {
    skipped.push({ backend: 'llama.cpp', suite: 'e2e', reason: `${m.label}: ${(e as Error).message.split('\n')[0]}` });
    return { gguf };
  }
}

export { METHODS };
