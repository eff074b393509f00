// Conformance of the webgpu backend, judged like every other backend's in
// test/conformance.test.ts: `tda conformance --backend webgpu --quick --seed … --json`
// must be conformant (or, without a WebGPU adapter, exit 2 with a one-line reason). On
// SwiftShader the run is bound by the latency of its GPU round trips and takes 10
// minutes on a busy 2-core machine, so the global setup starts it when the test run
// starts (test/setup/global.ts) and this file runs last (test/setup/sequencer.ts): by
// then the run is done or nearly so, and no test worker sat waiting for it.

import { describe, test } from 'vitest';
import { cliConformance, judgeCliConformance } from './shared-run.js';

describe('conformance of the registered backends (quick, fixed seed)', () => {
  test('backend webgpu', async () => {
    judgeCliConformance('webgpu', await cliConformance('webgpu'));
  }, 26 * 60_000);
});
