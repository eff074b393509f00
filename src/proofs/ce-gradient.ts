// Claim 1 machinery (MOYU §3 Eq 1–6 / TDA §3.1 Eq 1–5, App. B Eq 10–13): the gradient of
// the cross-entropy loss of f = V·σ(p) with respect to one pre-activation p_i*, and a
// Monte-Carlo estimator of its expectation over random V (and y, and the other p_i).
//
//   f_m = Σ_i V[m,i] · σ(p_i)                                   (MOYU Eq 1 / TDA Eq 1)
//   ∂ℓ/∂f = softmax(f) − y        (y sums to one)               (MOYU Eq 3)
//   ∂ℓ/∂p_i* = σ'(p_i*) · ⟨softmax(f) − y, V[:,i*]⟩             (MOYU Eq 2, 4)
//            = σ'(p_i*) · Σ_m V[m,i*]·s_m  −  σ'(p_i*) · ⟨V[:,i*], y⟩
//              └──────── first term ───────┘   └──── second term ────┘
//
// The paper's Eq 2 writes ∂f/∂p_i* = v_i*, i.e. σ' = 1 (ReLU with p > 0); for a Swish
// gate the factor σ'(p) = Swish'(p)·u is kept here.

import { Rng } from './rng.js';
import { RunningMean } from './stats.js';

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
/** Swish₁ (SiLU): z·sigmoid(z). */
export const swish = (z: number): number => z * sigmoid(z);
/** d Swish₁ / dz = s(z)·(1 + z·(1 − s(z))). */
export const swishDeriv = (z: number): number => {
  const s = sigmoid(z);
  return s * (1 + z * (1 - s));
};
/** z − Swish₁(z) = z·sigmoid(−z), evaluated without cancellation (exact sign for every finite z). */
export const swishGap = (z: number): number => z * sigmoid(-z);

/** The gate of the neuron whose pre-activation is differentiated: ReLU, or Swish times an up projection. */
export type GateKind = 'relu' | 'swish';

export function gate(kind: GateKind, p: number, up = 1): number {
  return kind === 'relu' ? (p > 0 ? p : 0) : swish(p) * up;
}

export function gateDeriv(kind: GateKind, p: number, up = 1): number {
  return kind === 'relu' ? (p > 0 ? 1 : 0) : swishDeriv(p) * up;
}

export interface CeProblem {
  /** dOut × dFf, row-major: V[m·dFf + i]. */
  V: Float64Array;
  dOut: number;
  dFf: number;
  /** Pre-activations p (length dFf). */
  pre: Float64Array;
  /** Up projections for a Swish gate (σ(p_i) = Swish(p_i)·up_i); ones when absent. */
  up?: Float64Array;
  /** Target, sums to one (entries may be negative). */
  y: Float64Array;
  kind: GateKind;
}

/** Cross-entropy ℓ = −Σ_m y_m log softmax(f)_m. */
export function ceLoss(pr: CeProblem): number {
  const f = logits(pr);
  let max = -Infinity;
  for (const v of f) max = Math.max(max, v);
  let z = 0;
  for (const v of f) z += Math.exp(v - max);
  const logZ = max + Math.log(z);
  let l = 0;
  for (let m = 0; m < pr.dOut; m++) l -= pr.y[m] * (f[m] - logZ);
  return l;
}

function logits(pr: CeProblem): Float64Array {
  const { V, dOut, dFf, pre, up, kind } = pr;
  const a = new Float64Array(dFf);
  for (let i = 0; i < dFf; i++) a[i] = gate(kind, pre[i], up ? up[i] : 1);
  const f = new Float64Array(dOut);
  for (let m = 0; m < dOut; m++) {
    let s = 0;
    for (let i = 0; i < dFf; i++) s += V[m * dFf + i] * a[i];
    f[m] = s;
  }
  return f;
}

