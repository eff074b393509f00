// Activation-pattern measures for the real-model checks (MOYU §4.2 Figure 2, TDA §3.4
// Figures 6–10 and Appendix D Table 5 / Figure 11).
//
// A *pattern* here is a matrix rows × neurons (one row per token, or one row per
// layer statistic). Everything is pure and deterministic so the tests can check it
// on inputs with known answers.

import { meanCI, tQuantile975 } from './stats.js';

/** Indices of the k largest |values| in ascending id order (ties: lower id first). */
export function topKAbs(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`topKAbs: k must be an integer in [0, ${n}], got ${k}`);
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => Math.abs(values[y]) - Math.abs(values[x]) || x - y);
  return Int32Array.from(order.slice(0, k)).sort();
}

/** |A ∩ B| / |A ∪ B| for two ascending id lists; two empty sets have Jaccard 1. */
export function jaccard(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  const union = a.length + b.length - inter;
  return union === 0 ? 1 : inter / union;
}

/**
 * "Vertical-line" concentration of a tokens × neurons pattern: the mean, over all
 * pairs of rows (tokens) t < u, of the Jaccard index of their top-k neuron sets
 * (by |activation|). 1 when every token's strongest k neurons are the same columns
 * (perfect vertical lines); about k/(2n−k) when the rows pick their columns
 * independently at random (see expectedRandomJaccard). Invariant to any positive
 * per-row scaling, so the per-token normalisation of the paper's figures does not
 * matter.
 */
export function meanPairwiseJaccard(rows: ArrayLike<number>[], k: number): number {
  if (rows.length < 2) throw new RangeError('meanPairwiseJaccard needs at least two rows');
  const sets = rows.map((r) => topKAbs(r, k));
  let sum = 0;
  let pairs = 0;
  for (let t = 0; t < sets.length; t++) {
    for (let u = t + 1; u < sets.length; u++) {
      sum += jaccard(sets[t], sets[u]);
      pairs++;
    }
  }
  return sum / pairs;
}

/** ln C(n, r) */
function logChoose(n: number, r: number): number {
  let s = 0;
  for (let i = 1; i <= r; i++) s += Math.log(n - r + i) - Math.log(i);
  return s;
}

/**
 * E[J] for two independent uniformly random k-subsets of n items: the intersection
 * size m is hypergeometric, P(m) = C(k,m)·C(n−k,k−m)/C(n,k), and J = m/(2k−m).
 */
export function expectedRandomJaccard(n: number, k: number): number {
  if (k === 0) return 1;
  let e = 0;
  const lTotal = logChoose(n, k);
  for (let m = Math.max(0, 2 * k - n); m <= k; m++) {
    const p = Math.exp(logChoose(k, m) + logChoose(n - k, k - m) - lTotal);
    e += (p * m) / (2 * k - m);
  }
  return e;
}

/**
 * Secondary concentration measure (Griffin's "flocking" view): rows are scaled to
 * unit max |value|, then the share of the total mass that falls in the `kCols`
 * columns with the largest column sums. 1 when all mass sits in kCols columns;
 * kCols/n for a uniform pattern.
 */
export function topColumnMassShare(rows: ArrayLike<number>[], kCols: number): number {
  const n = rows[0].length;
  const col = new Float64Array(n);
  for (const r of rows) {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(r[i]));
    if (m === 0) continue;
    for (let i = 0; i < n; i++) col[i] += Math.abs(r[i]) / m;
  }
  const total = col.reduce((s, v) => s + v, 0);
  if (total === 0) return NaN;
  const sorted = Array.from(col).sort((x, y) => y - x);
  return sorted.slice(0, kCols).reduce((s, v) => s + v, 0) / total;
}

/** Rows scaled to |value| / max_i |value| (the normalisation of the heatmaps). */
export function rowMaxNormalised(rows: ArrayLike<number>[]): Float64Array[] {
  return rows.map((r) => {
    let m = 0;
    for (let i = 0; i < r.length; i++) m = Math.max(m, Math.abs(r[i]));
    return Float64Array.from({ length: r.length }, (_, i) => (m > 0 ? Math.abs(r[i]) / m : 0));
  });
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError('cosine: length mismatch');
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? NaN : ab / Math.sqrt(aa * bb);
}

/** A per-layer pattern: one vector per layer. */
export type LayerPattern = ArrayLike<number>[];

/** Mean over layers of the Jaccard index of the top-⌈fraction·n⌉ sets (by |value|). */
export function topFractionJaccard(a: LayerPattern, b: LayerPattern, fraction: number): number {
  if (a.length !== b.length) throw new RangeError('topFractionJaccard: layer count mismatch');
  let s = 0;
  for (let l = 0; l < a.length; l++) {
    const k = Math.ceil(fraction * a[l].length);
    s += jaccard(topKAbs(a[l], k), topKAbs(b[l], k));
  }
  return s / a.length;
}

/** Mean over layers of the cosine similarity of the per-layer vectors. */
export function layerCosine(a: LayerPattern, b: LayerPattern): number {
  if (a.length !== b.length) throw new RangeError('layerCosine: layer count mismatch');
  let s = 0;
  for (let l = 0; l < a.length; l++) s += cosine(a[l], b[l]);
  return s / a.length;
}

/** Symmetric matrix S[i][j] = sim(p_i, p_j), computed once per pair; the diagonal is sim(p_i, p_i). */
export function similarityMatrix<P>(patterns: P[], sim: (a: P, b: P) => number): Float64Array[] {
  const n = patterns.length;
  const S = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = sim(patterns[i], patterns[j]);
      S[i][j] = v;
      S[j][i] = v;
    }
  }
  return S;
}

/**
 * Welch 95% interval for mean(a) − mean(b) (independent groups, unequal variances,
 * Welch–Satterthwaite degrees of freedom).
 */
export function welchDiffCI(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; lo: number; hi: number; df: number } {
  const ma = meanCI(a);
  const mb = meanCI(b);
  const va = ma.sd ** 2 / ma.n;
  const vb = mb.sd ** 2 / mb.n;
  const se = Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / ((va * va) / (ma.n - 1) + (vb * vb) / (mb.n - 1));
  const diff = ma.mean - mb.mean;
  if (se === 0) return { diff, lo: diff, hi: diff, df: Infinity };
  const h = tQuantile975(Math.max(1, Math.floor(df))) * se;
  return { diff, lo: diff - h, hi: diff + h, df };
}
