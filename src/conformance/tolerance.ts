// Error bounds of every kernel, per precision: how far a correct backend's output
// may lie from the reference's. docs/tolerances.md derives each one; this module
// is the executable form. The bounds are component-wise and scale with the data
// (Σ|w·x|, |y|, the softmax weights …), never a blanket 1e-3, so that a kernel that
// is wrong by even a few units of roundoff per step is caught where the arithmetic
// allows it.
//
// Model of a correct backend: every stored value is float32; a reduction of n
// terms may be summed in *any* order (sequential, pairwise, SIMD lanes, GPU
// trees), each addition and multiplication correctly rounded (unit roundoff u);
// transcendental functions (exp, tanh, sin, cos, pow, sqrt) within FN_ULPS units
// of roundoff; subnormal inputs and results may be flushed to zero (GPUs,
// fast-math). fp16 / bf16 backends store *weights* in that format (rounded to
// nearest or truncated) and accumulate in float32.
//
// The reference accumulates in float64 and rounds once (src/reference/math.ts),
// so |backend − reference| ≤ |backend − exact| + |reference − exact|; both parts
// appear below (the second is the u·|y| term plus a float64 γ_n).

import { FLT_MIN as FLT_MIN_EXPORT, lowestBitExp, roundBf16, roundFp16 } from './fp.js';

// A module-local copy: reading an imported binding in the 45-million-term loops
// below costs more than the arithmetic.
const FLT_MIN = FLT_MIN_EXPORT;

export type Precision = 'fp32' | 'fp16' | 'bf16';

/** Unit roundoff of float32 arithmetic: every backend accumulates in float32. */
export const U32 = 2 ** -24;
/** Unit roundoff of float64 (the reference's accumulators). */
export const U64 = 2 ** -53;
/** Allowance for one transcendental function evaluation, in units of u (CUDA's expf/sinf/tanhf: ≤ 2 ulp = 4u). */
export const FN_ULPS = 4;
export const F_FN = FN_ULPS * U32;

/** γ_n = n·u / (1 − n·u): the classic bound on the relative error of n roundings (Higham, Lemma 3.1). */
export function gamma(n: number, u: number = U32): number {
  const nu = n * u;
  return nu < 1 ? nu / (1 - nu) : Infinity;
}

/** Unit roundoff of the weight storage format. */
export function weightUnit(p: Precision): number {
  return p === 'fp32' ? 0 : p === 'fp16' ? 2 ** -11 : 2 ** -8;
}

/**
 * Spacing of the weight format at w: bf16 keeps 8 significant bits over float32's
 * exponent range (subnormal spacing 2^-133), fp16 11 bits with subnormals below
 * 2^-14 (spacing 2^-24).
 */
export function weightUlp(w: number, p: Precision): number {
  const lowest = p === 'bf16' ? -126 : -14;
  const bits = p === 'bf16' ? 7 : 10;
  const e = Math.max(floorLog2(w), lowest) - bits;
  // A table for the exponents of float32 weights (it runs once per weight of every
  // LLaMA-size case, where 2 ** e dominated); anything else computes the power.
  return e >= -POW2_BIAS && e < POW2_BIAS ? POW2[e + POW2_BIAS] : 2 ** e;
}

const POW2_BIAS = 160;
const POW2 = Float64Array.from({ length: 2 * POW2_BIAS }, (_, i) => 2 ** (i - POW2_BIAS));

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * ⌊log2 |w|⌋ (−∞ for 0). For a normal float32 that is its exponent field, read from its
 * bits: this runs once per weight of every LLaMA-size case, where Math.log2 dominates.
 * Anything else (subnormals, values that are not float32) takes Math.log2.
 */
function floorLog2(w: number): number {
  f32[0] = w;
  const e = (u32[0] >>> 23) & 0xff;
  if (f32[0] === w && e !== 0 && e !== 0xff) return e - 127;
  return Math.floor(Math.log2(Math.abs(w)));
}

/**
 * Largest error a backend of precision p may make by storing weight w: 0 when w
 * is representable (so exact cases stay exact), otherwise two units in the last
 * place of the format at w. Rounding to nearest errs by at most ½ ulp and
 * truncation (common for bf16: drop the low 16 bits) by just under 1 ulp, so an
 * honest conversion uses at most half of this — the same headroom the float32
 * rounding terms have. (One ulp, or 2·u_w·|w|, would be met with equality by
 * truncation at weights just above a power of two: |w| = 2^e·(1 + 255/256 … ).)
 */
