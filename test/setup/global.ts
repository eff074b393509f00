// Once per `vitest run`: a scratch folder shared by every test file (each file runs in
// its own worker process), where results that two files need — a backend's CLI
// conformance report — are computed once (test/shared-run.ts). Removed at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    sharedDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tda-shared-'));
  project.provide('sharedDir', dir);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
