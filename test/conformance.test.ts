// Conformance of every backend registered in the kit that can load on this
// machine (webgpu's in test/conformance-webgpu.test.ts), with quick settings and a fixed seed, each in a child process (a run
// computes for tens of seconds, which must not block a vitest worker). An
// unavailable one (not built, no GPU, no GL) must end with exit 2 and a one-line
// reason; the reference always runs.

import { describe, expect, test } from 'vitest';
import '../src/backends/all.js';
import { registeredBackendNames } from '../src/backends/registry.js';
import { runCli } from './helpers.js';
import { CONFORMANCE_SEED, cliConformance, judgeCliConformance } from './shared-run.js';

/**
 * Where headless GL works, `gpujs` runs every kernel in GL and `gpujs-gl` is the same
 * backend that refuses to leave GL: the same kernels on the same inputs. Its whole
 * --quick run would repeat gpujs's (minutes of emulated GL), so it runs a few rows
 * — the FFN kernels and a sliced end-to-end run — to show that it loads, stays on GL
 * and passes; elsewhere it must be unavailable with its one-line reason (below).
 */
async function gpujsRanOnGl(): Promise<boolean> {
  const r = await cliConformance('gpujs');
  if (r.code === 2) return false;
  const notes = (JSON.parse(r.stdout) as { info: { notes?: string } }).info.notes ?? '';
  return notes.startsWith('headless GL:') && !notes.includes('fallback');
}

async function checkGlOnlyTwin(): Promise<void> {
  const r = await runCli(['conformance', '--backend', 'gpujs-gl', '--quick', '--seed', String(CONFORMANCE_SEED), '--json', '--only', 'kernel matvec', 'kernel ffnSliced', 'e2e tda'], {}, { timeoutMs: 25 * 60_000 });
  const report = JSON.parse(r.stdout) as { conformant: boolean; info: { notes?: string }; rows: { check: string; verdict: string }[] };
  expect(report.rows.filter((x) => x.verdict === 'fail')).toEqual([]);
  expect(r.code).toBe(0);
  expect(report.rows.map((x) => x.check)).toEqual(expect.arrayContaining(['kernel matvec', 'kernel ffnSliced', 'e2e tda']));
  expect(report.info.notes).toMatch(/^headless GL:/);
}

/**
 * The runs that take longest start first (at most maxConcurrency run at once): the
 * emulated GPUs take minutes on a busy machine, and starting them last would leave them
 * running alone at the end.
 */
const SLOWEST_FIRST = ['gpujs', 'tfjs-wasm'];
const rank = (name: string) => (SLOWEST_FIRST.includes(name) ? SLOWEST_FIRST.indexOf(name) : SLOWEST_FIRST.length);

describe('conformance of the registered backends (quick, fixed seed)', () => {
  const names = registeredBackendNames();
  // webgpu's run is started by the global setup and judged in test/conformance-webgpu.test.ts,
  // which runs last: judged here, it would hold this file (and its worker) for the 10
  // minutes that run takes on a busy machine.
  const order = names.filter((n) => n !== 'webgpu').sort((a, b) => rank(a) - rank(b));

  test('the reference backend is registered, and webgpu (judged in its own file)', () => {
    expect(names).toContain('reference');
    expect(names).toContain('webgpu');
  });

  // Concurrently: each run is a child process, mostly one thread, and they share nothing.
  for (const name of order) {
    test.concurrent(`backend ${name}`, async () => {
      if (name === 'gpujs-gl' && (await gpujsRanOnGl())) return checkGlOnlyTwin();
      // `tda conformance --backend NAME --quick --seed … --json`, shared with the page test.
      judgeCliConformance(name, await cliConformance(name));
    }, 26 * 60_000);
  }
});
