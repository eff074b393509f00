// CETT — cumulative errors of tail truncation (TDA paper Appendix E, Eq 20; from
// ReLU², Zhang et al. 2024) and the search for the largest threshold that meets a
// CETT target.
//
// For one token with FFN output y = Σ_i n_i (Eq 19) and a set D of dropped neurons,
//   CETT = ‖Σ_{i ∈ D} n_i‖₂ / ‖y‖₂                                          (Eq 20)
// and a threshold τ drops D(τ) = { i : decision value_i < τ }.
//
// One search serves TT and TDA. A *unit* is one decision: a vector of per-neuron
// decision values and the tokens the decision applies to.
//   TT:  one unit per token t — values m_{t,i} = |a_{t,i}|·‖W_down[:, i]‖ (Eq 18),
//        applied to that token only: this is Eq 20 exactly.
//   TDA: one unit per sequence — values = the prompt statistic s_i (policies/tda.ts),
//        applied to every *generated* token of that sequence: the error the prompt's
//        mask causes where it is used.
// CETT(τ) is the mean over all tokens of all units.
//
// CETT is not monotone in τ in general: dropping one more neuron can *cancel* part
// of the error already made (the n_i are vectors of either sign). It is monotone
// when all neuron outputs lie in one orthant. The search therefore returns the
// first crossing: the largest τ such that CETT(τ') ≤ target for every τ' ≤ τ.
// With the tie rule "value ≥ τ is kept" that τ is one of the decision values, and
// any τ' > τ exceeds the target.

import { type FfnWeights, isPending, weightRow } from '../core/model.js';

export interface CettUnit {
  /** Per-neuron decision values (length d_ff). A neuron is dropped when its value < τ. */
  values: ArrayLike<number>;
  /** FFN activations a_t (length d_ff) of the tokens this decision applies to. */
  tokens: Float32Array[];
}

// W_down is read without filling it: a downT still held as its file's words (a wordsOnly
// load, as native-cpu-f16 runs calibration) would otherwise be widened into its own
// float32 array and stay so for the rest of the run (a third of the FFN's float32 bytes).
// The single-token readers take it a row at a time (weightRow). The sweep reads every
// row once per unit, so it widens the layer's words once into a buffer that calibrate()
// reuses for the next layer: one layer's W_down as float32 instead of every layer's, and
// no widening per read. Either way the values are exactly those filling writes, so every
// result is bit for bit the filled path's.

/**
 * W_down as float32 for one sweep: downT itself when its values are written, else its
 * words widened into `buffer` (when it is large enough) or a new array.
 */
export function downForSweep(downT: Float32Array, buffer?: Float32Array): Float32Array {
  if (!isPending(downT)) return downT;
  const into = buffer && buffer.length >= downT.length ? buffer : new Float32Array(downT.length);
  return weightRow(downT, 0, downT.length, into); // the whole matrix as one "row"
}

/** ‖Σ_{i ∈ D} a_i W_down[:, i]‖ for an explicit drop predicate; `row(i)` is W_down[:, i]. */
function truncatedNorm(a: Float32Array, row: (i: number) => Float32Array, dim: number, dropped: (i: number) => boolean): number {
  const e = new Float64Array(dim);
  for (let i = 0; i < a.length; i++) {
    if (!dropped(i) || a[i] === 0) continue;
    const r = row(i);
    for (let j = 0; j < dim; j++) e[j] += a[i] * r[j];
  }
  return Math.hypot(...e);
}

/** W_down's rows one at a time (one scratch row: no float32 copy of a words-only matrix). */
function rowsOf(ffn: FfnWeights, dim: number): (i: number) => Float32Array {
  const scratch = new Float32Array(dim);
  return (i) => weightRow(ffn.downT, i, dim, scratch);
}

/** Rows of an already widened (or written) W_down: views, no decoding. */
function rowsOfWidened(down: Float32Array, dim: number): (i: number) => Float32Array {
  return (i) => down.subarray(i * dim, (i + 1) * dim);
}

/** ‖y‖ = ‖W_down a‖ (bias excluded: Eq 19–20 are about the neurons' sum). */
function outputNorm(a: Float32Array, row: (i: number) => Float32Array, dim: number): number {
  return truncatedNorm(a, row, dim, () => true);
}

/**
 * Eq 20 for one token: ‖W_down (a ⊙ 1[value < τ])‖ / ‖W_down a‖.
 * A token whose FFN output is exactly zero has no defined CETT and returns NaN.
 */
export function tokenCett(a: Float32Array, values: ArrayLike<number>, ffn: FfnWeights, dim: number, tau: number): number {
  const row = rowsOf(ffn, dim);
  const y = outputNorm(a, row, dim);
  if (y === 0) return NaN;
  return truncatedNorm(a, row, dim, (i) => values[i] < tau) / y;
}

