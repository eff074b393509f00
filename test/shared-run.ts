// The CLI's conformance reports, computed once per test run (test/shared-result.ts) and
// judged by several files: test/conformance.test.ts (every backend),
// test/conformance-webgpu.test.ts and the page tests (the page's verdict must
// equal the CLI's).
import { expect, inject } from 'vitest';
import { sharedResult } from './shared-result.js';
import { type CliResult } from './helpers.js';
import { CONFORMANCE_SEED, conformanceRun } from './conformance-run.js';

export { CONFORMANCE_SEED };

/** `tda conformance --backend NAME --quick --seed CONFORMANCE_SEED --json`, once per test run. */
export function cliConformance(backend: string): Promise<CliResult> {
  return sharedResult(inject('sharedDir'), `conformance-${backend}`, () => conformanceRun(backend));
}

/** Every object key in a parsed JSON value. */
function jsonKeys(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(jsonKeys);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...jsonKeys(x)]);
  return [];
}

/**
 * A backend's whole --quick run: conformant, every row of the documented schema — or,
 * where the backend cannot load here, exit 2 with a one-line reason (never the reference).
 */
export function judgeCliConformance(name: string, r: CliResult): void {
  if (r.code === 2) {
    expect(name).not.toBe('reference');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/nothing was checked/);
    console.info(`backend ${name}: not available on this machine — ${lines[0]}`);
    return;
  }
  const report = JSON.parse(r.stdout) as { conformant: boolean; rows: { check: string; verdict: string; notes?: string }[] };
  const failing = report.rows.filter((x) => x.verdict === 'fail');
  expect(failing, JSON.stringify(failing, null, 1).slice(0, 3000)).toEqual([]);
  expect(r.code).toBe(0);
  // 7 kernels + call sequences, 9 mask rows, 4 e2e rows on stories260K and 5 on the synthetic models.
  expect(report.rows.length).toBeGreaterThanOrEqual(8 + 9 + 4 + 5);
  // The documented schema (docs/conformance.md): snake_case keys throughout.
  expect(jsonKeys(report).filter((k) => !/^[a-z0-9_]+$/.test(k))).toEqual([]);
  expect(report.rows[0]).toHaveProperty('max_err_over_bound');
  expect(report).toHaveProperty('elapsed_ms');
}