export function weightStorageError(w: number, p: Precision): number {
  if (p === 'fp32') return 0;
  const r = p === 'fp16' ? roundFp16(w) : roundBf16(w);
  if (r === w) return 0;
  return 2 * weightUlp(w, p);
}

/**
 * Flushing a subnormal to zero loses exactly its value: an allowance of that value
 * alone is met with equality by every flushing backend. The flush terms below
 * allow twice what flushing can lose, so that a flushed element sits at half its
 * allowance, like roundings do. They only ever apply to values below 2^-126
 * (times at most 2^20 · n for a product with a large factor), far below anything
 * a real bug could hide in.
 */
const FLUSH_HEADROOM = 2;

/** Weight magnitudes the generators may use for precision p (fp16 overflows at 65504). */
export function largeWeight(p: Precision): number {
  return p === 'fp16' ? 2 ** 12 : 2 ** 20;
}

/**
 * What the bound of one dot product (Σ_i w_i·x_i + extra terms) needs to know.
 * Products of two float32 are exact in float64, so `y` and `sumAbs` are exact up
 * to float64's own γ_n.
 */
export interface DotTerms {
  n: number; // number of terms (products and biases)
  y: number; // Σ w_i x_i in float64
  sumAbs: number; // Σ |w_i x_i|
  weightErr: number; // Σ |x_i| · weightStorageError(w_i)
  subMass: number; // Σ |w_i x_i| over terms with a subnormal factor (what flushing loses)
  tinyProducts: boolean; // some non-zero product is below FLT_MIN (may flush)
  /** Every product is a multiple of 2^minLowBit; the sum is exact in float32 when Σ|p| ≤ 2^(24+minLowBit). */
  minLowBit: number;
}

export function emptyDot(): DotTerms {
  return { n: 0, y: 0, sumAbs: 0, weightErr: 0, subMass: 0, tinyProducts: false, minLowBit: Infinity };
}

/** Adds the term w·x to a dot product's bookkeeping (w is the stored, possibly rounded, operand). */
export function addTerm(t: DotTerms, w: number, x: number, p: Precision): void {
  t.n++;
  const prod = w * x;
  const a = Math.abs(prod);
  t.y += prod;
  t.sumAbs += a;
  if (p !== 'fp32') t.weightErr += Math.abs(x) * weightStorageError(w, p);
  if (prod !== 0) {
    if ((w !== 0 && Math.abs(w) < FLT_MIN) || (x !== 0 && Math.abs(x) < FLT_MIN)) t.subMass += a;
    if (a < FLT_MIN) t.tinyProducts = true;
    // Only worth tracking while the sum may still be exact (cheap early exit on random data).
    if (t.sumAbs <= 2 ** (24 + t.minLowBit) || t.minLowBit === Infinity) {
      const lb = lowestBitExp(prod);
      if (lb < t.minLowBit) t.minLowBit = lb;
    }
  }
}

/**
 * Dot product of row `wOff` of w with x (length n), optionally plus a bias term.
 * The same bookkeeping as n calls of addTerm, kept in locals: the LLaMA-size cases
 * evaluate it for 45 million terms.
 */
export function dotTerms(
  w: Float32Array,
  wOff: number,
  x: Float32Array,
  xOff: number,
  n: number,
  p: Precision,
  bias?: number,
): DotTerms {
  let y = 0;
  let sumAbs = 0;
  let weightErr = 0;
  let subMass = 0;
  let tinyProducts = false;
  let minLowBit = Infinity;
  let exactLimit = Infinity; // 2^(24 + minLowBit): beyond it the sum cannot be exact, stop tracking
  const reduced = p !== 'fp32';
  for (let i = 0; i < n; i++) {
    const wi = w[wOff + i];
    const xi = x[xOff + i];
    const prod = wi * xi;
    if (prod === 0) continue; // w = 0 is representable, x = 0 weighs nothing
    const a = Math.abs(prod);
    y += prod;
    sumAbs += a;
    if (reduced) weightErr += Math.abs(xi) * weightStorageError(wi, p);
    if (Math.abs(wi) < FLT_MIN || Math.abs(xi) < FLT_MIN) subMass += a;
    if (a < FLT_MIN) tinyProducts = true;
    if (sumAbs <= exactLimit) {
      const lb = lowestBitExp(prod);
      if (lb < minLowBit) {
        minLowBit = lb;
        exactLimit = 2 ** (24 + lb);
      }
    }
  }
  const t: DotTerms = { n, y, sumAbs, weightErr, subMass, tinyProducts, minLowBit };
  if (bias !== undefined) addTerm(t, bias, 1, p);
  return t;
}

