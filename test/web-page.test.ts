// The conformance page (`tda serve`) in headless Chromium (test/web-page-harness.ts):
// the server itself, and the page's verdict against the CLI's for the backends that run in
// a browser — reference, tfjs-wasm and gpu.js here; webgpu in test/web-page-webgpu.test.ts,
// which runs last because it judges the CLI run the global setup starts in the background.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { expectPageMatchesCli, newPage, pageVerdict, usePageBrowser } from './web-page-harness.js';

usePageBrowser();

describe('tda serve', () => {
  it('serves the page cross-origin isolated on 127.0.0.1 until interrupted', async () => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/tda.js'), 'serve', '--port', '0'], { cwd: ROOT });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      p.on('close', (code) => reject(new Error(`tda serve exited (${code})`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(`${url}?backend=webgpu`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await res.text()).toContain('id="verdict"');
    expect((await fetch(`${url}assets/stories260K/stories260K.bin`)).status).toBe(200);
    expect((await fetch(`${url}src/cli/main.ts`)).status).toBe(404);
    const exit = new Promise<number | null>((resolve) => p.on('close', resolve));
    p.kill('SIGINT');
    expect(await exit).toBe(0);
  }, 60_000);
});

describe('conformance page in headless Chromium', () => {
  for (const backend of ['reference', 'tfjs-wasm', 'gpujs']) {
    it(`${backend}: the page's verdict equals the CLI's`, () => expectPageMatchesCli(backend), 26 * 60_000);
  }

  it('says so when it cannot run a backend, and judges nothing', async () => {
    const page = await newPage();
    try {
      const { verdict, progress } = await pageVerdict(page, 'native-cpu');
      expect(verdict).toBe('UNAVAILABLE');
      expect(progress).toMatch(/unknown backend "native-cpu".*nothing was checked/);
    } finally {
      await page.close();
    }
  }, 60_000);
});
