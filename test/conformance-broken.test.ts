// The harness must catch wrong kernels and accept honest ones. Every backend in
// test/fixtures/broken-backends/ runs through `tda conformance --quick` in a child
// process (two at a time: each run computes for seconds, which must not block a
// vitest worker):
//  - each broken one (the reference with one realistic bug) exits 1, with the
//    checks that its bug concerns failing — run with --only on those checks, the
//    same rows and seeds as the full --quick run, to stay fast;
//  - each honest alternative (reordered sums, Kahan, FMA, flush-to-zero,
//    flash-style attention, fp16 / bf16 weights) passes the whole --quick run;
//  - the CLI's exit codes: 1 not conformant, 0 conformant, 2 bad input.

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = (name: string) => `test/fixtures/broken-backends/${name}.ts`;

/** Each broken backend and the checks that must fail on it. */
const BROKEN: [string, string, string[]][] = [
  ['off-by-one-kept', 'an off-by-one neuron in the sliced FFN', ['kernel ffnSliced', 'e2e griffin', 'e2e tda']],
  ['dropped-term', 'a dropped term in ffnDown', ['kernel ffnDown', 'e2e dense']],
  ['ulp-drift', 'a 1-ulp-per-step drift in matvec', ['kernel matvec']],
  ['wrong-rope-pair', 'a wrong RoPE pair', ['kernel rope', 'e2e dense']],
  ['tie-flip', 'a tie at the threshold flipped', ['mask tt (grid ties)', 'mask tda (grid ties)']],
  ['tail-loop', 'a vector loop tail that skips columns', ['kernel matvec']],
  ['row-tiling', 'rows past 4096 computed by the wrong tile', ['kernel matvec']],
  ['head-warp', 'head sizes that are no multiple of 32 lose dimensions', ['kernel attention']],
  ['gqa-group', 'the KV head of a query head computed for groups of 4 only', ['kernel attention']],
  ['kept-cap', 'kept lists cut at 4096 ids', ['kernel ffnDown', 'kernel ffnSliced']],
  ['cache-by-length', 'sliced rows cached by kept-list length', ['kernel call sequences', 'e2e griffin']],
  ['cache-by-buffer', 'weights cached by ArrayBuffer (views collide)', ['kernel call sequences']],
  ['stale-input', 'the FFN input cached like a weight', ['kernel call sequences']],
  ['kv-upload', 'a KV-cache mirror that misses a second prompt', ['kernel call sequences']],
  ['fp16-scores', 'attention scores in half precision', ['kernel attention']],
  ['stale-scratch', 'softmax over a stale scratch buffer', ['kernel attention', 'kernel call sequences']],
  ['mutates-input', 'q scaled in place', ['kernel attention']],
  ['nondeterministic', 'a summation order that changes per call', ['kernel matvec']],
  ['tiny-cutoff', 'activations below 1e-6 skipped', ['kernel ffnDown']],
  ['clamped-exp', 'exp clamped instead of the max subtracted', ['kernel attention']],
  // End to end alone (--only e2e): a bf16 backend's logit tolerance is tight enough to see one neuron missing.
  ['bf16-dropped-neuron', 'a bf16 backend whose sliced FFN drops one kept neuron', ['e2e tda']],
];

const HONEST: [string, string][] = [
  ['honest-pairwise', 'float32, pairwise sums'],
  ['honest-lanes8', 'float32, 8-lane sums'],
  ['honest-kahan', 'Kahan sums'],
  ['honest-fma', 'FMA accumulation'],
  ['honest-ftz', 'flush-to-zero'],
  ['honest-flash', 'flash-style attention'],
  ['honest-fp16', 'fp16 weights'],
  ['honest-bf16-trunc', 'bf16 weights by truncation'],
];

// Two child processes at a time: the machine has two cores.
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(f: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await f();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

interface Run { status: number | null; stdout: string; stderr: string }

function tdaAsync(args: string[]): Promise<Run> {
  return slot(
    () =>
      new Promise((resolve) => {
        const p = spawn(process.execPath, [path.join(root, 'bin', 'tda.js'), ...args], { cwd: root });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      }),
  );
}

interface JsonRow { check: string; verdict: string; counterexample?: { seed: number; message: string } }

describe.concurrent('tda conformance --quick on the fixture backends', () => {
  for (const [name, what, mustFail] of BROKEN) {
    test(`catches ${name}: ${what}`, async () => {
      const r = await tdaAsync(['conformance', '--backend-module', fixture(name), '--quick', '--json', '--only', ...mustFail]);
      expect(r.status, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as { conformant: boolean; rows: JsonRow[] };
      expect(report.conformant).toBe(false);
      const failing = report.rows.filter((x) => x.verdict === 'fail').map((x) => x.check);
      for (const check of mustFail) expect(failing, `${name}: ${r.stdout.slice(0, 3000)}`).toContain(check);
      // A failing kernel property comes with a shrunk, replayable counterexample.
      for (const row of report.rows.filter((x) => x.verdict === 'fail' && x.check.startsWith('kernel ') && x.check !== 'kernel call sequences')) {
        expect(typeof row.counterexample?.seed).toBe('number');
        expect(row.counterexample!.message).toMatch(/bound|reference|modified|deterministic|threw/);
      }
      expect(r.stderr).toMatch(/NOT conformant/);
    }, 300_000);
  }

  for (const [name, what] of HONEST) {
    test(`accepts ${name}: ${what}`, async () => {
      const r = await tdaAsync(['conformance', '--backend-module', fixture(name), '--quick', '--json']);
      const report = JSON.parse(r.stdout) as { conformant: boolean; rows: JsonRow[] };
      const failing = report.rows.filter((x) => x.verdict === 'fail');
      expect(failing, JSON.stringify(failing, null, 1).slice(0, 3000)).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
      // Progress went to stderr, one line per check.
      expect(r.stderr.split('\n').filter((l) => /^\s+pass\s/.test(l)).length).toBe(report.rows.length);
    }, 600_000);
  }
});

function tda(args: string[]) {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'tda.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

describe('tda conformance (CLI)', () => {
  test('exits 1 for a broken --backend-module and prints the failing row as a table', () => {
    const r = tda(['conformance', '--backend-module', fixture('wrong-rope-pair'), '--quick', '--seed', '3', '--only', 'kernel rope']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/kernel rope .*FAIL/);
    expect(r.stdout).toMatch(/replay: tda conformance .*--only "kernel rope"/);
    expect(r.stdout).toMatch(/verdict: NOT CONFORMANT/);
  }, 120_000);

  test('exits 0 for the reference (kernel rows and e2e dense, to stay fast)', () => {
    const r = tda(['conformance', '--backend', 'reference', '--quick', '--only', 'kernel', 'e2e dense']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict: CONFORMANT/);
  }, 120_000);

  test('exits 2 with one line for an unknown backend, a module that does not exist, no backend', () => {
    const a = tda(['conformance', '--backend', 'no-such-backend']);
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/unknown backend "no-such-backend"/);
    const b = tda(['conformance', '--backend-module', fixture('nope')]);
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    const c = tda(['conformance']);
    expect(c.status).toBe(2);
    const d = tda(['conformance', '--backend', 'reference', '--model', 'no/such/model.bin']);
    expect(d.status).toBe(2);
    expect(d.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
