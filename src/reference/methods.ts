// From a method name and its setting to an FFN policy — the one place that knows
// which setting each method takes:
//   dense                      —
//   tt, tda   --thresholds F | --cett C | --density D   (calibrated per layer)
//   griffin   --density D                                (one top-k for all layers)

import type { Kernels } from '../core/kernels.js';
import { UserError } from '../errors.js';
import { type CalibratedMethod, type CalibrationSet, type Objective, calibrate, keepsEverything, sampledCalibrationSet } from './calibrate.js';
import type { Model } from '../core/model.js';
import { densePolicy } from './policies/dense.js';
import { griffinPolicy } from './policies/griffin.js';
import { tdaPolicy } from './policies/tda.js';
import { ttPolicy } from './policies/tt.js';
import { recordPass, tdaVariantPolicy, type TdaVariant, variantCurves, variantThresholds } from './policies/tda-variants.js';
import { type FfnPolicy, METHODS, type Method } from './policies/types.js';
import { loadThresholds } from './thresholds.js';

export interface MethodSetting {
  method: Method;
  density?: number;
  cett?: number;
  thresholdsFile?: string;
  /** Explicit per-layer thresholds (library use, tests). */
  thresholds?: number[];
  /** TDA only: a reading of TDA other than the kit's (policies/tda-variants.ts). */
  tdaVariant?: TdaVariant;
}

export const DEFAULT_CETT = 0.2; // TDA paper Appendix E: "empirically set at 0.2"
export const DEFAULT_GRIFFIN_DENSITY = 0.5; // the paper compares methods at 50% sparsity

export function parseMethod(name: string): Method {
  if (!(METHODS as readonly string[]).includes(name)) {
    throw new UserError(`unknown method "${name}" (choose one of: ${METHODS.join(', ')})`);
  }
  return name as Method;
}

/** The default calibration set: 8 seeded samples of the model, 128 tokens, prompt part 16. */
export function defaultCalibrationSet(model: Model, seed = 1, kernels?: Kernels): CalibrationSet {
  return sampledCalibrationSet(model, { sequences: 8, length: 128, promptLength: 16, seed, kernels });
}

/** Per-layer thresholds and where they came from, for reports (`thresholds_source`). */
export interface ResolvedThresholds {
  taus: number[];
  source: string;
}

/**
 * Per-layer thresholds for TT or TDA from whichever setting was given. TDA's (and TT's)
 * thresholds are calibrated offline on *other* text (TDA §4, Appendix E) and then
 * applied to the prompt, so the density measured on a prompt differs from the target.
 * The two keep-everything settings are exact: CETT 0 admits no error on any input and
 * density 1 keeps every neuron, so both give τ = 0 in every layer, which is Dense.
 */
export function resolveThresholds(model: Model, s: MethodSetting & { method: CalibratedMethod }, kernels?: Kernels): ResolvedThresholds {
  const L = model.config.nLayers;
  if (s.thresholds) return { taus: s.thresholds, source: 'given by the caller' };
  if (s.thresholdsFile) {
    const f = loadThresholds(s.thresholdsFile, model, s.method);
    return { taus: f.layers.map((l) => l.tau), source: `file ${s.thresholdsFile} (${f.objective.kind} ${f.objective.target}; calibrated on ${f.calibration.description})` };
  }
  const objective: Objective =
    s.density !== undefined ? { kind: 'density', target: s.density } : { kind: 'cett', target: s.cett ?? DEFAULT_CETT };
  if (keepsEverything(objective)) {
    return { taus: new Array<number>(L).fill(0), source: `${objective.kind} ${objective.target} keeps every neuron: τ = 0 in every layer (exactly Dense)` };
  }
  const set = defaultCalibrationSet(model, 1, kernels);
  const taus = calibrate(model, set, s.method, objective, { kernels }).layers.map((l) => l.tau);
  return { taus, source: `calibrated to ${objective.kind} ${objective.target} on ${set.description}` };
}

/** What a run of one method used: its setting, per-layer thresholds and their source. */
export interface MethodSummary {
  method: Method;
  setting: { density?: number; cett?: number; thresholds_file?: string };
  /** TT/TDA: τ per layer. */
  thresholds?: number[];
  thresholds_source?: string;
}

