// Offline threshold calibration for TT and TDA (TDA paper Appendix E; Section 4:
// "TDA follows [TT's] offline threshold search").
//
// 1. Calibration sequences: seeded samples of the model itself (default) or text.
// 2. A dense pass over them records every layer's FFN activations.
// 3. Per layer, one sweep gives CETT as a function of τ (src/reference/cett.ts):
//      TT  — Eq 20 per token, decision values m_{t,i} (Eq 18);
//      TDA — the prompt statistic of each sequence's first `promptLength` tokens
//            decides, the error is measured on the sequence's remaining
//            (generation) tokens under that mask.
// 4. Objective:
//      cett    — per layer, the largest τ (first crossing) with CETT ≤ target (default 0.2);
//      density — one CETT level shared by all layers, chosen so that the mean kept
//                fraction over layers is closest to the target density. Thresholds
//                still differ per layer (unlike Griffin's fixed top-k).

import type { Kernels } from '../core/kernels.js';
import { type CettCurve, type CettUnit, cettCurve, thresholdForTarget } from './cett.js';
import { Decoder } from './decoder.js';
import { downColumnNorms } from './ffn.js';
import { isPending, type Model } from '../core/model.js';
import { TdaStatistic } from './policies/tda.js';
import type { FfnPolicy } from './policies/types.js';
import { Sampler } from './sampler.js';
import { BOS, type Tokenizer } from '../models/tokenizer.js';

export type CalibratedMethod = 'tt' | 'tda';
export type Objective = { kind: 'cett'; target: number } | { kind: 'density'; target: number };

export interface CalibrationSet {
  description: string;
  /** Token ids, each starting with BOS. */
  sequences: number[][];
  /** TDA: tokens of each sequence treated as the prompt; the rest are "generation". */
  promptLength: number;
}

export interface LayerThreshold {
  tau: number;
  /** Mean fraction of neurons kept on the calibration set at this τ. */
  keptFraction: number;
  /** CETT on the calibration set at this τ. */
  cett: number;
}

export interface CalibrationResult {
  method: CalibratedMethod;
  objective: Objective;
  /** Density objective: the CETT level shared by the layers. */
  cettLevel?: number;
  layers: LayerThreshold[];
  tokens: number;
}

/** Seeded samples of the model itself from BOS (dense, temperature 1, top-p 0.9). */
export function sampledCalibrationSet(
  model: Model,
  opts: { sequences: number; length: number; promptLength: number; seed: number; kernels?: Kernels },
): CalibrationSet {
  const sampler = new Sampler({ temperature: 1, topp: 0.9, seed: opts.seed });
  const length = Math.min(opts.length, model.config.seqLen);
  const sequences: number[][] = [];
  const dense = recordingPolicy(() => {});
  for (let s = 0; s < opts.sequences; s++) {
    const decoder = new Decoder(model, opts.kernels);
    const seq = [BOS];
    while (seq.length < length) {
      const logits = decoder.forward(seq[seq.length - 1], seq.length - 1, 'prefill', dense);
      const next = sampler.sample(logits);
      if (next === BOS) break;
      seq.push(next);
    }
    sequences.push(seq);
  }
  return {
    description: `${opts.sequences} samples of the model (temperature 1, top-p 0.9, seed ${opts.seed}, up to ${length} tokens)`,
    sequences,
    promptLength: opts.promptLength,
  };
}

/** Calibration text cut into sequences of `length` tokens (BOS + text tokens). */
export function textCalibrationSet(
  tokenizer: Tokenizer,
  text: string,
  opts: { length: number; promptLength: number; name: string },
): CalibrationSet {
  const ids = tokenizer.encode(text, { bos: false });
  // Each sequence starts with the tokenizer's BOS, as a prompt would (none for models without one).
  const start = tokenizer.bos >= 0 ? [tokenizer.bos] : [];
  const body = opts.length - start.length;
  const sequences: number[][] = [];
  for (let i = 0; i < ids.length; i += body) sequences.push([...start, ...ids.slice(i, i + body)]);
  return {
    description: `text ${opts.name} (${ids.length} tokens in ${sequences.length} sequences of up to ${opts.length})`,
    sequences,
    promptLength: opts.promptLength,
  };
}

/** A dense policy that hands every prefill activation to `record`. */
export function recordingPolicy(record: (layer: number, a: Float32Array) => void): FfnPolicy {
  return {
    method: 'dense',
    observePrompt: record,
    endPrompt: () => {},
    plan: () => ({ kind: 'dense' }),
    selectForToken: () => null,
    masks: () => [],
  };
}

