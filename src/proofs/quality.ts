// Quality of TT / Griffin / TDA against Dense on held-out text (TDA Table 3's claim,
// in the kit's terms): teacher-forced KL(dense‖method), top-1 agreement and NLL, at
// the density each method actually reached.

import { type CalibratedMethod, type CalibrationSet, cettLevelForDensity, collectActivations, layerUnits, sampledCalibrationSet } from '../reference/calibrate.js';
import { type CettCurve, cettCurve, thresholdForTarget } from '../reference/cett.js';
import { compareLogits, type QualityComparison } from '../reference/compare.js';
import { downColumnNorms } from '../reference/ffn.js';
import { generate, type GenerationResult } from '../reference/generate.js';
import type { Model } from '../core/model.js';
import type { FfnPolicy } from '../reference/policies/types.js';

/** Per-layer CETT curves of a calibration set — the part of calibrate() that does not depend on the target. */
export function calibrationCurves(model: Model, set: CalibrationSet, method: CalibratedMethod, acts = collectActivations(model, set)): CettCurve[] {
  const { dim, nLayers } = model.config;
  return Array.from({ length: nLayers }, (_, l) => {
    const ffn = model.weights.layers[l].ffn;
    return cettCurve(layerUnits(method, acts[l], downColumnNorms(ffn, dim), set.promptLength), ffn, dim);
  });
}

/** Thresholds for a density objective from precomputed curves (what calibrate() does for {kind: 'density'}). */
export function thresholdsForDensity(curves: CettCurve[], density: number): number[] {
  const level = cettLevelForDensity(curves, density);
  return curves.map((c) => thresholdForTarget(c, level).tau);
}

export interface ForcedRun {
  result: GenerationResult;
  logits: Float32Array[];
  /** Mean over layers of the fraction of neurons whose down column generated tokens used. */
  density: number;
}

/** Prompt = seq[0..promptLength), the rest teacher-forced; the logits that predict each forced token. */
export function forcedRun(model: Model, seq: number[], promptLength: number, policy: FfnPolicy): ForcedRun {
  const result = generate(model, {
    promptTokens: seq.slice(0, promptLength),
    steps: seq.length,
    policy,
    forcedTokens: seq.slice(promptLength),
    keepLogits: true,
  });
  const density = result.layers.reduce((s, l) => s + l.kept / l.total, 0) / result.layers.length;
  return { result, logits: result.logits!, density };
}

export function quality(dense: ForcedRun, method: ForcedRun, seq: number[], promptLength: number): QualityComparison {
  return compareLogits(dense.logits, method.logits, seq.slice(promptLength));
}

export interface SweepSetup {
  calibration: CalibrationSet;
  curves: Record<CalibratedMethod, CettCurve[]>;
  /** Held-out sequences: seeded dense samples with a different seed from the calibration set. */
  evalSequences: number[][];
  promptLength: number;
}

const setups = new Map<string, SweepSetup>();

/** Calibration curves (TT, TDA) and held-out sequences, computed once per (seed, heavy) and shared by the checks. */
export function sweepSetup(model: Model, seed: number, heavy: boolean): SweepSetup {
  const key = `${model.fingerprint}:${seed}:${heavy}`;
  const hit = setups.get(key);
  if (hit) return hit;
  const promptLength = 32;
  const calibration = sampledCalibrationSet(model, { sequences: heavy ? 8 : 6, length: heavy ? 128 : 96, promptLength, seed });
  const acts = collectActivations(model, calibration);
  const curves = { tt: calibrationCurves(model, calibration, 'tt', acts), tda: calibrationCurves(model, calibration, 'tda', acts) };
  const evalSet = sampledCalibrationSet(model, { sequences: heavy ? 16 : 5, length: heavy ? 128 : 80, promptLength, seed: seed + 1000 });
  const evalSequences = evalSet.sequences.filter((s) => s.length >= promptLength + 16);
  const setup = { calibration, curves, evalSequences, promptLength };
  setups.set(key, setup);
  return setup;
}
