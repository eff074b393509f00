// Once per `vitest run`:
//  - the compiled package (`npm run build`, scripts/build.mjs → dist/, from the sources as they are now):
//    the tests start the `tda` command from it (TDA_CLI_FROM=dist, test/helpers.ts),
//    as an installed package runs, at a third of tsx's start-up cost; test/package.test.ts
//    packs it;
//  - a scratch folder shared by every test file (each file runs in its own worker
//    process), where results that two files need — a backend's CLI conformance report
//    — are computed once (test/shared-result.ts). Removed at the end;
//  - the CLI conformance run of webgpu, started here in the background: on SwiftShader
//    it is bound by the latency of tens of thousands of GPU round trips, not by CPU, and
//    takes 10 minutes on a busy 2-core machine. Started first, it overlaps everything
//    else; its judges (test/conformance-webgpu.test.ts, which the sequencer runs last,
//    and the page's webgpu test) then find it done instead of waiting for it alone.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { conformanceRun } from '../conformance-run.js';
import { sharedResult } from '../shared-result.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sharedDir: string;
  }
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The files that judge the background run: it is started only when one of them is in this run. */
const BACKGROUND_JUDGES = ['test/conformance-webgpu.test.ts', 'test/web-page-webgpu.test.ts'];

export default function setup(project: TestProject): () => Promise<void> {
  // A clean build: files of deleted sources must not linger in dist/.
  fs.rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tda-shared-'));
  project.provide('sharedDir', dir);
  const filters = project.config.filters?.length ? project.config.filters : undefined;
  const background = new AbortController();
  const started = !filters || BACKGROUND_JUDGES.some((f) => filters.some((pattern: string) => f.includes(pattern)))
    ? sharedResult(dir, 'conformance-webgpu', () => conformanceRun('webgpu', background.signal)).catch(() => undefined)
    : Promise.resolve();
  return async () => {
    background.abort(); // only matters when a run ends early (a filter, an interrupt)
    await started;
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
