// The thresholds artefact written by `tda calibrate` and read by `tda generate`:
// which model it belongs to (sha256 of the checkpoint), which method, which
// objective, the per-layer τ with the kept fraction and CETT measured on the
// calibration set, and how that set was made. Field names are snake_case, like
// every JSON the kit writes; files of the earlier camelCase format @1 still load.

import fs from 'node:fs';
import { UserError, describeError } from '../errors.js';
import type { CalibratedMethod, CalibrationResult, CalibrationSet, Objective } from './calibrate.js';
import type { Model } from '../core/model.js';

export const THRESHOLDS_FORMAT = 'tda-kit/thresholds@2';
const LEGACY_FORMAT = 'tda-kit/thresholds@1';

export interface ThresholdsFile {
  format: typeof THRESHOLDS_FORMAT;
  model: { fingerprint: string; source: string; n_layers: number; hidden_dim: number };
  method: CalibratedMethod;
  objective: Objective;
  cett_level?: number;
  layers: { tau: number; kept_fraction: number; cett: number }[];
  calibration: { description: string; sequences: number; tokens: number; prompt_length: number };
}

export function thresholdsArtefact(model: Model, set: CalibrationSet, result: CalibrationResult): ThresholdsFile {
  return {
    format: THRESHOLDS_FORMAT,
    model: { fingerprint: model.fingerprint, source: model.source, n_layers: model.config.nLayers, hidden_dim: model.config.hiddenDim },
    method: result.method,
    objective: result.objective,
    cett_level: result.cettLevel,
    layers: result.layers.map((l) => ({ tau: l.tau, kept_fraction: l.keptFraction, cett: l.cett })),
    calibration: { description: set.description, sequences: set.sequences.length, tokens: result.tokens, prompt_length: set.promptLength },
  };
}

/** Reads a thresholds file and checks it belongs to `model` and suits `method`. */
export function loadThresholds(file: string, model: Model, method: CalibratedMethod): ThresholdsFile {
  let data: ThresholdsFile;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read thresholds ${file}: ${describeError(e)}`);
  }
  if (data?.format !== THRESHOLDS_FORMAT && data?.format !== LEGACY_FORMAT) {
    throw new UserError(`${file}: not a thresholds file (format must be "${THRESHOLDS_FORMAT}")`);
  }
  if (data.model?.fingerprint !== model.fingerprint) {
    throw new UserError(
      `${file}: thresholds were calibrated for another model (sha256 ${String(data.model?.fingerprint).slice(0, 12)}…, this model ${model.fingerprint.slice(0, 12)}…)`,
    );
  }
  if (data.method !== method) throw new UserError(`${file}: thresholds are for method ${data.method}, not ${method}`);
  if (!Array.isArray(data.layers) || data.layers.length !== model.config.nLayers) {
    throw new UserError(`${file}: needs ${model.config.nLayers} layer thresholds`);
  }
  data.layers.forEach((l, i) => {
    if (typeof l?.tau !== 'number' || !(l.tau >= 0) || !Number.isFinite(l.tau)) {
      throw new UserError(`${file}: layer ${i} threshold must be a finite number ≥ 0`);
    }
  });
  if (typeof data.calibration?.description !== 'string') data = { ...data, calibration: { ...data.calibration, description: 'unknown calibration data' } };
  return data;
}