/** True when any summation order gives the exact result in float32 (all partial sums are representable). */
export function isExactDot(t: DotTerms): boolean {
  if (t.sumAbs === 0) return true;
  return t.weightErr === 0 && t.subMass === 0 && t.minLowBit >= -126 && t.sumAbs <= 2 ** (24 + t.minLowBit);
}

/**
 * Bound on |backend − reference| for one dot product, any summation order:
 *   γ_n·(Σ|w x| + weightErr) + weightErr          float32 accumulation, weight storage
 * + u·|y| + γ_n(u64)·Σ|w x|                        the reference's float64 sum, rounded once
 * + subMass + (n+1)·FLT_MIN                         flushing subnormals to zero
 * and exactly 0 when every partial sum is representable in float32 (integer-grid
 * data): then every correct backend returns the exact value.
 */
export function dotBound(t: DotTerms): number {
  if (isExactDot(t)) return 0;
  const g = gamma(t.n);
  const flush = FLUSH_HEADROOM * t.subMass + (t.tinyProducts || t.sumAbs < 2 ** -100 ? (t.n + 1) * FLT_MIN : 0) + 2 ** -149;
  return g * (t.sumAbs + t.weightErr) + t.weightErr + U32 * Math.abs(t.y) + gamma(t.n, U64) * t.sumAbs + flush;
}

// ---------------------------------------------------------------------------
// RMSNorm

/**
 * Relative error of the scale 1/sqrt(mean(x²) + eps): the sum of n squares (all
 * terms ≥ 0, so the relative error is γ_{n+1}), the division by n and the +eps
 * (2 roundings), halved by the square root, plus the root and reciprocal (or an
 * rsqrt approximation) within F_FN + u.
 */
export function rmsScaleRelError(n: number): number {
  return gamma(n + 3) / 2 + F_FN + U32;
}

/** Bound for out_i = weight_i · x_i · scale (scale: the exact float64 scale). */
export function rmsnormBound(x: number, weight: number, scale: number, n: number, p: Precision): number {
  const out = Math.abs(weight * x * scale);
  const rho = rmsScaleRelError(n);
  // two products in the backend, one rounding in the reference
  const rel = rho + gamma(3) + rho * gamma(3);
  const wErr = weightStorageError(weight, p) * Math.abs(x * scale) * (1 + rel);
  const flush = (x !== 0 && Math.abs(x) < FLT_MIN ? FLUSH_HEADROOM * out : 0) + 2 * FLT_MIN;
  return rel * out + wErr + flush;
}

// ---------------------------------------------------------------------------
// RoPE

/**
 * Relative error of a backend's rotation angle pos·theta^(-j/headSize) in
 * float32: the exponent j/headSize is rounded (u), which pow amplifies by
 * ln(theta)·j/headSize; pow itself (F_FN), the reciprocal and the product with
 * pos (2u). At large positions this is the dominant error of any float32 RoPE,
 * llama2.c's included.
 */
export function ropeAngleRelError(j: number, headSize: number, theta: number): number {
  return (Math.log(theta) * (j / headSize) + 3) * U32 + F_FN;
}

/** Bound for one output of the rotated pair (v0, v1) with exact angle `angle`. */
export function ropeBound(v0: number, v1: number, angle: number, j: number, headSize: number, theta: number): number {
  const dAngle = Math.abs(angle) * ropeAngleRelError(j, headSize, theta);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  // |v0·c| + |v1·s| ≤ |v0| + |v1|: the magnitude both outputs are summed from.
  const mag = Math.abs(v0) + Math.abs(v1);
  const outMax = Math.max(Math.abs(v0 * c - v1 * s), Math.abs(v0 * s + v1 * c));
  // |Δcos|, |Δsin| ≤ |Δangle| (Lipschitz 1) + F_FN (evaluation); then 2 products and a sum.
  const flush = FLUSH_HEADROOM * ((Math.abs(v0) < FLT_MIN ? Math.abs(v0) : 0) + (Math.abs(v1) < FLT_MIN ? Math.abs(v1) : 0)) + 2 * FLT_MIN;
  return mag * (dAngle + F_FN) * (1 + gamma(2)) + gamma(2) * mag + U32 * outMax + flush;
}

