// Calibration on stories260K: the artefact, the two TDA objectives, and the
// guarantee that thresholds meet their CETT target on the calibration set.

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibrate, collectActivations, layerUnits, sampledCalibrationSet } from '../src/reference/calibrate.js';
import { cett, nextUp } from '../src/reference/cett.js';
import { downColumnNorms } from '../src/reference/ffn.js';
import { THRESHOLDS_FORMAT, loadThresholds, thresholdsArtefact } from '../src/reference/thresholds.js';
import { stories, tmpFile } from './helpers.js';

const small = () => sampledCalibrationSet(stories().model, { sequences: 3, length: 48, promptLength: 12, seed: 5 });

describe('calibration', () => {
  it('seeded calibration samples are reproducible', () => {
    expect(small().sequences).toEqual(small().sequences);
  });

  for (const method of ['tt', 'tda'] as const) {
    it(`${method}: each layer's τ meets CETT ≤ 0.2 on the calibration set and τ + ε does not`, () => {
      const { model } = stories();
      const set = small();
      const result = calibrate(model, set, method, { kind: 'cett', target: 0.2 });
      const acts = collectActivations(model, set);
      result.layers.forEach((layer, l) => {
        const ffn = model.weights.layers[l].ffn;
        const units = layerUnits(method, acts[l], downColumnNorms(ffn, model.config.dim), set.promptLength);
        expect(cett(units, ffn, model.config.dim, layer.tau)).toBeLessThanOrEqual(0.2 + 1e-12);
        expect(cett(units, ffn, model.config.dim, nextUp(layer.tau))).toBeGreaterThan(0.2);
        expect(layer.keptFraction).toBeGreaterThan(0);
        expect(layer.keptFraction).toBeLessThan(1);
      });
    });
  }

  it('tda density objective: mean kept fraction near the target, thresholds differ per layer', () => {
    const { model } = stories();
    const result = calibrate(model, small(), 'tda', { kind: 'density', target: 0.5 });
    const mean = result.layers.reduce((s, l) => s + l.keptFraction, 0) / result.layers.length;
    // Kept fractions move in steps of 1/(sequences·d_ff) per layer; 2% is many steps.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(new Set(result.layers.map((l) => l.tau)).size).toBeGreaterThan(1);
    // One shared CETT level, within which each layer's own CETT lies.
    for (const l of result.layers) expect(l.cett).toBeLessThanOrEqual(result.cettLevel! + 1e-12);
  });

  it('the artefact round-trips and is refused for another model or method', () => {
    const { model } = stories();
    const set = small();
    const result = calibrate(model, set, 'tda', { kind: 'cett', target: 0.3 });
    const artefact = thresholdsArtefact(model, set, result);
    expect(artefact.format).toBe(THRESHOLDS_FORMAT);
    expect(artefact.model.fingerprint).toBe('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
    const file = tmpFile('t.json', JSON.stringify(artefact));
    expect(loadThresholds(file, model, 'tda').layers.map((l) => l.tau)).toEqual(result.layers.map((l) => l.tau));
    expect(() => loadThresholds(file, model, 'tt')).toThrow(/method tda, not tt/);
    const other = tmpFile('o.json', JSON.stringify({ ...artefact, model: { ...artefact.model, fingerprint: 'ab'.repeat(32) } }));
    expect(() => loadThresholds(other, model, 'tda')).toThrow(/another model/);
    fs.rmSync(file);
  });
});
