// The harness must catch wrong kernels: each deliberately broken backend in
// test/fixtures/broken-backends/ (the reference with one bug) is reported as
// non-conformant, on the check that the bug concerns; the reference is conformant;
// and the CLI exits 1 for a broken --backend-module, 0 for the reference, 2 for
// bad input.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { referenceBackend } from '../src/backends/reference/index.js';
import type { Backend } from '../src/core/kernels.js';
import { formatReport, reportJson, runConformance } from '../src/conformance/index.js';
import dropped from './fixtures/broken-backends/dropped-term.js';
import offByOne from './fixtures/broken-backends/off-by-one-kept.js';
import tieFlip from './fixtures/broken-backends/tie-flip.js';
import ulpDrift from './fixtures/broken-backends/ulp-drift.js';
import wrongRope from './fixtures/broken-backends/wrong-rope-pair.js';

const SEED = 7;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each broken backend, and the checks that must fail on it (all other rows may pass). */
const CASES: [string, Backend, string[]][] = [
  ['off-by-one neuron in the sliced FFN', offByOne, ['kernel ffnSliced', 'e2e griffin', 'e2e tda']],
  ['a dropped term in ffnDown', dropped, ['kernel ffnDown', 'e2e dense']],
  ['a 1-ulp-per-step drift in matvec', ulpDrift, ['kernel matvec']],
  ['a wrong RoPE pair', wrongRope, ['kernel rope', 'e2e dense']],
  ['a tie at the threshold flipped', tieFlip, ['mask tt (grid ties)', 'mask tda (grid ties)']],
];

describe('the harness reports broken backends as non-conformant', () => {
  for (const [what, backend, mustFail] of CASES) {
    test(what, async () => {
      const report = await runConformance(backend, { quick: true, seed: SEED });
      expect(report.conformant).toBe(false);
      const failing = report.rows.filter((r) => r.verdict === 'fail').map((r) => r.check);
      for (const check of mustFail) expect(failing, formatReport(report)).toContain(check);
      // A kernel failure comes with a shrunk, replayable counterexample.
      for (const r of report.rows.filter((x) => x.verdict === 'fail' && x.check.startsWith('kernel'))) {
        expect(r.counterexample).toBeDefined();
        expect(typeof r.counterexample!.seed).toBe('number');
        expect(r.counterexample!.message).toMatch(/bound|reference|modified|threw/);
      }
      // The JSON twin carries the same verdict.
      expect(JSON.parse(reportJson(report)).conformant).toBe(false);
    }, 120_000);
  }

  test('the reference backend is conformant', async () => {
    const report = await runConformance(referenceBackend, { quick: true, seed: SEED });
    expect(report.conformant, formatReport(report)).toBe(true);
  }, 120_000);
});

function tda(args: string[]) {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'tda.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

describe('tda conformance (CLI)', () => {
  test('exits 1 for a broken --backend-module and prints the failing row', () => {
    const r = tda(['conformance', '--backend-module', 'test/fixtures/broken-backends/wrong-rope-pair.ts', '--quick', '--seed', '3', '--json']);
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.conformant).toBe(false);
    expect(report.rows.find((x: { check: string }) => x.check === 'kernel rope').verdict).toBe('fail');
    expect(r.stderr).toMatch(/NOT conformant/);
  }, 120_000);

  test('exits 0 for the reference (only the quick kernel and e2e dense checks, to stay fast)', () => {
    const r = tda(['conformance', '--backend', 'reference', '--quick', '--only', 'kernel', 'e2e dense']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict: CONFORMANT/);
  }, 120_000);

  test('exits 2 with one line for an unknown backend or a module that does not exist', () => {
    const a = tda(['conformance', '--backend', 'no-such-backend']);
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/unknown backend "no-such-backend"/);
    const b = tda(['conformance', '--backend-module', 'test/fixtures/broken-backends/nope.ts']);
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    const c = tda(['conformance']);
    expect(c.status).toBe(2);
  }, 60_000);
});