// ---------------------------------------------------------------------------
// Attention

/**
 * How far each softmax weight of one head may move. Inputs (exact float64):
 * scoreAbs[t] = Σ_d |q_d k_{t,d}| / sqrt(headSize), score[t] the exact score,
 * p[t] the exact softmax weights.
 *
 * A backend's exponent for term t is s_t + ε_t with |ε_t| ≤ D_t: the score's own
 * dot-product error E_t = (γ_h + 3u)·scoreAbs_t + 2u|s_t| (+ FLT_MIN), plus the
 * rounding of s_t − max (2u·(|s_t − max| + 2·max E); softmax is shift-invariant,
 * so which max the backend subtracts does not matter otherwise). Then
 *   p̂_t = e^{s_t+ε_t} / (e^{s_t+ε_t} + Σ_{u≠t} e^{s_u+ε_u})
 * lies in [e^{a_t−D_t}/(e^{a_t−D_t} + R⁺_t), e^{a_t+D_t}/(e^{a_t+D_t} + R⁻_t)], R± = Σ_{u≠t} e^{a_u±D_u},
 * an interval that stays informative when the scores are huge (a one-hot softmax
 * stays one-hot when the gaps exceed the errors), where a factor e^{2·max E}
 * would be ∞. The exp evaluations, the sum of T terms and the division add a
 * relative ρ = F + γ_{T+1} + 2u on top. Returns max(p̂ − p) per t, and ρ.
 */
export function softmaxWeightDeviation(scoreAbs: Float64Array, score: Float64Array, p: Float64Array, T: number, headSize: number): { dev: Float64Array; rho: number } {
  let maxScore = -Infinity;
  let maxE = 0;
  const E = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    if (score[t] > maxScore) maxScore = score[t];
    E[t] = (gamma(headSize) + 3 * U32) * scoreAbs[t] + 2 * U32 * Math.abs(score[t]) + FLT_MIN;
    if (E[t] > maxE) maxE = E[t];
  }
  // Work with a_t = s_t − max, shifted by c = max(a_t + D_t) so that no exp overflows.
  const D = new Float64Array(T);
  let c = -Infinity;
  for (let t = 0; t < T; t++) {
    D[t] = E[t] + 2 * U32 * (Math.abs(score[t] - maxScore) + 2 * maxE);
    c = Math.max(c, score[t] - maxScore + D[t]);
  }
  const up = new Float64Array(T);
  const down = new Float64Array(T);
  let zUp = 0;
  let zDown = 0;
  for (let t = 0; t < T; t++) {
    const a = score[t] - maxScore - c;
    zUp += up[t] = Math.exp(a + D[t]);
    zDown += down[t] = Math.exp(a - D[t]);
  }
  const dev = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    // R± by subtraction, widened by float64's own rounding of the sums.
    const restUp = zUp - up[t] + 1e-14 * zUp;
    const restDown = Math.max(0, zDown - down[t] - 1e-14 * zDown);
    const lo = down[t] + restUp > 0 ? down[t] / (down[t] + restUp) : 0;
    const hi = up[t] + restDown > 0 ? up[t] / (up[t] + restDown) : 1;
    dev[t] = Math.max(hi - p[t], p[t] - lo, 0) * (1 + 1e-12) + 1e-300;
  }
  return { dev, rho: F_FN + gamma(T + 1) + 2 * U32 };
}

/**
 * Bound for one attention output o_d = Σ_t p̂_t v_{t,d}, given the weight
 * deviations of its head: the weights' movement Σ dev_t|v_t| (each weight also
 * off by ρ relative), then the weighted sum of T values (γ_{T+1}, doubled for
 * backends that normalise after summing) and the reference's rounding.
 * The output is a convex combination, so it is never off by more than 2·max|v|.
 */
