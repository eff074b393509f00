// Conformance of every backend registered in the kit that can load on this
// machine, with quick settings and a fixed seed. One test per registered backend:
// an unavailable one (not built, no GPU, no GL) must fail cleanly — a one-line
// BackendUnavailableError — and is reported as such; the reference always runs.

import { describe, expect, test } from 'vitest';
import '../src/backends/all.js';
import { BackendUnavailableError, loadBackend, registeredBackendNames } from '../src/backends/registry.js';
import type { Backend } from '../src/core/kernels.js';
import { formatReport, runConformance } from '../src/conformance/index.js';

const SEED = 20240601;

describe('conformance of the registered backends (quick, fixed seed)', () => {
  const names = registeredBackendNames();

  test('the reference backend is registered', () => {
    expect(names).toContain('reference');
  });

  for (const name of names) {
    test(`backend ${name}`, async () => {
      let backend: Backend;
      try {
        backend = await loadBackend(name);
      } catch (e) {
        // Not available here: that must be a clean, one-line reason — never for the reference.
        expect(name).not.toBe('reference');
        expect(e).toBeInstanceOf(BackendUnavailableError);
        const msg = (e as Error).message;
        expect(msg).not.toContain('\n');
        expect(msg.length).toBeGreaterThan(0);
        console.info(`backend ${name}: not available on this machine — ${msg}`);
        return;
      }
      try {
        const report = await runConformance(backend, { quick: true, seed: SEED });
        console.info(formatReport(report));
        // The table is the failure message: which rows failed and their counterexamples.
        expect(report.conformant, formatReport(report)).toBe(true);
        expect(report.rows.length).toBeGreaterThanOrEqual(7 + 9 + 4);
      } finally {
        backend.dispose?.();
      }
    }, 180_000);
  }
});
