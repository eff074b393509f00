// Readings of TDA. The paper (Section 4, Algorithm 1, Appendix E) fixes that a prompt
// statistic of "relative magnitudes in accordance with TT" is compared with per-layer
// thresholds found by TT's offline search, but not which statistic nor on which
// tokens the search measures its error. policies/tda.ts is the kit's reading; these
// are the others a reader may hold, each a complete method:
//
//   griffin-stat  (a) Griffin's statistic, sqrt(mean_t (a_{t,i}/‖a_t‖)²), with per-layer thresholds
//   eq18-topk     (b) the kit's Eq-18 statistic with Griffin's fixed top-k per layer
//   tt-union      (c) the union of TT's per-token masks over the prompt: max_t m_{t,i} ≥ τ_l
//   tt-mean       (c) mean TT magnitude over the prompt: mean_t m_{t,i} ≥ τ_l
//   cett-prompt   (d) the kit's statistic, thresholds calibrated so that CETT ≤ target on the
//                     prompt's own tokens (not on the generated ones)
//   gate-up-l2    (e) the L2 norm over the prompt of |gate_i·x_t|·|up_i·x_t| (|up_i·x_t + b_i|
//                     for non-gated FFNs), divided by √T so one threshold fits every prompt length
//
// with m_{t,i} = |a_{t,i}|·‖W_down[:, i]‖ (Eq 18). (a) and (b) separate the two things the
// kit's TDA changes relative to Griffin: the statistic (b vs Griffin) and the thresholds
// (kit's TDA vs b). Every variant reports method "tda": it is TDA, read differently.
//
// Tie rules as in tda.ts (value equal to τ is kept) and griffin.ts (top-k: lower id first).

import type { Kernels } from '../../core/kernels.js';
import { type FfnWeights, fillStoredHalf, type Model } from '../../core/model.js';
import { UserError } from '../../errors.js';
import { type CalibrationSet, cettLevelForDensity, recordingPolicy, type Objective } from '../calibrate.js';
import { type CettCurve, type CettUnit, cettCurve, thresholdForTarget } from '../cett.js';
import { Decoder } from '../decoder.js';
import { downColumnNorms } from '../ffn.js';
import { griffinK, topK } from './griffin.js';
import { TdaStatistic, tdaMask } from './tda.js';
import { type FfnPolicy, planForMask } from './types.js';

export const TDA_VARIANTS = ['griffin-stat', 'eq18-topk', 'tt-union', 'tt-mean', 'cett-prompt', 'gate-up-l2'] as const;
export type TdaVariant = (typeof TDA_VARIANTS)[number];

export const TDA_VARIANT_DESCRIPTIONS: Record<TdaVariant, string> = {
  'griffin-stat': "(a) Griffin's statistic (RMS of a_t/‖a_t‖ over the prompt) with per-layer thresholds",
  'eq18-topk': "(b) the Eq-18 statistic of policies/tda.ts with Griffin's fixed top-k per layer",
  'tt-union': "(c) union over the prompt of TT's per-token masks: max_t |a_t,i|·‖W_down[:,i]‖ ≥ τ_l",
  'tt-mean': '(c) mean over the prompt of the TT magnitude |a_t,i|·‖W_down[:,i]‖ ≥ τ_l',
  'cett-prompt': "(d) the Eq-18 statistic, thresholds calibrated for CETT ≤ target on the prompt's own tokens",
  'gate-up-l2': '(e) L2 norm over the prompt of |gate_i·x|·|up_i·x| (divided by √T) ≥ τ_l',
};

export function parseTdaVariant(name: string): TdaVariant {
  if (!(TDA_VARIANTS as readonly string[]).includes(name)) {
    throw new UserError(`unknown --tda-variant "${name}" (choose one of: ${TDA_VARIANTS.join(', ')})`);
  }
  return name as TdaVariant;
}

/** A per-neuron statistic accumulated over the prompt tokens of one layer. */
export interface PromptStatistic {
  add(a: Float32Array, x: Float32Array | undefined): void;
  values(): Float64Array;
}

