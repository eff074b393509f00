// The harness must catch wrong kernels and accept honest ones. Every backend in
// test/fixtures/broken-backends/ runs through the --quick conformance in child
// processes (a run computes for seconds, which must not block a vitest worker):
//  - each broken one (the reference with one realistic bug) is not conformant, with
//    the checks that its bug concerns failing — run with --only on those checks, the
//    same rows and seeds as the full --quick run, to stay fast;
//  - each honest alternative (reordered sums, Kahan, FMA, flush-to-zero,
//    flash-style attention, fp16 / bf16 weights) passes the whole --quick run;
//  - the CLI's exit codes: 1 not conformant, 0 conformant, 2 bad input.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers.js';

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
  ['f16-kv-subnormal', 'an F16 KV cache whose subnormal words read as zero', ['kernel attention (F16 KV cache)']],
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

interface JsonRow { check: string; verdict: string; message?: string }
interface Result { module: string; conformant: boolean; rows: JsonRow[] }

/**
 * All fixtures through test/fixtures/run-conformance.ts: RUNNERS child processes, each
 * running backends one after the other, so that the reference side of the checks is
 * computed once per process. Jobs are handed out one at a time to whichever runner is
 * free, longest first (the honest fixtures' whole --quick runs), so that no runner sits
 * idle while another still has a queue.
 */
const RUNNERS = 2;
const results = new Map<string, Result>();
const failures: string[] = [];

interface Job { module: string; only?: string[] }

function runner(queue: Job[]): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/run-conformance.ts'], { cwd: root });
    const next = () => {
      const job = queue.shift();
      if (job) p.stdin.write(`${JSON.stringify(job)}\n`);
      else p.stdin.end();
    };
    let buf = '';
    let err = '';
    p.stdout.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const r = JSON.parse(buf.slice(0, nl)) as Result;
        results.set(r.module, r);
        buf = buf.slice(nl + 1);
        next();
      }
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) failures.push(`runner exited ${code}: ${err.slice(-2000)}`);
      resolve();
    });
    next();
  });
}

describe('tda conformance --quick on the fixture backends', () => {
  beforeAll(async () => {
    const queue: Job[] = [
      ...HONEST.map(([name]) => ({ module: fixture(name) })),
      ...BROKEN.map(([name, , only]) => ({ module: fixture(name), only })),
    ];
    await Promise.all(Array.from({ length: RUNNERS }, () => runner(queue)));
  }, 1_800_000);

  test('every fixture ran', () => {
    expect(failures).toEqual([]);
    expect(results.size).toBe(BROKEN.length + HONEST.length);
  });

  for (const [name, what, mustFail] of BROKEN) {
    test(`catches ${name}: ${what}`, () => {
      const r = results.get(fixture(name))!;
      expect(r.conformant).toBe(false);
      const failing = r.rows.filter((x) => x.verdict === 'fail').map((x) => x.check);
      for (const check of mustFail) expect(failing, `${name}: ${JSON.stringify(r.rows).slice(0, 3000)}`).toContain(check);
      // A failing kernel property says what broke (a shrunk counterexample's message).
      for (const row of r.rows.filter((x) => x.verdict === 'fail' && x.check.startsWith('kernel '))) {
        expect(row.message).toMatch(/bound|reference|modified|deterministic|threw/);
      }
    });
  }

  for (const [name, what] of HONEST) {
    test(`accepts ${name}: ${what}`, () => {
      const r = results.get(fixture(name))!;
      const failing = r.rows.filter((x) => x.verdict === 'fail');
      expect(failing, JSON.stringify(failing, null, 1).slice(0, 3000)).toEqual([]);
      expect(r.conformant).toBe(true);
      expect(r.rows.length).toBeGreaterThanOrEqual(8 + 9 + 4 + 5);
    });
  }
});

/** `tda …` as an asynchronous child process (test/helpers.ts). */
const tda = (args: string[]) => runCli(args).then((r) => ({ status: r.code, stdout: r.stdout, stderr: r.stderr }));

describe('tda conformance (CLI)', () => {
  test('exits 1 for a broken --backend-module and prints the failing row as a table, progress on stderr', async () => {
    const r = await tda(['conformance', '--backend-module', fixture('wrong-rope-pair'), '--quick', '--seed', '3', '--only', 'kernel rope']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/kernel rope .*FAIL/);
    expect(r.stdout).toMatch(/replay: tda conformance .*--only "kernel rope"/);
    expect(r.stdout).toMatch(/verdict: NOT CONFORMANT/);
    expect(r.stderr).toMatch(/FAIL {2}kernel rope/);
    expect(r.stderr).toMatch(/NOT conformant/);
  }, 600_000);

  test('exits 0 for the reference (two rows, to stay fast)', async () => {
    const r = await tda(['conformance', '--backend', 'reference', '--quick', '--only', 'kernel rmsnorm', 'e2e dense']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict: CONFORMANT/);
  }, 600_000);

  test('exits 2 with one line for an unknown backend, a module that does not exist, no backend, a missing model', async () => {
    const a = await tda(['conformance', '--backend', 'no-such-backend']);
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/unknown backend "no-such-backend"/);
    const b = await tda(['conformance', '--backend-module', fixture('nope')]);
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    const c = await tda(['conformance']);
    expect(c.status).toBe(2);
    const d = await tda(['conformance', '--backend', 'reference', '--model', 'no/such/model.bin']);
    expect(d.status).toBe(2);
    expect(d.stderr.trim().split('\n')).toHaveLength(1);
  }, 300_000);
});
