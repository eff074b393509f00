// Once per `vitest run`:
//  - the compiled package (`npm run build`, scripts/build.mjs → dist/, from the sources as they are now):
//    the tests start the `tda` command from it (TDA_CLI_FROM=dist, test/helpers.ts),
//    as an installed package runs, at a third of tsx's start-up cost; test/package.test.ts
//    packs it;
//  - a scratch folder shared by every test file (each file runs in its own worker
//    process), where results that two files need — a backend's CLI conformance report
//    — are computed once (test/shared-run.ts). Removed at the end.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    sharedDir: string;
  }
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export default function setup(project: TestProject): () => void {
  // A clean build: files of deleted sources must not linger in dist/.
  fs.rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tda-shared-'));
  project.provide('sharedDir', dir);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
