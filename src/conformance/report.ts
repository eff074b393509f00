// The conformance report: one row per check, a verdict per row, and an overall
// verdict that is "conformant" only when every row passes. Printed as a table
// or as its JSON twin (same fields).

import type { BackendInfo } from '../core/kernels.js';
import { snakeKeys } from '../core/json.js';

export type Verdict = 'pass' | 'fail';

export interface Counterexample {
  /** The shrunk case, as fast-check reports it (plain numbers and strings). */
  value: unknown;
  /** fast-check seed and shrink path: `fc.assert(prop, { seed, path })` replays exactly this case. */
  seed: number;
  path: string;
  /** What went wrong on it, in one line. */
  message: string;
  /** A command that re-runs the failing check. */
  replay: string;
}

export interface ReportRow {
  backend: string;
  device: string;
  /** e.g. "kernel matvec", "mask tda (stories260K)", "e2e griffin". */
  check: string;
  /** Cases run (property runs, layers × tokens, prompts …). */
  cases: number;
  maxAbsErr: number;
  /** Largest error / bound (≤ 1 passes); for mask and token checks, mismatches beyond the tie rule. */
  maxErrOverBound: number;
  /** The bound, in words (docs/tolerances.md). */
  tolerance: string;
  verdict: Verdict;
  /** Anything a reader needs: ambiguous ties, first divergence, counterexample. */
  notes?: string;
  counterexample?: Counterexample;
}

export interface ConformanceReport {
  backend: string;
  info: BackendInfo;
  seed: number;
  runs: number;
  quick: boolean;
  rows: ReportRow[];
  conformant: boolean;
  elapsedMs: number;
}

export function finishReport(r: Omit<ConformanceReport, 'conformant'>): ConformanceReport {
  return { ...r, conformant: r.rows.length > 0 && r.rows.every((x) => x.verdict === 'pass') };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return x.toExponential(2);
}

/** The report as an aligned text table, with failures' counterexamples underneath. */
export function formatReport(r: ConformanceReport): string {
  const i = r.info;
  const head = [
    `backend ${r.backend}: ${i.engine}, ${i.mode}, ${i.device}, ${i.threads} thread(s), simd ${i.simd ? 'yes' : 'no'}, ${i.precision}`,
    `seed ${r.seed}, runs ${r.runs}${r.quick ? ' (quick)' : ''}, ${(r.elapsedMs / 1000).toFixed(1)} s`,
    '',
  ];
  const cols = ['backend', 'device', 'check', 'cases', 'max abs err', 'max err/bound', 'tolerance', 'verdict'];
  const rows = r.rows.map((x) => [
    x.backend,
    x.device.length > 28 ? `${x.device.slice(0, 27)}…` : x.device,
    x.check,
    String(x.cases),
    fmt(x.maxAbsErr),
    fmt(x.maxErrOverBound),
    x.tolerance,
    x.verdict === 'pass' ? 'PASS' : 'FAIL',
  ]);
  const widths = cols.map((c, k) => Math.max(c.length, ...rows.map((row) => row[k].length)));
  const line = (cells: string[]) => cells.map((c, k) => c.padEnd(widths[k])).join('  ').trimEnd();
  const out = [...head, line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  for (const x of r.rows) {
    if (x.notes) out.push(`${x.check}: ${x.notes}`);
    if (x.counterexample) {
      const c = x.counterexample;
      out.push(`  counterexample: ${JSON.stringify(c.value)}`);
      out.push(`  ${c.message}`);
      out.push(`  replay: ${c.replay}  (fast-check seed ${c.seed}, path "${c.path}")`);
    }
  }
  out.push('');
  out.push(r.conformant ? 'verdict: CONFORMANT' : `verdict: NOT CONFORMANT (${r.rows.filter((x) => x.verdict === 'fail').length} failing check(s))`);
  return out.join('\n');
}

/** JSON twin of the table; non-finite numbers become strings so the output stays valid JSON. */
export function reportJson(r: ConformanceReport): string {
  // snake_case keys, like every JSON the kit prints; ±∞ and NaN as strings (JSON has no such numbers).
  return JSON.stringify(snakeKeys(r), (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}
