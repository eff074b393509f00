// Takes the screenshot of the conformance page in docs/web.md: serves the page,
// runs one backend unattended in headless Chromium (Debian's package) and saves
// the full page once the verdict is in.
//
//   npx tsx scripts/web-screenshot.ts [backend] [out.png]     (default: webgpu, docs/web-page.png)

import { chromium } from 'playwright-core';
import { startPageServer } from '../src/web/server.js';

const backend = process.argv[2] ?? 'webgpu';
const out = process.argv[3] ?? 'docs/web-page.png';
const server = await startPageServer(0);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${server.url}?backend=${backend}&quick=1&autorun=1`);
  await page.waitForFunction(() => document.getElementById('verdict')!.textContent !== '', null, { timeout: 900_000, polling: 1000 });
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`${out}: ${await page.textContent('#verdict')} (${await page.textContent('#progress')})\n`);
} finally {
  await browser.close();
  await server.close();
}
