// A DejaVu-style activation predictor (Liu et al. 2023, cited by TDA §1–2 and Table 2):
// a low-rank router z = B·(A·x) + b, trained on a layer's own activations to predict
// which FFN neurons of that layer are active, then used to pick the neurons to compute.
// Rank r ≪ d_ff, two linear layers as in DejaVu's MLP sparsity predictor; trained with
// binary cross-entropy on the neuron labels, Adam, minibatches.

import type { Rng } from './rng.js';

export interface Router {
  dIn: number;
  rank: number;
  dOut: number;
  /** rank × dIn, row-major. */
  A: Float64Array;
  /** dOut × rank. */
  B: Float64Array;
  b: Float64Array;
}

export function initRouter(dIn: number, rank: number, dOut: number, rng: Rng): Router {
  const g = (n: number, sd: number) => Float64Array.from({ length: n }, () => rng.normal() * sd);
  return { dIn, rank, dOut, A: g(rank * dIn, 1 / Math.sqrt(dIn)), B: g(dOut * rank, 1 / Math.sqrt(rank)), b: new Float64Array(dOut) };
}

/** Router logits for the input at X[off .. off + dIn); `hidden` receives A·x when given. */
export function routerLogits(r: Router, X: ArrayLike<number>, off = 0, hidden = new Float64Array(r.rank)): Float64Array {
  for (let k = 0; k < r.rank; k++) {
    let s = 0;
    for (let i = 0; i < r.dIn; i++) s += r.A[k * r.dIn + i] * X[off + i];
    hidden[k] = s;
  }
  const z = Float64Array.from(r.b);
  for (let j = 0; j < r.dOut; j++) for (let k = 0; k < r.rank; k++) z[j] += r.B[j * r.rank + k] * hidden[k];
  return z;
}

/** Mean binary cross-entropy of sigmoid(z) against 0/1 labels (numerically stable form). */
export function bceLoss(z: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < z.length; j++) s += Math.max(z[j], 0) - z[j] * labels[j] + Math.log1p(Math.exp(-Math.abs(z[j])));
  return s / z.length;
}

export interface RouterData {
  /** n × dIn inputs, row-major. */
  X: Float64Array;
  /** n × dOut labels in {0, 1}. */
  Y: Float64Array;
  n: number;
}

/** Mean BCE of the router over a data set. */
export function routerLoss(r: Router, d: RouterData): number {
  let s = 0;
  for (let e = 0; e < d.n; e++) s += bceLoss(routerLogits(r, d.X, e * r.dIn), d.Y.subarray(e * r.dOut, (e + 1) * r.dOut));
  return s / d.n;
}

export interface TrainOptions {
  steps: number;
  batch: number;
  lr: number;
}

/** Adam on minibatches drawn with replacement; returns the training loss before and after. */
export function trainRouter(r: Router, d: RouterData, o: TrainOptions, rng: Rng): { before: number; after: number } {
  const before = routerLoss(r, d);
  const params = [r.A, r.B, r.b];
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const grads = params.map((p) => new Float64Array(p.length));
  const [gA, gB, gb] = grads;
  const hidden = new Float64Array(r.rank);
  const dHidden = new Float64Array(r.rank);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let t = 1; t <= o.steps; t++) {
    grads.forEach((g) => g.fill(0));
    for (let s = 0; s < o.batch; s++) {
      const e = rng.int(d.n);
      const z = routerLogits(r, d.X, e * r.dIn, hidden);
      dHidden.fill(0);
      for (let j = 0; j < r.dOut; j++) {
        // ∂BCE/∂z = sigmoid(z) − y, averaged over neurons and the batch.
        const dz = (1 / (1 + Math.exp(-z[j])) - d.Y[e * r.dOut + j]) / (r.dOut * o.batch);
        gb[j] += dz;
        for (let k = 0; k < r.rank; k++) {
          gB[j * r.rank + k] += dz * hidden[k];
          dHidden[k] += dz * r.B[j * r.rank + k];
        }
      }
      for (let k = 0; k < r.rank; k++) for (let i = 0; i < r.dIn; i++) gA[k * r.dIn + i] += dHidden[k] * d.X[e * r.dIn + i];
    }
    params.forEach((p, q) => {
      for (let i = 0; i < p.length; i++) {
        m[q][i] = b1 * m[q][i] + (1 - b1) * grads[q][i];
        v[q][i] = b2 * v[q][i] + (1 - b2) * grads[q][i] * grads[q][i];
        p[i] -= (o.lr * (m[q][i] / (1 - b1 ** t))) / (Math.sqrt(v[q][i] / (1 - b2 ** t)) + eps);
      }
    });
  }
  return { before, after: routerLoss(r, d) };
}

/** The k indices with the largest values, ascending; ties go to the lower index. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  return order.slice(0, k).sort((a, b) => a - b);
}

export interface PredictionScore {
  /** |predicted ∩ active| / |active|, the predicted set as large as the active one (matched density). */
  recall: number;
  /** |predicted ∩ active| / |predicted| for the predicted set {j : sigmoid(z_j) > 1/2}. */
  precisionAtHalf: number;
  /** |predicted ∩ active| / |active| for the same set. */
  recallAtHalf: number;
  /** Σ_{j ∈ predicted} |h_j| / Σ_{j ∈ active} |h_j| at matched density: the activation mass kept. */
  massKept: number;
}

/** Scores of router logits z against the active set and the activations h of one input. */
export function scorePrediction(z: ArrayLike<number>, active: readonly number[], h: ArrayLike<number>): PredictionScore {
  const isActive = new Uint8Array(z.length);
  for (const j of active) isActive[j] = 1;
  const predicted = topK(z, active.length);
  const hits = predicted.filter((j) => isActive[j]).length;
  let halfHits = 0;
  let half = 0;
  for (let j = 0; j < z.length; j++) {
    if (z[j] > 0) {
      half++;
      halfHits += isActive[j];
    }
  }
  const mass = (ids: readonly number[]) => ids.reduce((s, j) => s + Math.abs(h[j]), 0);
  const activeMass = mass(active);
  return {
    recall: active.length ? hits / active.length : 1,
    precisionAtHalf: half ? halfHits / half : 1,
    recallAtHalf: active.length ? halfHits / active.length : 1,
    massKept: activeMass > 0 ? mass(predicted) / activeMass : 1,
  };
}
