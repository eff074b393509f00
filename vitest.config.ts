// Test runner settings. Workers are child processes (forks) so that a long native
// or WebAssembly call in one file cannot stall another; per-test time limits are
// generous because CI runs on a shared 2-core machine (speed is measured by
// `tda bench`, never by test time-outs).
import { defineConfig } from 'vitest/config';
import { LastFilesSequencer } from './test/setup/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    sequence: { sequencer: LastFilesSequencer },
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // test.concurrent tests (child processes, e.g. one conformance run per backend): at most 4 at once.
    maxConcurrency: 4,
    testTimeout: 900_000,
    hookTimeout: 900_000,
    teardownTimeout: 60_000,
  },
});
