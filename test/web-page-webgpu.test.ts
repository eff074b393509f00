// The conformance page in headless Chromium on WebGPU (SwiftShader's adapter): five checks
// in the page, each row equal to the CLI's, and the CLI's whole run conformant
// (test/web-page-harness.ts). The CLI run is the one the global setup starts when the test
// run starts (test/setup/global.ts); this file runs last (test/setup/sequencer.ts), so that
// no test worker waits for that run while other files could run.

import { describe, it } from 'vitest';
import { expectPageMatchesCli, usePageBrowser } from './web-page-harness.js';

usePageBrowser();

describe('conformance page in headless Chromium', () => {
  // As long as the shared CLI run may take (test/shared-result.ts), not just the page's own run.
  it("webgpu: the page's verdict equals the CLI's", () => expectPageMatchesCli('webgpu'), 26 * 60_000);
});