/** (a) Griffin's z_t = a_t/‖a_t‖, as a root mean square so that τ does not depend on the prompt length. */
class GriffinRms implements PromptStatistic {
  private readonly sumSq: Float64Array;
  private tokens = 0;
  constructor(hiddenDim: number) {
    this.sumSq = new Float64Array(hiddenDim);
  }
  add(a: Float32Array): void {
    this.tokens++;
    let norm2 = 0;
    for (let i = 0; i < a.length; i++) norm2 += a[i] * a[i];
    if (norm2 === 0) return;
    for (let i = 0; i < a.length; i++) this.sumSq[i] += (a[i] * a[i]) / norm2;
  }
  values(): Float64Array {
    const t = Math.max(this.tokens, 1);
    return this.sumSq.map((s) => Math.sqrt(s / t));
  }
}

/** (c) max or mean over the prompt of the TT magnitude m_{t,i} = |a_{t,i}|·‖W_down[:, i]‖. */
class TtCombined implements PromptStatistic {
  private readonly acc: Float64Array;
  private tokens = 0;
  constructor(
    private readonly downNorms: Float64Array,
    private readonly how: 'max' | 'mean',
  ) {
    this.acc = new Float64Array(downNorms.length);
  }
  add(a: Float32Array): void {
    this.tokens++;
    for (let i = 0; i < a.length; i++) {
      const m = Math.abs(a[i]) * this.downNorms[i];
      this.acc[i] = this.how === 'max' ? Math.max(this.acc[i], m) : this.acc[i] + m;
    }
  }
  values(): Float64Array {
    return this.how === 'max' ? Float64Array.from(this.acc) : this.acc.map((s) => s / Math.max(this.tokens, 1));
  }
}

/** (e) sqrt(mean_t (|gate_i·x_t|·|up_i·x_t|)²); non-gated FFNs: sqrt(mean_t (up_i·x_t + b_i)²). */
class GateUpL2 implements PromptStatistic {
  private readonly sumSq: Float64Array;
  private tokens = 0;
  constructor(
    private readonly ffn: FfnWeights,
    private readonly dim: number,
  ) {
    // Read in JS: a wordsOnly load's matrices get their float32 values first (src/core/model.ts).
    if (ffn.gate) fillStoredHalf(ffn.gate);
    fillStoredHalf(ffn.up);
    this.sumSq = new Float64Array(ffn.up.length / dim);
  }
  add(_a: Float32Array, x: Float32Array | undefined): void {
    if (!x) throw new Error('gate-up-l2 needs the FFN input of every prompt token');
    this.tokens++;
    const { gate, up, upBias } = this.ffn;
    const d = this.dim;
    for (let i = 0; i < this.sumSq.length; i++) {
      let u = upBias ? upBias[i] : 0;
      let g = 0;
      for (let j = 0; j < d; j++) {
        u += up[i * d + j] * x[j];
        if (gate) g += gate[i * d + j] * x[j];
      }
      const v = gate ? Math.abs(g) * Math.abs(u) : u;
      this.sumSq[i] += v * v;
    }
  }
  values(): Float64Array {
    const t = Math.max(this.tokens, 1);
    return this.sumSq.map((s) => Math.sqrt(s / t));
  }
}

/** The prompt statistic a variant thresholds (or ranks, for eq18-topk), one per layer. */
export function variantStatistic(model: Model, variant: TdaVariant, layer: number): PromptStatistic {
  const { dim, hiddenDim } = model.config;
  const ffn = model.weights.layers[layer].ffn;
  switch (variant) {
    case 'griffin-stat':
      return new GriffinRms(hiddenDim);
    case 'tt-union':
      return new TtCombined(downColumnNorms(ffn, dim), 'max');
    case 'tt-mean':
      return new TtCombined(downColumnNorms(ffn, dim), 'mean');
    case 'gate-up-l2':
      return new GateUpL2(ffn, dim);
    case 'eq18-topk':
    case 'cett-prompt': {
      const s = new TdaStatistic(downColumnNorms(ffn, dim));
      return { add: (a) => s.add(a), values: () => s.values() };
    }
  }
}

/**
 * The policy of a variant. `setting` is per-layer thresholds for the thresholded variants
 * and the kept fraction for eq18-topk.
 */