/** Checks a method's setting; returns a fresh-policy factory and what it used. */
export function prepareMethod(model: Model, s: MethodSetting, kernels?: Kernels): { makePolicy: () => FfnPolicy; summary: MethodSummary } {
  parseMethod(s.method);
  for (const [k, v] of [['density', s.density], ['cett', s.cett]] as const) {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new UserError(`--${k} must be a number in [0, 1], got ${v}`);
  }
  if (s.density === 0) throw new UserError('--density 0 keeps no neuron, so the FFN would vanish: give a density in (0, 1]');
  const given = [s.density, s.cett, s.thresholdsFile, s.thresholds].filter((v) => v !== undefined).length;
  if (given > 1) throw new UserError('give at most one of --density, --cett, --thresholds');
  if (s.tdaVariant && s.method !== 'tda') throw new UserError('--tda-variant needs --method tda');
  const setting = { density: s.density, cett: s.cett, thresholds_file: s.thresholdsFile };
  switch (s.method) {
    case 'dense':
      if (given) throw new UserError('method dense takes no --density/--cett/--thresholds');
      return { makePolicy: densePolicy, summary: { method: 'dense', setting: {} } };
    case 'griffin': {
      if (s.cett !== undefined || s.thresholdsFile || s.thresholds) throw new UserError('method griffin takes --density only (a fixed top-k per layer)');
      const density = s.density ?? DEFAULT_GRIFFIN_DENSITY;
      return { makePolicy: () => griffinPolicy(model, density), summary: { method: 'griffin', setting: { density } } };
    }
    case 'tt':
    case 'tda': {
      if (s.method === 'tda' && s.tdaVariant) return variantFactory(model, { ...s, tdaVariant: s.tdaVariant }, kernels);
      const method = s.method;
      const { taus, source } = resolveThresholds(model, { ...s, method }, kernels);
      if (s.density === undefined && s.cett === undefined && !s.thresholdsFile && !s.thresholds) setting.cett = DEFAULT_CETT;
      return {
        makePolicy: () => (method === 'tt' ? ttPolicy(model, taus) : tdaPolicy(model, taus)),
        summary: { method, setting, thresholds: taus, thresholds_source: source },
      };
    }
  }
}

/** Builds a fresh policy (policies hold per-prompt state: one per generation). */
export function policyFactory(model: Model, s: MethodSetting, kernels?: Kernels): () => FfnPolicy {
  return prepareMethod(model, s, kernels).makePolicy;
}

type Prepared = { makePolicy: () => FfnPolicy; summary: MethodSummary };

/**
 * A TDA variant's policy: eq18-topk takes a density (default 0.5); tt-union and tt-mean
 * use TT's own thresholds (the reading "TT's masks, combined over the prompt"); the others
 * are calibrated like TDA on the default calibration set, to --cett (default 0.2) or --density.
 */
function variantFactory(model: Model, s: MethodSetting & { tdaVariant: TdaVariant }, kernels?: Kernels): Prepared {
  const v = s.tdaVariant;
  const setting = { density: s.density, cett: s.cett, thresholds_file: s.thresholdsFile, tda_variant: v };
  if (v === 'eq18-topk') {
    if (s.cett !== undefined || s.thresholdsFile || s.thresholds) throw new UserError('--tda-variant eq18-topk takes --density only (a fixed top-k per layer)');
    const density = s.density ?? DEFAULT_GRIFFIN_DENSITY;
    return { makePolicy: () => tdaVariantPolicy(model, v, { density }), summary: { method: 'tda', setting: { ...setting, density } } };
  }
  if (v === 'tt-union' || v === 'tt-mean') {
    const { taus, source } = resolveThresholds(model, { ...s, method: 'tt' }, kernels);
    return { makePolicy: () => tdaVariantPolicy(model, v, { thresholds: taus }), summary: { method: 'tda', setting, thresholds: taus, thresholds_source: `TT's: ${source}` } };
  }
  if (s.thresholdsFile) throw new UserError(`--tda-variant ${v} is calibrated here; --thresholds is for TDA, TT, tt-union and tt-mean`);
  let taus = s.thresholds;
  let source = 'given by the caller';
  if (!taus) {
    const set = defaultCalibrationSet(model, 1, kernels);
    const objective: Objective = s.density !== undefined ? { kind: 'density', target: s.density } : { kind: 'cett', target: s.cett ?? DEFAULT_CETT };
    taus = variantThresholds(variantCurves(model, v, recordPass(model, set, kernels), set.promptLength), objective);
    source = `calibrated (${v}) to ${objective.kind} ${objective.target} on ${set.description}`;
  }
  const thresholds = taus;
  return { makePolicy: () => tdaVariantPolicy(model, v, { thresholds }), summary: { method: 'tda', setting, thresholds, thresholds_source: source } };
}