export interface CeGrad {
  /** ∂ℓ/∂p_i*. */
  grad: number;
  /** σ'(p_i*)·Σ_m V[m,i*]·softmax(f)_m. */
  first: number;
  /** σ'(p_i*)·⟨V[:,i*], y⟩ (its expectation is 0 when E[V] = 0 and y ⟂ V). */
  second: number;
}

/** Exact ∂ℓ/∂p_i* (MOYU Eq 4 with the σ' factor). */
export function ceGradPre(pr: CeProblem, iStar: number): CeGrad {
  const f = logits(pr);
  let max = -Infinity;
  for (const v of f) max = Math.max(max, v);
  let z = 0;
  const e = new Float64Array(pr.dOut);
  for (let m = 0; m < pr.dOut; m++) (e[m] = Math.exp(f[m] - max)), (z += e[m]);
  const d = gateDeriv(pr.kind, pr.pre[iStar], pr.up ? pr.up[iStar] : 1);
  let first = 0;
  let second = 0;
  for (let m = 0; m < pr.dOut; m++) {
    const v = pr.V[m * pr.dFf + iStar];
    first += v * (e[m] / z);
    second += v * pr.y[m];
  }
  return { grad: d * (first - second), first: d * first, second: d * second };
}

/** Samplers of one entry of V. All have mean 0 and variance 1 unless the name says otherwise. */
export const V_DISTRIBUTIONS: Record<string, (r: Rng) => number> = {
  gaussian: (r) => r.normal(),
  uniform: (r) => (2 * r.uniform() - 1) * Math.sqrt(3),
  rademacher: (r) => (r.uniform() < 0.5 ? -1 : 1),
  'exp-centred (skewed)': (r) => r.exponential() - 1,
  'sparse (90% zeros)': (r) => (r.uniform() < 0.9 ? 0 : r.normal() * Math.sqrt(10)),
  'student-t3': (r) => (r.normal() / Math.sqrt(r.chiSquare(3) / 3)) / Math.sqrt(3),
};

/** Samplers of the target y (length dOut, sums to one). */
export const Y_DISTRIBUTIONS: Record<string, (r: Rng, dOut: number) => Float64Array> = {
  'one-hot': (r, d) => {
    const y = new Float64Array(d);
    y[r.int(d)] = 1;
    return y;
  },
  'simplex (uniform)': (r, d) => {
    const y = new Float64Array(d);
    let s = 0;
    for (let m = 0; m < d; m++) (y[m] = r.exponential()), (s += y[m]);
    for (let m = 0; m < d; m++) y[m] /= s;
    return y;
  },
  'signed (sums to 1)': (r, d) => {
    // "an arbitrary vector that sums up to one": entries of both signs.
    const y = new Float64Array(d);
    let s = 0;
    for (let m = 0; m < d; m++) (y[m] = 2 * r.normal()), (s += y[m]);
    for (let m = 0; m < d; m++) y[m] += (1 - s) / d;
    return y;
  },
};

export interface McSetup {
  vDist: (r: Rng) => number;
  yDist: (r: Rng, dOut: number) => Float64Array;
  dOut: number;
  dFf: number;
  /** Scale of V's entries (the samplers have unit variance). */
  vScale: number;
  /** Optional mean of V[m, i] by output row m (violates E[V] = 0 when non-zero). */
  vMean?: (m: number) => number;
  /** Optional fixed y (overrides yDist), e.g. aligned with vMean. */
  yFixed?: Float64Array;
  iStar: number;
  n: number;
}

export interface McEstimate {
  /** Plain estimator of E[∂ℓ/∂p_i*]: mean of the sampled gradients. */
  raw: RunningMean;
  /** Control-variate estimator: mean of the first term only (valid when E[second term] = 0). */
  firstTerm: RunningMean;
  /** Mean of the second term (should be ≈ 0 under the assumptions). */
  secondTerm: RunningMean;
  /** Fraction of samples with ∂ℓ/∂p_i* > 0. */
  fractionPositive: number;
}

