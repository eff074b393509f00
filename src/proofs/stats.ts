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
