// Order statistics for benchmark samples. The machine is shared and noisy, so the
// bench reports medians with the interquartile range, never means: one stall from a
// neighbour's build moves a mean a lot and a median hardly at all.

export interface Summary {
  n: number;
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
}

/** Quantile p ∈ [0, 1] by linear interpolation between order statistics (type 7, as R and numpy default). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function median(values: ArrayLike<number>): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = Float64Array.from(values).sort();
  return {
    n: s.length,
    median: quantile(s, 0.5),
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
    min: s.length ? s[0] : NaN,
    max: s.length ? s[s.length - 1] : NaN,
  };
}

/** Interquartile range relative to the median: the spread figure shown in tables. */
export function relativeIqr(s: Summary): number {
  return s.median > 0 ? (s.q3 - s.q1) / s.median : NaN;
}