function drawProblem(r: Rng, s: McSetup, kind: GateKind, pStar: number): CeProblem {
  const V = new Float64Array(s.dOut * s.dFf);
  for (let m = 0; m < s.dOut; m++) {
    const mu = s.vMean ? s.vMean(m) : 0;
    for (let i = 0; i < s.dFf; i++) V[m * s.dFf + i] = mu + s.vScale * s.vDist(r);
  }
  const pre = new Float64Array(s.dFf);
  for (let i = 0; i < s.dFf; i++) pre[i] = r.normal();
  pre[s.iStar] = pStar;
  const y = s.yFixed ?? s.yDist(r, s.dOut);
  return { V, dOut: s.dOut, dFf: s.dFf, pre, y, kind };
}

/** Monte-Carlo estimate of E[∂ℓ/∂p_i*] at p_i* = pStar over V, y and the other p_i ~ N(0,1). */
export function estimateExpectedGrad(r: Rng, s: McSetup, kind: GateKind, pStar: number): McEstimate {
  const raw = new RunningMean();
  const firstTerm = new RunningMean();
  const secondTerm = new RunningMean();
  let pos = 0;
  for (let k = 0; k < s.n; k++) {
    const g = ceGradPre(drawProblem(r, s, kind, pStar), s.iStar);
    raw.push(g.grad);
    firstTerm.push(g.first);
    secondTerm.push(g.second);
    if (g.grad > 0) pos++;
  }
  return { raw, firstTerm, secondTerm, fractionPositive: pos / s.n };
}

/**
 * Paired (common random numbers) comparison: the same V, y and other p_i for two gates.
 * Returns the running mean of first-term differences B − A (control-variate form) and raw differences.
 */
export function comparePaired(
  r: Rng,
  s: McSetup,
  a: { kind: GateKind; p: number },
  b: { kind: GateKind; p: number },
): { diff: RunningMean; rawDiff: RunningMean; meanA: RunningMean; meanB: RunningMean } {
  const diff = new RunningMean();
  const rawDiff = new RunningMean();
  const meanA = new RunningMean();
  const meanB = new RunningMean();
  for (let k = 0; k < s.n; k++) {
    const pa = drawProblem(r, s, a.kind, a.p);
    const pb: CeProblem = { ...pa, pre: Float64Array.from(pa.pre), kind: b.kind };
    pb.pre[s.iStar] = b.p;
    const ga = ceGradPre(pa, s.iStar);
    const gb = ceGradPre(pb, s.iStar);
    diff.push(gb.first - ga.first);
    rawDiff.push(gb.grad - ga.grad);
    meanA.push(ga.first);
    meanB.push(gb.first);
  }
  return { diff, rawDiff, meanA, meanB };
}

/**
 * E[⟨softmax(f) − y, V[:,i*]⟩] as a function of the activation value a = σ(p_i*) alone
 * (the quantity MOYU Eq 6 / TDA Eq 5 reasons about), estimated at each `a` with common
 * random numbers so that neighbouring values can be compared pairwise.
 */
export function expectedGradByActivation(r: Rng, s: McSetup, as: number[]): RunningMean[][] {
  // Returns, for each sample block, a RunningMean per a; and the pairwise differences a[j+1] − a[j].
  const means = as.map(() => new RunningMean());
  const diffs = as.slice(1).map(() => new RunningMean());
  for (let k = 0; k < s.n; k++) {
    // ReLU gate with p = a > 0 gives σ(p) = a and σ' = 1: exactly the activation-value form.
    const base = drawProblem(r, s, 'relu', as[0]);
    let prev = 0;
    as.forEach((a, j) => {
      base.pre[s.iStar] = a;
      const g = ceGradPre(base, s.iStar).first;
      means[j].push(g);
      if (j > 0) diffs[j - 1].push(g - prev);
      prev = g;
    });
  }
  return [means, diffs];
}