/** CETT(τ): the mean of Eq 20 over every token of every unit (tokens with zero output skipped). */
export function cett(units: CettUnit[], ffn: FfnWeights, dim: number, tau: number): number {
  let sum = 0;
  let count = 0;
  for (const u of units) {
    for (const a of u.tokens) {
      const c = tokenCett(a, u.values, ffn, dim, tau);
      if (Number.isNaN(c)) continue;
      sum += c;
      count++;
    }
  }
  return count ? sum / count : 0;
}

/**
 * CETT as a step function of τ, from one sweep over all decision values in
 * ascending order. Entry k: τ = thresholds[k] drops every value < thresholds[k];
 * cett[k] is the CETT there and keptFraction[k] the fraction of decisions kept.
 */
export interface CettCurve {
  thresholds: Float64Array;
  cett: Float64Array;
  keptFraction: Float64Array;
  /** runningMax[k] = max(cett[0..k]): non-decreasing, for the first-crossing search. */
  runningMax: Float64Array;
}

/**
 * Equation-20 sweep: O(units · d_ff · tokens-per-unit · dim), each neuron output added once.
 * `buffer`: where a words-only W_down is widened for the sweep (downForSweep), so that a
 * caller sweeping layer after layer reuses one buffer.
 */
export function cettCurve(units: CettUnit[], ffn: FfnWeights, dim: number, buffer?: Float32Array): CettCurve {
  const hidden = ffn.downT.length / dim;
  const down = downForSweep(ffn.downT, buffer);
  const row = rowsOfWidened(down, dim);
  // Decision events (unit, neuron), sorted by value.
  const events: { value: number; unit: number; neuron: number }[] = [];
  units.forEach((u, k) => {
    for (let i = 0; i < hidden; i++) events.push({ value: u.values[i], unit: k, neuron: i });
  });
  events.sort((x, y) => x.value - y.value);

  // Per token: running truncation error e_t, and ‖y_t‖.
  const tokenRefs: { unit: number; a: Float32Array; e: Float64Array; yNorm: number; ratio: number }[][] = units.map(
    (u, k) =>
      u.tokens
        .map((a) => ({ unit: k, a, e: new Float64Array(dim), yNorm: outputNorm(a, row, dim), ratio: 0 }))
        .filter((t) => t.yNorm > 0),
  );
  const tokenCount = tokenRefs.reduce((s, ts) => s + ts.length, 0);
  let ratioSum = 0;

  const thresholds: number[] = [];
  const curve: number[] = [];
  const kept: number[] = [];
  const total = events.length;
  let k = 0;
  while (k < total) {
    // τ = this value drops everything before it.
    const v = events[k].value;
    thresholds.push(v);
    curve.push(tokenCount ? ratioSum / tokenCount : 0);
    kept.push((total - k) / total);
    // Drop every decision with exactly this value (they are kept at τ = v, dropped just above).
    while (k < total && events[k].value === v) {
      const { unit, neuron } = events[k];
      const base = neuron * dim;
      for (const t of tokenRefs[unit]) {
        const ai = t.a[neuron];
        if (ai === 0) continue;
        for (let j = 0; j < dim; j++) t.e[j] += ai * down[base + j];
        let s = 0;
        for (let j = 0; j < dim; j++) s += t.e[j] * t.e[j];
        const r = Math.sqrt(s) / t.yNorm;
        ratioSum += r - t.ratio;
        t.ratio = r;
      }
      k++;
    }
  }
  // Past the largest value everything is dropped.
  const last = total ? events[total - 1].value : 0;
  thresholds.push(nextUp(last));
  curve.push(tokenCount ? ratioSum / tokenCount : 0);
  kept.push(0);
  const runningMax = Float64Array.from(curve);
  for (let i = 1; i < runningMax.length; i++) runningMax[i] = Math.max(runningMax[i], runningMax[i - 1]);
  return {
    thresholds: Float64Array.from(thresholds),
    cett: Float64Array.from(curve),
    keptFraction: Float64Array.from(kept),
    runningMax,
  };
}

export interface ThresholdChoice {
  tau: number;
  cett: number;
  keptFraction: number;
}

/**
 * First crossing: the largest τ on the curve such that CETT ≤ target at τ and at
 * every smaller τ. (Curve entry 0 drops nothing, CETT 0, so a choice always exists.)
 */
export function thresholdForTarget(curve: CettCurve, target: number): ThresholdChoice {
  // Binary search for the first entry whose running maximum exceeds the target.
  let lo = 0; // runningMax[0] = 0 ≤ target
  let hi = curve.runningMax.length; // "past the end"
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (curve.runningMax[mid] <= target) lo = mid;
    else hi = mid;
  }
  const k = lo;
  return { tau: curve.thresholds[k], cett: curve.cett[k], keptFraction: curve.keptFraction[k] };
}

/** The smallest double greater than x (x finite). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}
