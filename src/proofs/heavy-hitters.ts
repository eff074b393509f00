// Claim 3 machinery (MOYU §4.2 / TDA §3.3 Definition 4 and Proof 3, after H2O):
// τ-supports of attention rows and the (α, τ, k)-good mapping.
//
//   supp_τ(a) = { j : a_j ≥ τ }                       (positions holding at least τ of the mass)
//   good row:  S* ⊆ supp_τ(a)  and  |supp_τ(a) \ S*| ≤ α·k,   k = |S*|
//   conclusion for n rows a_1..a_n that are all good:
//     S* ⊆ ∩_i supp_τ(a_i)   and   |∪_i supp_τ(a_i) \ S*| ≤ α·k·n

import fc from 'fast-check';

/** An attention map: n rows, each a probability vector over m positions. */
export type AttentionMap = number[][];

export function suppTau(row: readonly number[], tau: number): number[] {
  const out: number[] = [];
  row.forEach((a, j) => {
    if (a >= tau) out.push(j);
  });
  return out;
}

export interface GoodMappingParams {
  S: number[];
  tau: number;
  alpha: number;
}

/** Is one row good: S ⊆ supp_τ and at most α·k other positions in supp_τ? */
export function isGoodRow(row: readonly number[], p: GoodMappingParams): boolean {
  const supp = new Set(suppTau(row, p.tau));
  if (!p.S.every((j) => supp.has(j))) return false;
  let extra = 0;
  for (const j of supp) if (!p.S.includes(j)) extra++;
  return extra <= p.alpha * p.S.length;
}

export interface GoodMappingResult {
  /** Every row is good (the premise). */
  premise: boolean;
  /** S ⊆ ∩ supp_τ. */
  inIntersection: boolean;
  /** |∪ supp_τ \ S|. */
  unionExcess: number;
  /** α·k·n. */
  bound: number;
  /** Both conclusions. */
  conclusion: boolean;
}

export function checkGoodMapping(map: AttentionMap, p: GoodMappingParams): GoodMappingResult {
  const premise = map.every((row) => isGoodRow(row, p));
  const supports = map.map((row) => new Set(suppTau(row, p.tau)));
  const inIntersection = p.S.every((j) => supports.every((s) => s.has(j)));
  const union = new Set<number>();
  for (const s of supports) for (const j of s) union.add(j);
  let unionExcess = 0;
  for (const j of union) if (!p.S.includes(j)) unionExcess++;
  const bound = p.alpha * p.S.length * map.length;
  return { premise, inIntersection, unionExcess, bound, conclusion: inIntersection && unionExcess <= bound };
}

export interface HeavyHitterCase {
  map: AttentionMap;
  params: GoodMappingParams;
}

/**
 * Attention maps WITH heavy hitters: every row is (α, τ, k)-good by construction.
 * Each heavy-hitter position gets τ plus a share of the leftover mass; each row picks at most ⌊α·k⌋
 * other positions that get exactly τ; every other position gets u·τ with u < 0.99, so stays below τ.
 * τ = c/m with c ≤ 1 keeps the forced mass ≤ 1.
 */
export function goodMapArbitrary(): fc.Arbitrary<HeavyHitterCase> {
  return fc
    .record({
      m: fc.integer({ min: 2, max: 12 }),
      n: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 4 }),
      alpha: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
      c: fc.double({ min: 0.2, max: 1, noNaN: true }),
    })
    .chain(({ m, n, k, alpha, c }) => {
      const kk = Math.min(k, m - 1);
      const maxExtra = Math.min(Math.floor(alpha * kk), m - kk);
      return fc.record({
        m: fc.constant(m),
        alpha: fc.constant(alpha),
        tau: fc.constant(c / m),
        S: fc.uniqueArray(fc.integer({ min: 0, max: m - 1 }), { minLength: kk, maxLength: kk }),
        rows: fc.array(
          fc.record({
            extra: fc.integer({ min: 0, max: maxExtra }),
            u: fc.array(fc.double({ min: 0, max: 0.99, noNaN: true }), { minLength: m, maxLength: m }),
            share: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: kk, maxLength: kk }),
          }),
          { minLength: n, maxLength: n },
        ),
      });
    })
    .map(({ m, alpha, tau, S, rows }) => {
      const map = rows.map(({ extra, u, share }) => {
        const row = new Array<number>(m).fill(0);
        const others = Array.from({ length: m }, (_, j) => j).filter((j) => !S.includes(j));
        others.forEach((j, idx) => (row[j] = idx < extra ? tau : u[j] * tau));
        for (const j of S) row[j] = tau;
        const left = 1 - row.reduce((a, b) => a + b, 0);
        const tot = share.reduce((a, b) => a + b, 0);
        S.forEach((j, i) => (row[j] += (left * share[i]) / tot));
        return row;
      });
      return { map, params: { S: [...S].sort((a, b) => a - b), tau, alpha } };
    });
}

/**
 * Arbitrary attention maps (softmax of unconstrained logits) with a candidate S* (the k largest
 * positions of the first row) — no heavy-hitter structure is imposed, so the premise may fail.
 */
export function anyMapArbitrary(): fc.Arbitrary<HeavyHitterCase> {
  return fc
    .record({
      m: fc.integer({ min: 2, max: 8 }),
      n: fc.integer({ min: 1, max: 4 }),
      k: fc.integer({ min: 1, max: 3 }),
      alpha: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
      tau: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    })
    .chain(({ m, n, k, alpha, tau }) =>
      fc.record({
        alpha: fc.constant(alpha),
        tau: fc.constant(tau),
        k: fc.constant(Math.min(k, m)),
        logits: fc.array(fc.array(fc.integer({ min: -4, max: 4 }), { minLength: m, maxLength: m }), { minLength: n, maxLength: n }),
      }),
    )
    .map(({ alpha, tau, k, logits }) => {
      const map = logits.map((row) => {
        const e = row.map((v) => Math.exp(v));
        const s = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / s);
      });
      const first = map[0].map((a, j) => [a, j] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
      const S = first.slice(0, k).map(([, j]) => j).sort((a, b) => a - b);
      return { map, params: { S, tau, alpha } };
    });
}

/** Printable form of a case (rounded). */
export function formatCase(c: HeavyHitterCase): string {
  const r = (v: number) => Number(v.toPrecision(3));
  return JSON.stringify({ S: c.params.S, tau: r(c.params.tau), alpha: r(c.params.alpha), map: c.map.map((row) => row.map(r)) });
}

/** Smallest number of good rows n for which the union bound α·k·n reaches m − k (is vacuous). */
export function vacuousAfter(m: number, k: number, alpha: number): number {
  return Math.ceil((m - k) / (alpha * k));
}
