// A tiny two-layer network with hand-written gradients, for the claims that need
// training but no real model (Claim 1's sparsity-over-training, Claim 2's importance).
//
//   relu / gelu :  h = act(W x)                 logits = V h
//   swiglu      :  h = Swish(W x) ⊙ (U x)       logits = V h     (W = gate, U = up)
//   loss        :  cross-entropy of softmax(logits) against an integer label
//
// Weights are Float64Array, row-major: W, U are dFf × dIn (one row per neuron, as the
// reference keeps gate/up rows), V is dOut × dFf.

import { Rng } from './rng.js';
import { swish, swishDeriv } from './ce-gradient.js';

export type Activation = 'relu' | 'gelu' | 'swiglu';

export interface TinyNet {
  act: Activation;
  dIn: number;
  dFf: number;
  dOut: number;
  W: Float64Array;
  U: Float64Array | null;
  V: Float64Array;
}

export interface TinyGrads {
  W: Float64Array;
  U: Float64Array | null;
  V: Float64Array;
}

const GELU_C = 0.7978845608028654;
export const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
export const geluDeriv = (x: number): number => {
  const t = Math.tanh(GELU_C * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
};

/** Gaussian init: W, U ~ N(0, gain²/dIn), V ~ N(0, 1/dFf). */
export function initTinyNet(act: Activation, dIn: number, dFf: number, dOut: number, rng: Rng, gain = 1): TinyNet {
  const g = (n: number, sd: number) => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * sd;
    return a;
  };
  return {
    act,
    dIn,
    dFf,
    dOut,
    W: g(dFf * dIn, gain / Math.sqrt(dIn)),
    U: act === 'swiglu' ? g(dFf * dIn, gain / Math.sqrt(dIn)) : null,
    V: g(dOut * dFf, 1 / Math.sqrt(dFf)),
  };
}

export function zeroGrads(net: TinyNet): TinyGrads {
  return { W: new Float64Array(net.W.length), U: net.U ? new Float64Array(net.U.length) : null, V: new Float64Array(net.V.length) };
}

export interface Forward {
  pre: Float64Array;
  up: Float64Array | null;
  h: Float64Array;
  logits: Float64Array;
  probs: Float64Array;
}

/** Buffers for one forward pass of `net` (training reuses them instead of allocating per example). */
export function forwardBuffers(net: TinyNet): Forward {
  const n = net.dFf;
  return { pre: new Float64Array(n), up: net.U ? new Float64Array(n) : null, h: new Float64Array(n), logits: new Float64Array(net.dOut), probs: new Float64Array(net.dOut) };
}

/** Forward pass for one input (x read from X at `off`), into `out` (fresh buffers by default). */
export function forward(net: TinyNet, X: ArrayLike<number>, off = 0, out: Forward = forwardBuffers(net)): Forward {
  const { dIn, dFf, dOut, W, U, V } = net;
  const { pre, up, h, logits, probs } = out;
  for (let j = 0; j < dFf; j++) {
    let s = 0;
    let su = 0;
    const b = j * dIn;
    for (let k = 0; k < dIn; k++) {
      s += W[b + k] * X[off + k];
      if (U) su += U[b + k] * X[off + k];
    }
    pre[j] = s;
    if (up) up[j] = su;
    h[j] = net.act === 'relu' ? (s > 0 ? s : 0) : net.act === 'gelu' ? gelu(s) : swish(s) * su;
  }
  let max = -Infinity;
  for (let m = 0; m < dOut; m++) {
    let s = 0;
    const b = m * dFf;
    for (let j = 0; j < dFf; j++) s += V[b + j] * h[j];
    logits[m] = s;
    if (s > max) max = s;
  }
  let z = 0;
  for (let m = 0; m < dOut; m++) (probs[m] = Math.exp(logits[m] - max)), (z += probs[m]);
  for (let m = 0; m < dOut; m++) probs[m] /= z;
  return { pre, up, h, logits, probs };
}

/**
 * Cross-entropy loss of one example and its gradient, added (times `scale`) into `g`.
 * Also returns ∂ℓ/∂h (length dFf) for importance computations.
 */
export function exampleGrad(
  net: TinyNet,
  X: ArrayLike<number>,
  off: number,
  label: number,
  g: TinyGrads,
  scale = 1,
  scratch: GradScratch = gradScratch(net),
): { loss: number; dh: Float64Array; fw: Forward } {
  const { dIn, dFf, dOut, U, V } = net;
  const { fw, dlog, dh } = scratch;
  forward(net, X, off, fw);
  const loss = -Math.log(Math.max(fw.probs[label], 1e-300));
  for (let m = 0; m < dOut; m++) dlog[m] = fw.probs[m] - (m === label ? 1 : 0);
  dh.fill(0);
  for (let m = 0; m < dOut; m++) {
    const b = m * dFf;
    const d = dlog[m];
    for (let j = 0; j < dFf; j++) {
      g.V[b + j] += scale * d * fw.h[j];
      dh[j] += d * V[b + j];
    }
  }
  for (let j = 0; j < dFf; j++) {
    const p = fw.pre[j];
    let dpre: number;
    let dup = 0;
    if (net.act === 'relu') dpre = p > 0 ? dh[j] : 0;
    else if (net.act === 'gelu') dpre = dh[j] * geluDeriv(p);
    else {
      dpre = dh[j] * swishDeriv(p) * fw.up![j];
      dup = dh[j] * swish(p);
    }
    const b = j * dIn;
    if (dpre !== 0) for (let k = 0; k < dIn; k++) g.W[b + k] += scale * dpre * X[off + k];
    if (U && dup !== 0) for (let k = 0; k < dIn; k++) g.U![b + k] += scale * dup * X[off + k];
  }
  return { loss, dh, fw };
}