/** activations[layer][sequence][position] from a dense pass over every sequence. */
export function collectActivations(model: Model, set: CalibrationSet, kernels?: Kernels): Float32Array[][][] {
  const L = model.config.nLayers;
  const acts: Float32Array[][][] = Array.from({ length: L }, () => set.sequences.map(() => []));
  set.sequences.forEach((seq, s) => {
    const decoder = new Decoder(model, kernels);
    const policy = recordingPolicy((l, a) => acts[l][s].push(Float32Array.from(a)));
    seq.forEach((token, pos) => decoder.forward(token, pos, 'prefill', policy));
  });
  return acts;
}

/** The decision units of one layer (see cett.ts): per token for TT, per sequence for TDA. */
export function layerUnits(method: CalibratedMethod, perSequence: Float32Array[][], downNorms: Float64Array, promptLength: number): CettUnit[] {
  if (method === 'tt') {
    return perSequence.flat().map((a) => ({ values: Float64Array.from(a, (ai, i) => Math.abs(ai) * downNorms[i]), tokens: [a] }));
  }
  const units: CettUnit[] = [];
  for (const tokens of perSequence) {
    if (tokens.length <= promptLength) continue; // no generation tokens to measure on
    const stat = new TdaStatistic(downNorms);
    for (const a of tokens.slice(0, promptLength)) stat.add(a);
    units.push({ values: stat.values(), tokens: tokens.slice(promptLength) });
  }
  return units;
}

/** CETT 0 or density 1: no error allowed, every neuron kept. */
export function keepsEverything(objective: Objective): boolean {
  return (objective.kind === 'cett' && objective.target === 0) || (objective.kind === 'density' && objective.target === 1);
}

export function calibrate(
  model: Model,
  set: CalibrationSet,
  method: CalibratedMethod,
  objective: Objective,
  opts: { kernels?: Kernels; onProgress?: (done: number, total: number) => void } = {},
): CalibrationResult {
  if (!(objective.target >= 0 && objective.target <= 1)) {
    throw new RangeError(`${objective.kind} target must be in [0, 1], got ${objective.target}`);
  }
  const { dim, nLayers } = model.config;
  const tokens = set.sequences.reduce((s, q) => s + q.length, 0);
  // CETT 0 admits no error on any input and density 1 keeps every neuron: τ = 0
  // everywhere, exactly Dense (a first crossing found on the calibration data could
  // be a tiny τ > 0 that still drops a neuron of some other prompt).
  if (keepsEverything(objective)) {
    opts.onProgress?.(nLayers, nLayers);
    return { method, objective, layers: Array.from({ length: nLayers }, () => ({ tau: 0, keptFraction: 1, cett: 0 })), tokens };
  }
  const acts = collectActivations(model, set, opts.kernels);
  const curves: CettCurve[] = [];
  // A words-only W_down is widened for each layer's sweep into this one buffer (cett.ts):
  // one layer's float32 copy at a time, released with the buffer when calibration ends.
  const buffer = new Float32Array(Math.max(0, ...model.weights.layers.map((l) => (isPending(l.ffn.downT) ? l.ffn.downT.length : 0))));
  for (let l = 0; l < nLayers; l++) {
    const ffn = model.weights.layers[l].ffn;
    const units = layerUnits(method, acts[l], downColumnNorms(ffn, dim), set.promptLength);
    if (units.length === 0) throw new RangeError(`calibration set has no sequence longer than the prompt length ${set.promptLength}`);
    curves.push(cettCurve(units, ffn, dim, buffer));
    opts.onProgress?.(l + 1, nLayers);
  }
  if (objective.kind === 'cett') {
    return { method, objective, layers: curves.map((c) => thresholdForTarget(c, objective.target)), tokens };
  }
  const level = cettLevelForDensity(curves, objective.target);
  return { method, objective, cettLevel: level, layers: curves.map((c) => thresholdForTarget(c, level)), tokens };
}

/** The shared CETT level whose per-layer thresholds give a mean kept fraction closest to `density`. */
export function cettLevelForDensity(curves: CettCurve[], density: number): number {
  const meanKept = (level: number) =>
    curves.reduce((s, c) => s + thresholdForTarget(c, level).keptFraction, 0) / curves.length;
  const levels = [...new Set(curves.flatMap((c) => Array.from(c.cett)))].sort((a, b) => a - b);
  let best = 0;
  let bestGap = Infinity;
  for (const level of levels) {
    const gap = Math.abs(meanKept(level) - density);
    if (gap < bestGap) {
      best = level;
      bestGap = gap;
    }
  }
  return best;
}