export function attentionBound(w: { dev: Float64Array; rho: number }, p: Float64Array, v: Float64Array, T: number): number {
  const gT = gamma(T + 1);
  let move = 0;
  let pv = 0;
  let out = 0;
  let maxV = 0;
  for (let t = 0; t < T; t++) {
    const av = Math.abs(v[t]);
    move += w.dev[t] * av;
    pv += p[t] * av;
    out += p[t] * v[t];
    if (av > maxV) maxV = av;
  }
  const hatPv = (pv + move) * (1 + w.rho); // Σ p̂|v|
  const total = move + w.rho * (pv + move) + 2 * gT * hatPv + U32 * Math.abs(out) + (T + 2) * FLT_MIN;
  return Math.min(total, 2 * maxV + FLT_MIN);
}

// ---------------------------------------------------------------------------
// FFN activations

/** Global Lipschitz constants of the activations (max |act'|). */
const LIPSCHITZ: Record<string, number> = { silu: 1.0999, gelu: 1.1290, relu: 1 };

/** Evaluation error of act at a fixed float32 input x (exp/tanh within F_FN). */
export function activationEvalError(act: 'silu' | 'gelu' | 'relu', x: number, value: number): number {
  if (act === 'relu') return 0;
  if (act === 'silu') return (F_FN + 3 * U32) * Math.abs(value) + FLT_MIN;
  // gelu_tanh: 0.5·x·(1 + tanh(·)); near x → −∞ the (1 + tanh) cancels, so the
  // tanh's absolute error F_FN is multiplied by |x|/2.
  return 0.5 * Math.abs(x) * (F_FN + 4 * U32) + 3 * U32 * Math.abs(value) + FLT_MIN;
}

function actFn(act: 'silu' | 'gelu' | 'relu', x: number): number {
  if (act === 'relu') return x > 0 ? x : 0;
  if (act === 'silu') return x / (1 + Math.exp(-x));
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

/**
 * Bound on |â − a_ref| for a gated neuron a = act(g)·u, given the dot-product
 * terms of g = gate·x and u = up·x (each bound by dotBound, which already covers
 * the reference's rounding of g and u to float32).
 */
export function gatedActivationBound(act: 'silu' | 'gelu', g: DotTerms, u: DotTerms): number {
  const Eg = dotBound(g);
  const Eu = dotBound(u);
  const L = LIPSCHITZ[act];
  const A = Math.abs(actFn(act, g.y)) + L * Eg;
  const U = Math.abs(u.y) + Eu;
  const evalErr = activationEvalError(act, g.y, actFn(act, g.y)) + (act === 'gelu' ? 0.5 * Eg * (F_FN + 4 * U32) : 0);
  if (Eg === 0 && Eu === 0 && evalErr === 0) return 0;
  // product in the backend + rounding of the product in the reference
  return L * Eg * U + A * Eu + evalErr * U + 2 * U32 * A * U + FLT_MIN;
}

/** Bound for a non-gated neuron a = act(pre), pre = up·x + b. */
export function plainActivationBound(act: 'relu' | 'gelu', pre: DotTerms): number {
  const E = dotBound(pre);
  if (act === 'relu') {
    // relu is monotone: the exact image of the interval [pre − E, pre + E].
    const a = actFn('relu', pre.y);
    return Math.max(Math.abs(actFn('relu', pre.y + E) - a), Math.abs(actFn('relu', pre.y - E) - a));
  }
  const value = actFn('gelu', pre.y);
  return LIPSCHITZ.gelu * E + activationEvalError('gelu', pre.y + E, value) + 0.5 * E * (F_FN + 4 * U32) + U32 * Math.abs(value);
}

export function activationOf(kind: string): 'silu' | 'gelu' | 'relu' {
  return kind === 'swiglu' ? 'silu' : kind === 'relu' ? 'relu' : 'gelu';
}

/** The exact (float64) activation from the dot-product terms, as the tolerance sees it. */
export function exactActivation(kind: string, g: DotTerms | null, u: DotTerms): number {
  const act = activationOf(kind);
  if (g) return actFn(act, Math.fround(g.y)) * Math.fround(u.y);
  return actFn(act, Math.fround(u.y));
}

// ---------------------------------------------------------------------------
// Logits (end to end)

/**
 * Greedy decoding compares logits; a flip of the argmax at a position where the
 * reference's top-2 margin is below this tolerance is "ambiguous" (docs/tolerances.md):
 * `legitDrift` is the largest logit deviation a legitimate float32 implementation
 * (the fp32 twin, see endToEnd.ts) shows against the reference on the same tokens.
 */
export function logitTolerance(legitDrift: number): number {
  return 4 * legitDrift + 1e-6;
}