/** Working buffers of exampleGrad; the returned dh and fw live in them until the next call. */
export interface GradScratch {
  fw: Forward;
  dlog: Float64Array;
  dh: Float64Array;
}

export function gradScratch(net: TinyNet): GradScratch {
  return { fw: forwardBuffers(net), dlog: new Float64Array(net.dOut), dh: new Float64Array(net.dFf) };
}

/** Mean loss over n examples and the gradient of the mean. */
export function batchLossAndGrad(net: TinyNet, X: Float64Array, labels: Int32Array): { loss: number; grads: TinyGrads } {
  const n = labels.length;
  const grads = zeroGrads(net);
  const scratch = gradScratch(net);
  let loss = 0;
  for (let t = 0; t < n; t++) loss += exampleGrad(net, X, t * net.dIn, labels[t], grads, 1 / n, scratch).loss;
  return { loss: loss / n, grads };
}

export function batchLoss(net: TinyNet, X: Float64Array, labels: Int32Array): number {
  const fw = forwardBuffers(net);
  let loss = 0;
  for (let t = 0; t < labels.length; t++) loss -= Math.log(Math.max(forward(net, X, t * net.dIn, fw).probs[labels[t]], 1e-300));
  return loss / labels.length;
}

/** Plain gradient descent step: θ ← θ − lr·∇. */
export function gdStep(net: TinyNet, g: TinyGrads, lr: number): void {
  for (let i = 0; i < net.W.length; i++) net.W[i] -= lr * g.W[i];
  if (net.U && g.U) for (let i = 0; i < net.U.length; i++) net.U[i] -= lr * g.U[i];
  for (let i = 0; i < net.V.length; i++) net.V[i] -= lr * g.V[i];
}

/** Hidden activations of n inputs: n × dFf row-major. */
export function hiddenActivations(net: TinyNet, X: Float64Array, n: number): Float64Array {
  const H = new Float64Array(n * net.dFf);
  const fw = forwardBuffers(net);
  for (let t = 0; t < n; t++) H.set(forward(net, X, t * net.dIn, fw).h, t * net.dFf);
  return H;
}

export interface SparsityFigures {
  /** Fraction of activations exactly 0. */
  exactZero: number;
  /** Fraction with |h| ≤ eps · (that input's largest |h|). */
  relEps: number;
  /** 1 − (fewest neurons holding `mass` of the input's Σ|h|) / dFf, averaged over inputs. */
  massSparsity: number;
}

/** Activation sparsity of H (n × dFf) under three definitions. */
export function activationSparsity(H: Float64Array, n: number, dFf: number, eps = 0.05, mass = 0.9): SparsityFigures {
  let zero = 0;
  let small = 0;
  let massSum = 0;
  const a = new Float64Array(dFf);
  for (let t = 0; t < n; t++) {
    let max = 0;
    let total = 0;
    for (let j = 0; j < dFf; j++) {
      const v = Math.abs(H[t * dFf + j]);
      a[j] = v;
      if (v === 0) zero++;
      if (v > max) max = v;
      total += v;
    }
    for (let j = 0; j < dFf; j++) if (a[j] <= eps * max) small++;
    a.sort();
    let acc = 0;
    let kept = 0;
    for (let j = dFf - 1; j >= 0 && acc < mass * total; j--) (acc += a[j]), kept++;
    massSum += 1 - kept / dFf;
  }
  return { exactZero: zero / (n * dFf), relEps: small / (n * dFf), massSparsity: massSum / n };
}

export interface Dataset {
  X: Float64Array;
  labels: Int32Array;
  n: number;
  dIn: number;
}

/** Inputs x ~ N(mean, I); labels from a fixed random teacher network argmax(T2·relu(T1·x)). */
export function teacherDataset(rng: Rng, teacher: TinyNet, n: number, mean?: Float64Array): Dataset {
  const dIn = teacher.dIn;
  const X = new Float64Array(n * dIn);
  const labels = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < dIn; k++) X[t * dIn + k] = rng.normal() + (mean ? mean[k] : 0);
    const p = forward(teacher, X, t * dIn).logits;
    let best = 0;
    for (let m = 1; m < p.length; m++) if (p[m] > p[best]) best = m;
    labels[t] = best;
  }
  return { X, labels, n, dIn };
}

export interface TrainTrace {
  steps: number[];
  loss: number[];
  sparsity: SparsityFigures[];
  /** Mean of the positive pre-activation values (how far active neurons sit above 0). */
  meanPositivePre: number[];
}

/** Full-batch gradient descent; records loss and held-out sparsity every `every` steps (and at 0). */
export function trainTiny(net: TinyNet, train: Dataset, held: Dataset, steps: number, lr: number, every: number): TrainTrace {
  const trace: TrainTrace = { steps: [], loss: [], sparsity: [], meanPositivePre: [] };
  const record = (step: number) => {
    trace.steps.push(step);
    trace.loss.push(batchLoss(net, held.X, held.labels));
    trace.sparsity.push(activationSparsity(hiddenActivations(net, held.X, held.n), held.n, net.dFf));
    let s = 0;
    let c = 0;
    const fw = forwardBuffers(net);
    for (let t = 0; t < held.n; t++) {
      const pre = forward(net, held.X, t * net.dIn, fw).pre;
      for (const p of pre) if (p > 0) (s += p), c++;
    }
    trace.meanPositivePre.push(c ? s / c : 0);
  };
  record(0);
  for (let step = 1; step <= steps; step++) {
    gdStep(net, batchLossAndGrad(net, train.X, train.labels).grads, lr);
    if (step % every === 0 || step === steps) record(step);
  }
  return trace;
}

