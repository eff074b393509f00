// Conformance of every backend registered in the kit that can load on this
// machine, with quick settings and a fixed seed, each in a child process (a run
// computes for tens of seconds, which must not block a vitest worker). An
// unavailable one (not built, no GPU, no GL) must end with exit 2 and a one-line
// reason; the reference always runs.

import { describe, expect, test } from 'vitest';
import '../src/backends/all.js';
import { registeredBackendNames } from '../src/backends/registry.js';
import { runCli } from './helpers.js';
import { CONFORMANCE_SEED, cliConformance } from './shared-run.js';

/** Every object key in a parsed JSON value. */
function jsonKeys(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(jsonKeys);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...jsonKeys(x)]);
  return [];
}

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

describe('conformance of the registered backends (quick, fixed seed)', () => {
  const names = registeredBackendNames();

  test('the reference backend is registered', () => {
    expect(names).toContain('reference');
  });

  // Concurrently: each run is a child process, mostly one thread, and they share nothing.
  for (const name of names) {
    test.concurrent(`backend ${name}`, async () => {
      if (name === 'gpujs-gl' && (await gpujsRanOnGl())) return checkGlOnlyTwin();
      // `tda conformance --backend NAME --quick --seed … --json`, shared with the page test.
      const r = await cliConformance(name);
      if (r.code === 2) {
        // Not available here: a clean one-line reason — never for the reference.
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
      // As long as the shared run may take (test/shared-run.ts): the emulated GPUs (webgpu on
      // SwiftShader) need over 10 minutes for the --quick run on a busy 2-core machine.
    }, 26 * 60_000);
  }
});
