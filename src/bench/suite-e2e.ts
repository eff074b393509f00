// `e2e` suite: whole-model decode speed (ms per generated token → tokens/s) with the
// kit's own decoder (src/reference/decoder.ts) and real policies, on one backend.
//
// The prompt is prefilled once, densely, with every method's policy watching (a
// fan-out policy), and the KV cache is then copied into one decoder per method: all
// methods continue from the same state, and the prefill is paid once. Generation
// then runs in interleaved rounds — one token of each method per round — so noise
// on the shared machine hits every method alike.

import { copyKvRows } from '../core/kv-cache.js';
import type { Backend } from '../core/kernels.js';
import { Decoder } from '../reference/decoder.js';
import { type Model, kvDim } from '../core/model.js';
import type { FfnPolicy, Method } from '../reference/policies/types.js';
import { ceiling, modelBytes } from './ceiling.js';
import { probeStep } from './kernel-suite.js';
import { policyAtDensity } from './masks.js';
import { timeInterleaved } from './timing.js';
import type { BenchRow } from './types.js';

export interface E2eOptions {
  label: string;
  promptTokens: number[];
  methods: Method[];
  densities: number[];
  warmup: number;
  runs: number;
  /**
   * false: time each method's tokens in one block instead of round-robin. For a
   * backend that caches the rows of only one kept list per FFN (tfjs-wasm), round-robin
   * would re-slice every layer on every token and time the slicing, not the decode.
   */
  interleave?: boolean;
  onRound?: () => void;
  /** A backend whose first prompt token takes longer than this is not timed. */
  maxStepMs?: number;
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function fanOut(policies: FfnPolicy[]): FfnPolicy {
  return {
    method: 'dense',
    observePrompt: (l, a) => policies.forEach((p) => p.observePrompt(l, a)),
    endPrompt: () => policies.forEach((p) => p.endPrompt()),
    plan: () => ({ kind: 'dense' }),
    selectForToken: () => null,
    masks: () => [],
  };
}

/** A view of `model` whose KV cache holds `seqLen` positions (weights shared). */
export function withSeqLen(model: Model, seqLen: number): Model {
  return { ...model, config: { ...model.config, seqLen } };
}

export function runE2eSuite(b: Backend, fullModel: Model, o: E2eOptions): BenchRow[] {
  const n = o.promptTokens.length;
  const model = withSeqLen(fullModel, Math.min(fullModel.config.seqLen, n + o.warmup + o.runs + 2));
  const c = model.config;
  const cases: { method: Method; density: number; policy: FfnPolicy }[] = [{ method: 'dense', density: 1, policy: policyAtDensity(model, 'dense', 1) }];
  for (const d of o.densities) {
    for (const m of o.methods) if (m !== 'dense') cases.push({ method: m, density: d, policy: policyAtDensity(model, m, d) });
  }

  const base = new Decoder(model, b.kernels);
  const watch = fanOut(cases.map((x) => x.policy));
  for (let pos = 0; pos < n; pos++) {
    if (pos === 0 && o.maxStepMs !== undefined) {
      probeStep(() => base.forward(o.promptTokens[0], 0, 'prefill', watch), o.maxStepMs, 'forward pass', false);
      continue;
    }
    base.forward(o.promptTokens[pos], pos, 'prefill', watch);
  }
  watch.endPrompt();
  const first = argmax(base.logits);

  const states = cases.map((x) => {
    const dec = new Decoder(model, b.kernels);
    for (let l = 0; l < c.nLayers; l++) {
      copyKvRows(dec.keyCache[l], base.keyCache[l], n * kvDim(c));
      copyKvRows(dec.valueCache[l], base.valueCache[l], n * kvDim(c));
    }
    return { ...x, dec, pos: n, token: first };
  });
  const timedCases = states.map((s, i) => ({
    key: String(i),
    run: () => {
      s.token = argmax(s.dec.forward(s.token, s.pos, 'generate', s.policy));
      s.pos++;
    },
  }));
  const timing = { warmup: o.warmup, runs: o.runs, onRound: o.onRound };
  const timed =
    o.interleave === false
      ? new Map(timedCases.flatMap((tc) => [...timeInterleaved([tc], timing)]))
      : timeInterleaved(timedCases, timing);

  const shape = { dim: c.dim, hiddenDim: c.hiddenDim, kvDim: kvDim(c), nLayers: c.nLayers, vocabSize: c.vocabSize };
  const ctx = n + o.warmup + Math.ceil(o.runs / 2); // mean context during the timed tokens
  const denseBytes = modelBytes(shape, 'dense', c.hiddenDim, ctx);
  const denseMedian = timed.get('0')!.summary.median;
  return states.map((s, i) => {
    const t = timed.get(String(i))!.summary;
    const masks = s.policy.masks().filter((m): m is Int32Array => m !== null);
    // Fixed masks: the mean kept count over layers; TT: its nominal density (thresholds at the prompt's quantile).
    const kept = masks.length ? masks.reduce((a, m) => a + m.length, 0) / masks.length : Math.round(s.density * c.hiddenDim);
    const bytes = modelBytes(shape, s.method, kept, ctx);
    return {
      backend: b.name,
      suite: 'e2e' as const,
      shape: o.label,
      method: s.method,
      density: s.density,
      kept: Math.round(kept),
      median_ms: t.median,
      q1_ms: t.q1,
      q3_ms: t.q3,
      min_ms: t.min,
      max_ms: t.max,
      runs: t.n,
      speedup_vs_dense: denseMedian / t.median,
      ceiling: ceiling(denseBytes, bytes),
      bytes_touched: bytes,
      effective_gbs: bytes / (t.median * 1e6),
      tokens_per_s: 1000 / t.median,
    };
  });
}