export function tdaVariantPolicy(model: Model, variant: TdaVariant, setting: { thresholds: ArrayLike<number> } | { density: number }): FfnPolicy {
  const { hiddenDim, nLayers } = model.config;
  const stats = Array.from({ length: nLayers }, (_, l) => variantStatistic(model, variant, l));
  let masks: Int32Array[] = [];
  let choose: (values: Float64Array, layer: number) => Int32Array;
  if (variant === 'eq18-topk') {
    if (!('density' in setting)) throw new UserError('--tda-variant eq18-topk takes --density (a fixed top-k per layer)');
    const k = griffinK(setting.density, hiddenDim);
    choose = (values) => topK(values, k);
  } else {
    if (!('thresholds' in setting)) throw new Error(`${variant} needs per-layer thresholds`);
    const taus = setting.thresholds;
    if (taus.length !== nLayers) throw new RangeError(`TDA (${variant}) needs ${nLayers} thresholds, got ${taus.length}`);
    choose = (values, l) => tdaMask(values, taus[l]);
  }
  return {
    method: 'tda',
    observePrompt: (layer, a, x) => stats[layer].add(a, x),
    endPrompt() {
      masks = stats.map((s, l) => choose(s.values(), l));
    },
    plan: (layer) => planForMask(masks[layer], hiddenDim),
    selectForToken: () => null,
    masks: () => masks,
  };
}

/** Per layer, per sequence, per position: the FFN activations a_t and inputs x_t of a dense pass. */
export interface RecordedPass {
  acts: Float32Array[][][];
  inputs: Float32Array[][][];
}

export function recordPass(model: Model, set: CalibrationSet, kernels?: Kernels): RecordedPass {
  const L = model.config.nLayers;
  const acts: Float32Array[][][] = Array.from({ length: L }, () => set.sequences.map(() => []));
  const inputs: Float32Array[][][] = Array.from({ length: L }, () => set.sequences.map(() => []));
  set.sequences.forEach((seq, s) => {
    const decoder = new Decoder(model, kernels);
    const policy = recordingPolicy(() => {});
    policy.observePrompt = (l, a, x) => {
      acts[l][s].push(Float32Array.from(a));
      inputs[l][s].push(Float32Array.from(x!));
    };
    seq.forEach((token, pos) => decoder.forward(token, pos, 'prefill', policy));
  });
  return { acts, inputs };
}

/**
 * CETT decision units of one layer for a thresholded variant (see cett.ts): one unit per
 * sequence; the statistic of its first `promptLength` tokens decides, and the error is
 * measured on the generated tokens — or, for cett-prompt, on the prompt tokens themselves.
 */
export function variantUnits(model: Model, variant: TdaVariant, layer: number, pass: RecordedPass, promptLength: number): CettUnit[] {
  const units: CettUnit[] = [];
  pass.acts[layer].forEach((tokens, s) => {
    if (tokens.length <= promptLength) return;
    const stat = variantStatistic(model, variant, layer);
    for (let t = 0; t < promptLength; t++) stat.add(tokens[t], pass.inputs[layer][s][t]);
    units.push({ values: stat.values(), tokens: variant === 'cett-prompt' ? tokens.slice(0, promptLength) : tokens.slice(promptLength) });
  });
  return units;
}

/** Per-layer CETT curves of a thresholded variant over a recorded calibration pass. */
export function variantCurves(model: Model, variant: TdaVariant, pass: RecordedPass, promptLength: number): CettCurve[] {
  if (variant === 'eq18-topk') throw new Error('eq18-topk has no thresholds to calibrate');
  const { dim, nLayers } = model.config;
  return Array.from({ length: nLayers }, (_, l) => {
    const units = variantUnits(model, variant, l, pass, promptLength);
    if (units.length === 0) throw new RangeError(`calibration set has no sequence longer than the prompt length ${promptLength}`);
    return cettCurve(units, model.weights.layers[l].ffn, dim);
  });
}

/** Thresholds for an objective from a variant's curves (as calibrate() does for TT and TDA). */
export function variantThresholds(curves: CettCurve[], objective: Objective): number[] {
  const level = objective.kind === 'cett' ? objective.target : cettLevelForDensity(curves, objective.target);
  return curves.map((c) => thresholdForTarget(c, level).tau);
}
