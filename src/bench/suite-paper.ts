// `paper` suite: the TDA paper's own scenario end to end (Table 4's setting) — a
// prompt, then generation — per method (Dense, TT, Griffin, TDA at 0.5) and weight
// type (f32 on native-cpu, f16 on native-cpu-f16), beside llama.cpp dense on the same
// weights. Full: 1024 prompt + 1024 new tokens; --quick: 256 + 128.
//
// Each row times one generate() call as a user runs it: batched prefill of the prompt
// (src/reference/prefill.ts, the policy gathering its statistics from the batched
// activations), the masks fixed, then `new_tokens` decode steps. New tokens are
// teacher-forced from a fixed list, so every method decodes the same number of tokens
// (a random synthetic model could emit BOS and stop early); the arithmetic is that of
// greedy decoding. Methods run one after another (a whole scenario each), so the
// rows are exposed to the machine's noise one at a time: the note says so.
//
// Each row's peak_rss_mb is that row's own peak (src/bench/rss.ts): garbage collected and
// the high-water mark reset before its timed call, read after it.

import type { Backend } from '../core/kernels.js';
import { type KvType, kvTypeFor } from '../core/kv-cache.js';
import { type Model, unfilledTwin } from '../core/model.js';
import { generate } from '../reference/generate.js';
import type { Method } from '../reference/policies/types.js';
import { runLlamaCpp } from './llama-cpp.js';
import { policyAtDensity, ttAtDensity } from './masks.js';
import { ttPolicy } from '../reference/policies/tt.js';
import type { FfnPolicy } from '../reference/policies/types.js';
import { type PeakRss, collectGarbage, startPeakRss } from './rss.js';
import type { PaperRow } from './types.js';

export interface PaperModel {
  label: string;
  model: Model;
  /** GGUF files of the same weights for llama.cpp, per weight type (missing: why). */
  gguf: Partial<Record<'f32' | 'f16', string>>;
  ggufMissing?: Partial<Record<'f32' | 'f16', string>>;
}

export interface PaperOptions {
  promptTokens: number;
  newTokens: number;
  methods: Method[];
  density: number;
  threads: number;
  /** Kit backends by weight type. */
  backends: Partial<Record<'f32' | 'f16', Backend>>;
  llamaCpp: boolean;
  /** The kit's KV cache type (src/core/kv-cache.ts); default: each backend's own. */
  kvCache?: KvType;
  onStep?: (label: string) => void;
}

/**
 * Runs one row's timed work inside a peak-RSS window: the previous rows' garbage collected
 * first (it would otherwise count in this row while V8 has not freed it), then the
 * high-water mark reset; the peak is read when the work is done.
 */
async function measured<T>(work: () => T | Promise<T>): Promise<{ result: T; peak: PeakRss }> {
  await collectGarbage();
  const peak = startPeakRss();
  const result = await work();
  return { result, peak: peak() };
}

/** The row fields of a peak (scope 'process': the high-water mark of the run so far, not the row's). */
function peakFields(p: PeakRss): Pick<PaperRow, 'peak_rss_mb' | 'peak_rss_scope'> {
  return { peak_rss_mb: p.mb, peak_rss_scope: p.scope };
}

/** The prompt and the forced new tokens: fixed, in-vocabulary ids, never BOS (1). */
function tokenList(n: number, vocab: number, salt: number): number[] {
  return Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + salt) % (vocab - 3)));
}

/**
 * TT with thresholds fixed before the timed run, as a user's calibrated TT has them: an
 * untimed prefill of the same prompt sets each layer's threshold at the `density`
 * quantile of its magnitudes. Setting them inside the timed run (ttAtDensity collects
 * 24 × 256 × 2816 magnitudes and sorts them at the prompt's end) added seconds of
 * bench-only work to TT's prefill and made TT look slower than Dense.
 */
function calibratedTt(model: Model, prompt: number[], density: number, b: Backend, kvCache: KvType): FfnPolicy {
  const cal = ttAtDensity(model, density);
  generate(model, { promptTokens: prompt, steps: prompt.length, policy: cal, kernels: b.kernels, kvCache, stopTokens: [] });
  return ttPolicy(model, cal.thresholds()!);
}

