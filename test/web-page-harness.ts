// The conformance page (`tda serve`) in a real headless Chromium — Debian's
// `chromium` package, driven by playwright-core with no browser download — for the page
// tests (test/web-page.test.ts, test/web-page-webgpu.test.ts): for a backend the page runs
// `?backend=NAME&quick=1&seed=S&autorun=1` unattended and its verdict in #verdict must
// equal the CLI's (`tda conformance --backend NAME --quick --seed S`, exit 0 = CONFORMANT,
// 1 = NOT CONFORMANT; the run the conformance tests judge, computed once per test run);
// the emulated GPUs run a subset in the page (PAGE_SUBSET), row by row equal to the CLI's
// rows. The JSON report offered for download is the report the page judged by.
//
// Without /usr/bin/chromium these tests fail (apt-get install chromium), never skip.

import fs from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startPageServer, type PageServer } from '../src/web/server.js';
import { CONFORMANCE_SEED, cliConformance } from './shared-run.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];
const RUN_TIMEOUT_MS = 600_000;

let server: PageServer;
let browser: Browser;

/** Starts the page server and the browser for this file's tests (and stops them after). */
export function usePageBrowser(): { url: () => string } {
  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: the page tests need Debian's chromium package (apt-get install chromium)`);
    }
    server = await startPageServer(0);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return { url: () => server.url };
}

/** A fresh tab of this file's browser. */
export function newPage(): Promise<Page> {
  return browser.newPage();
}

/** The CLI's verdict in the page's words (its run is shared with conformance.test.ts), its rows, and its last line on stderr. */
async function cliVerdict(backend: string): Promise<{ verdict: string; detail: string; rows: { check: string; verdict: string }[] }> {
  const r = await cliConformance(backend);
  const detail = r.stderr.trim().split('\n').pop() ?? '';
  const rows = r.code === 0 || r.code === 1 ? (JSON.parse(r.stdout) as { rows: { check: string; verdict: string }[] }).rows : [];
  return { verdict: r.code === 0 ? 'CONFORMANT' : r.code === 1 ? 'NOT CONFORMANT' : `exit ${r.code}`, detail, rows };
}

/** The page's report table: [check, VERDICT] per row. */
function shownRows(page: Page): Promise<string[][]> {
  return page.$$eval('#report tbody tr', (trs) => trs.map((tr) => [tr.firstElementChild!.textContent!, tr.lastElementChild!.textContent!]));
}

/**
 * The emulated GPUs (SwiftShader's WebGL and WebGPU) take minutes for a whole --quick
 * run in the page (over 10 min at load 10 on 2 cores), and the CLI's whole run of the
 * same backend is judged by test/conformance.test.ts already. In the page they run these
 * checks — the matrix, attention and sliced-FFN kernels, the call sequences that catch
 * stale caches, and a whole TDA-style generation with a sliced FFN — and each row's
 * verdict must equal the CLI's row of the same name and seed.
 */
const PAGE_SUBSET: Record<string, string[]> = {
  gpujs: ['kernel matvec', 'kernel attention', 'kernel ffnSliced', 'kernel call sequences', 'e2e griffin'],
  webgpu: ['kernel matvec', 'kernel attention', 'kernel ffnSliced', 'kernel call sequences', 'e2e griffin'],
};

/** Opens the unattended URL and waits for #verdict. */
export async function pageVerdict(page: Page, backend: string, only: string[] = []): Promise<{ verdict: string; progress: string }> {
  const onlyParams = only.map((o) => `&only=${encodeURIComponent(o)}`).join('');
  await page.goto(`${server.url}?backend=${backend}&quick=1&seed=${CONFORMANCE_SEED}&autorun=1${onlyParams}`);
  await page.waitForFunction(() => document.getElementById('verdict')!.textContent !== '', null, {
    timeout: RUN_TIMEOUT_MS,
    polling: 1000,
  });
  return { verdict: (await page.textContent('#verdict'))!, progress: (await page.textContent('#progress'))! };
}

/** The JSON report offered for download is the one behind the verdict and the table. */
async function expectDownloadedReport(page: Page, verdict: string): Promise<void> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const report = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
  expect(report.conformant ? 'CONFORMANT' : 'NOT CONFORMANT').toBe(verdict);
  const shown = await page.$$eval('#report tbody tr', (trs) => trs.map((tr) => tr.firstElementChild!.textContent));
  expect(shown).toEqual(report.rows.map((r: { check: string }) => r.check));
  expect(shown.length).toBeGreaterThan(0);
}

/** The page's verdict for `backend` equals the CLI's (row by row, for the emulated GPUs' subset). */
export async function expectPageMatchesCli(backend: string): Promise<void> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    // Both at once: each is mostly one thread, and they share nothing.
    const only = PAGE_SUBSET[backend];
    const [inPage, cli] = await Promise.all([pageVerdict(page, backend, only), cliVerdict(backend)]);
    expect(errors).toEqual([]);
    if (backend === 'webgpu') expect(cli.verdict, cli.detail).toBe('CONFORMANT');
    if (only) {
      const pageRows = await shownRows(page);
      const cliRows = cli.rows.filter((r) => only.some((o) => r.check.includes(o))).map((r) => [r.check, r.verdict.toUpperCase()]);
      expect(pageRows.map(([check]) => check)).toEqual(cliRows.map(([check]) => check));
      expect(pageRows, `page: ${inPage.progress}`).toEqual(cliRows);
      expect(inPage.verdict).toBe(cliRows.every(([, v]) => v === 'PASS') ? 'CONFORMANT' : 'NOT CONFORMANT');
    } else {
      expect(inPage.verdict, `page: ${inPage.progress}; cli: ${cli.detail}`).toBe(cli.verdict);
    }
    if (backend === 'reference') await expectDownloadedReport(page, inPage.verdict);
  } finally {
    await page.close();
  }
}
