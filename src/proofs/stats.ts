// Estimators used by the spec checks: running mean with a confidence interval,
// Student-t quantiles, Pearson and Spearman correlation.

/** Welford's running mean/variance; `ci()` is the two-sided 95% interval of the mean. */
export class RunningMean {
  n = 0;
  mean = 0;
  private m2 = 0;

  push(x: number): void {
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }

  /** Unbiased sample variance (NaN for n < 2). */
  get variance(): number {
    return this.n > 1 ? this.m2 / (this.n - 1) : NaN;
  }

  get sd(): number {
    return Math.sqrt(this.variance);
  }

  /** Standard error of the mean. */
  get se(): number {
    return this.sd / Math.sqrt(this.n);
  }

  /** 95% confidence interval of the mean (Student t with n−1 degrees of freedom). */
  ci(): [number, number] {
    const h = tQuantile975(this.n - 1) * this.se;
    return [this.mean - h, this.mean + h];
  }
}

export interface MeanCI {
  mean: number;
  sd: number;
  n: number;
  lo: number;
  hi: number;
}

export function meanCI(xs: ArrayLike<number>): MeanCI {
  const r = new RunningMean();
  for (let i = 0; i < xs.length; i++) r.push(xs[i]);
  const [lo, hi] = r.ci();
  return { mean: r.mean, sd: r.sd, n: r.n, lo, hi };
}

/**
 * 97.5% quantile of Student's t with `df` degrees of freedom: exact table for small df,
 * Cornish–Fisher expansion around the normal quantile beyond (error < 1e-3 for df ≥ 10).
 */
export function tQuantile975(df: number): number {
  const table = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];
  if (!(df >= 1)) return NaN;
  if (df < table.length) return table[Math.floor(df)];
  const z = 1.959963984540054;
  const z3 = z * z * z;
  const z5 = z3 * z * z;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df);
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new Error('pearson: length mismatch');
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n, ties given their average rank. */
export function ranks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[idx[j + 1]] === x[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson on average ranks). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

/** Standard normal CDF Φ(z) (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * Two-sided p-value of "mean = 0" from a mean and its standard error, by the normal
 * approximation (the Monte-Carlo and bootstrap sample sizes here are ≥ 100).
 */
export function twoSidedP(mean: number, se: number): number {
  if (!(se > 0)) return mean === 0 ? 1 : 0;
  return 2 * (1 - normalCdf(Math.abs(mean / se)));
}

/**
 * Percentile bootstrap of the mean of `xs`: 95% interval from `resamples` resamples
 * drawn with `uniform` (a seeded generator in [0, 1)), plus the bootstrap standard error.
 */
export function bootstrapMeanCI(xs: ArrayLike<number>, uniform: () => number, resamples = 2000): MeanCI & { se: number } {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i] / n;
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[Math.floor(uniform() * n)];
    means[b] = s / n;
  }
  means.sort();
  const q = (p: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(p * (resamples - 1))))];
  const bm = means.reduce((a, v) => a + v, 0) / resamples;
  const se = Math.sqrt(means.reduce((a, v) => a + (v - bm) ** 2, 0) / (resamples - 1));
  const sd = meanCI(xs).sd;
  return { mean, sd, n, lo: q(0.025), hi: q(0.975), se };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
export function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| ≥ |t|), from
 * Simpson's rule on the density over [0, |t|] (2000 panels; error far below the 1e-4
 * that a 5% decision needs).
 */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  const a = Math.abs(t);
  const logC = lnGamma((df + 1) / 2) - lnGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  const f = (x: number) => Math.exp(logC - ((df + 1) / 2) * Math.log1p((x * x) / df));
  const m = 2000;
  const h = a / m;
  let s = f(0) + f(a);
  for (let i = 1; i < m; i++) s += (i % 2 ? 4 : 2) * f(i * h);
  return Math.max(0, 1 - (2 * s * h) / 3);
}

/** Two-sided one-sample t-test p-value of "mean = 0" for a MeanCI. */
export function tTestP(m: MeanCI): number {
  return studentTwoSidedP(m.mean / (m.sd / Math.sqrt(m.n)), m.n - 1);
}