export async function runPaperSuite(m: PaperModel, o: PaperOptions): Promise<{ rows: PaperRow[]; skipped: string[] }> {
  const c = m.model.config;
  const prompt = [1, ...tokenList(o.promptTokens - 1, c.vocabSize, 11)];
  // One more than new_tokens: the first follows the prefill's logits, each of the others
  // costs one decode step.
  const forced = tokenList(o.newTokens + 1, c.vocabSize, 29);
  const shared: Model = { ...m.model, config: { ...c, seqLen: Math.max(c.seqLen, o.promptTokens + o.newTokens + 1) } };
  const rows: PaperRow[] = [];
  const skipped: string[] = [];
  const methods: Method[] = ['dense', ...o.methods.filter((x) => x !== 'dense')];
  for (const weights of ['f32', 'f16'] as const) {
    const b = o.backends[weights];
    if (!b) {
      skipped.push(`${m.label} ${weights}: no kit backend for ${weights} weights`);
      continue;
    }
    // A model loaded as words only (wordsOnly) is widened by the decoder for the float32
    // kernels. The f32 rows widen a copy of the record instead, released after them, so
    // the f16 rows run on the words alone as a user's native-cpu-f16 run does (4.4 GB
    // less at the TinyLlama shape) instead of beside float32 values they never read.
    const model = weights === 'f32' ? unfilledTwin(shared) : shared;
    const kvCache = kvTypeFor(b.kernels, o.kvCache, b.name);
    // Untimed: one 1-token prompt first, so the rows time generation, not loading. A
    // half-precision backend converts each weight matrix on its first use (a load step,
    // 1–2 s here for the 341 M model); without this the first row (dense) paid it in its
    // prefill (4.3 s against 2.0–2.3 s for the same prompt in the other f16 rows).
    generate(model, { promptTokens: [1], steps: 1, policy: policyAtDensity(model, 'dense', 1), kernels: b.kernels, stopTokens: [] });
    for (const method of methods) {
      const density = method === 'dense' ? 1 : o.density;
      o.onStep?.(`paper ${m.label} ${b.name} ${method}`);
      // TT's thresholds are set before the window: the row measures generation, as it times it.
      const policy = method === 'tt' ? calibratedTt(model, prompt, density, b, kvCache) : policyAtDensity(model, method, density);
      const { result: r, peak } = await measured(() =>
        generate(model, { promptTokens: prompt, steps: prompt.length + forced.length, policy, kernels: b.kernels, kvCache, forcedTokens: forced }),
      );
      rows.push({
        suite: 'paper',
        backend: b.name,
        model: m.label,
        method,
        density,
        weights,
        kv_cache: r.kvCache,
        prompt_tokens: prompt.length,
        new_tokens: r.tokens.length - 1, // decode steps (the first new token came from the prefill)
        prefill_ms: r.timing.prefillMs,
        decode_ms: r.timing.generateMs,
        total_ms: r.timing.prefillMs + r.timing.generateMs,
        ...peakFields(peak),
        decode_tokens_per_s: r.timing.decodeTokensPerSecond,
      });
    }
  }
  if (o.llamaCpp) {
    for (const weights of ['f32', 'f16'] as const) {
      const file = m.gguf[weights];
      if (!file) {
        skipped.push(`llama.cpp ${m.label} ${weights}: ${m.ggufMissing?.[weights] ?? 'no GGUF file'}`);
        continue;
      }
      o.onStep?.(`paper ${m.label} llama.cpp ${weights}`);
      try {
        // Prefill: llama.cpp's batched prompt processing (batch 512) of the same length;
        // decode: per-token times of greedy generation after the same prompt.
        const { result: r, peak } = await measured(() =>
          runLlamaCpp({
            modelPath: file,
            prompt,
            generate: o.newTokens + 1,
            threads: o.threads,
            contextSize: o.promptTokens + o.newTokens + 8,
            prefillTokens: o.promptTokens,
          }),
        );
        const timed = r.perTokenMs.length;
        if (timed === 0 || r.prefillMs === undefined) throw new Error('generated no timed tokens');
        // llama.cpp stops at EOS; a shorter run is scaled to new_tokens at its mean rate.
        const decodeMs = (r.perTokenMs.reduce((a, x) => a + x, 0) * o.newTokens) / timed;
        rows.push({
          suite: 'paper',
          backend: 'llama.cpp',
          model: m.label,
          method: 'dense',
          density: 1,
          weights,
          // node-llama-cpp's context keeps llama.cpp's default cache type, F16, for every
          // weight type (its experimentalKvCacheKeyType / ValueType, left unset here).
          kv_cache: 'f16',
          prompt_tokens: prompt.length,
          new_tokens: o.newTokens,
          prefill_ms: r.prefillMs,
          decode_ms: decodeMs,
          total_ms: r.prefillMs + decodeMs,
          ...peakFields(peak),
          decode_tokens_per_s: (1000 * o.newTokens) / decodeMs,
          note: `node-llama-cpp ${r.version}, ${r.threads} threads, ${weights.toUpperCase()} GGUF of the same weights${timed < o.newTokens ? `; stopped at EOS after ${timed} timed tokens, decode scaled to ${o.newTokens}` : ''}`,
        });
      } catch (e) {
        skipped.push(`llama.cpp ${m.label} ${weights}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
  return { rows, skipped };
}
