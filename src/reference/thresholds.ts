// The thresholds artefact written by `tda calibrate` and read by `tda generate`:
// which model it belongs to (sha256 of the checkpoint), which method, which
// objective, the per-layer τ with the kept fraction and CETT measured on the
// calibration set, and how that set was made.

import fs from 'node:fs';
import { UserError } from '../errors.js';
import type { CalibratedMethod, CalibrationResult, CalibrationSet, LayerThreshold, Objective } from './calibrate.js';
import type { Model } from '../core/model.js';

export const THRESHOLDS_FORMAT = 'tda-kit/thresholds@1';

export interface ThresholdsFile {
  format: typeof THRESHOLDS_FORMAT;
  model: { fingerprint: string; source: string; nLayers: number; hiddenDim: number };
  method: CalibratedMethod;
  objective: Objective;
  cettLevel?: number;
  layers: LayerThreshold[];
  calibration: { description: string; sequences: number; tokens: number; promptLength: number };
}

export function thresholdsArtefact(model: Model, set: CalibrationSet, result: CalibrationResult): ThresholdsFile {
  return {
    format: THRESHOLDS_FORMAT,
    model: { fingerprint: model.fingerprint, source: model.source, nLayers: model.config.nLayers, hiddenDim: model.config.hiddenDim },
    method: result.method,
    objective: result.objective,
    cettLevel: result.cettLevel,
    layers: result.layers,
    calibration: { description: set.description, sequences: set.sequences.length, tokens: result.tokens, promptLength: set.promptLength },
  };
}

/** Reads a thresholds file and checks it belongs to `model` and suits `method`. */
export function loadThresholds(file: string, model: Model, method: CalibratedMethod): ThresholdsFile {
  let data: ThresholdsFile;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read thresholds ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (data?.format !== THRESHOLDS_FORMAT) throw new UserError(`${file}: not a thresholds file (format must be "${THRESHOLDS_FORMAT}")`);
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
  return data;
}
