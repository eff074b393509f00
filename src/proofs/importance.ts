// Claim 2 machinery (MOYU §4.1 Eq 7–10 / TDA §3.2 Eq 6–9): accumulated gradient
// importance of weights over a history of inputs.
//
//   Θ_i = Σ_{t≤i} |c ∘ ∇_t|                       (MOYU Eq 10, first line)
//       = c ∘ Σ_{t≤i} |∇_t|                       (needs c ≥ 0 elementwise: c = |V|)
//       = c ∘ |∇_i| + Θ_{i−1}                     (the recursion, with the absolute value kept)
//   paper's next line:  c ∘ (∇_i + Σ_{t<i} ∇_t)   (drops |·|: equal only when every
//                                                 coordinate's gradients share one sign)
//
// Here a "coordinate" is one input weight of one hidden neuron (row j of W, and of U for
// SwiGLU) of a TinyNet, ∇_t is the gradient of example t's loss, and c_j = ‖V[:, j]‖₁
// (the |V| factor of Eq 10, one per neuron).

import { exampleGrad, zeroGrads, type Dataset, type TinyNet } from './tinynet.js';

/** Number of input-weight coordinates of one neuron. */
export const rowLength = (net: TinyNet): number => (net.U ? 2 * net.dIn : net.dIn);

/** c_j = ‖V[:, j]‖₁ for each neuron j. */
export function outputScale(net: TinyNet): Float64Array {
  const c = new Float64Array(net.dFf);
  for (let m = 0; m < net.dOut; m++) for (let j = 0; j < net.dFf; j++) c[j] += Math.abs(net.V[m * net.dFf + j]);
  return c;
}

/** Gradient of one example's loss with respect to every neuron's input weights: dFf × rowLength. */
export function neuronGradient(net: TinyNet, data: Dataset, t: number): Float64Array {
  const g = zeroGrads(net);
  exampleGrad(net, data.X, t * net.dIn, data.labels[t], g);
  const L = rowLength(net);
  const out = new Float64Array(net.dFf * L);
  for (let j = 0; j < net.dFf; j++) {
    for (let k = 0; k < net.dIn; k++) out[j * L + k] = g.W[j * net.dIn + k];
    if (g.U) for (let k = 0; k < net.dIn; k++) out[j * L + net.dIn + k] = g.U[j * net.dIn + k];
  }
  return out;
}

export interface ImportanceTrace {
  /** Θ by the definition Σ_t |c ∘ ∇_t| (per coordinate). */
  direct: Float64Array;
  /** Θ by the recursion Θ_i = c ∘ |∇_i| + Θ_{i−1}. */
  recursive: Float64Array;
  /** c ∘ |Σ_t ∇_t| — what the paper's dropped-absolute-value line computes (made non-negative). */
  signed: Float64Array;
  /** Fraction of coordinates whose gradients over the history take both signs. */
  mixedSignFraction: number;
}

/** Accumulate Θ over the examples of `data` (in order), three ways. */
export function accumulateImportance(net: TinyNet, data: Dataset): ImportanceTrace {
  const L = rowLength(net);
  const n = net.dFf * L;
  const c = outputScale(net);
  const absSum = new Float64Array(n);
  const sum = new Float64Array(n);
  const direct = new Float64Array(n);
  const recursive = new Float64Array(n);
  const seenPos = new Uint8Array(n);
  const seenNeg = new Uint8Array(n);
  for (let t = 0; t < data.n; t++) {
    const g = neuronGradient(net, data, t);
    for (let q = 0; q < n; q++) {
      const cj = c[Math.floor(q / L)];
      direct[q] += Math.abs(cj * g[q]); // Σ |c∘∇_t|
      recursive[q] = cj * Math.abs(g[q]) + recursive[q]; // c∘|∇_i| + Θ_{i−1}
      absSum[q] += Math.abs(g[q]);
      sum[q] += g[q];
      if (g[q] > 0) seenPos[q] = 1;
      else if (g[q] < 0) seenNeg[q] = 1;
    }
  }
  const signed = new Float64Array(n);
  let mixed = 0;
  for (let q = 0; q < n; q++) {
    signed[q] = c[Math.floor(q / L)] * Math.abs(sum[q]);
    if (seenPos[q] && seenNeg[q]) mixed++;
  }
  return { direct, recursive, signed, mixedSignFraction: mixed / n };
}

/** Per-neuron totals of a per-coordinate importance vector. */
export function perNeuron(net: TinyNet, perCoordinate: Float64Array): Float64Array {
  const L = rowLength(net);
  const out = new Float64Array(net.dFf);
  for (let q = 0; q < perCoordinate.length; q++) out[Math.floor(q / L)] += perCoordinate[q];
  return out;
}

/** Current weight magnitude of each neuron: c_j · ‖θ_j‖₁ (input rows of W and U, times ‖V[:, j]‖₁). */
export function weightMagnitude(net: TinyNet): Float64Array {
  const c = outputScale(net);
  const out = new Float64Array(net.dFf);
  for (let j = 0; j < net.dFf; j++) {
    let s = 0;
    for (let k = 0; k < net.dIn; k++) {
      s += Math.abs(net.W[j * net.dIn + k]);
      if (net.U) s += Math.abs(net.U[j * net.dIn + k]);
    }
    out[j] = c[j] * s;
  }
  return out;
}
