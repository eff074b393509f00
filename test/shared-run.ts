// A child-process result computed once per test run and shared by the test files
// that need it (they run in separate worker processes): the first caller creates a
// lock folder and runs the command, the others wait for its result file. Used for
// the CLI's conformance reports, which both test/conformance.test.ts (every backend)
// and test/web-page.test.ts (the page's verdict must equal the CLI's) judge.
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { type CliResult, runCli } from './helpers.js';

const POLL_MS = 500;
const WAIT_LIMIT_MS = 30 * 60_000;

async function once(key: string, compute: () => Promise<CliResult>): Promise<CliResult> {
  const file = path.join(inject('sharedDir'), `${key}.json`);
  try {
    fs.mkdirSync(`${file}.lock`);
  } catch {
    // Another file computes it: wait for its (atomically renamed) result.
    const t0 = Date.now();
    while (!fs.existsSync(file)) {
      if (Date.now() - t0 > WAIT_LIMIT_MS) throw new Error(`no result for ${key} after ${WAIT_LIMIT_MS / 60_000} min`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return JSON.parse(fs.readFileSync(file, 'utf8')) as CliResult;
  }
  const result = await compute();
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(result));
  fs.renameSync(`${file}.tmp`, file);
  return result;
}

/** The seed of the shared conformance runs. */
export const CONFORMANCE_SEED = 20240601;

/** `tda conformance --backend NAME --quick --seed CONFORMANCE_SEED --json`, once per test run. */
export function cliConformance(backend: string): Promise<CliResult> {
  // No early kill: on a busy machine the emulated GPUs (SwiftShader, Mesa) take minutes.
  return once(`conformance-${backend}`, () =>
    runCli(['conformance', '--backend', backend, '--quick', '--seed', String(CONFORMANCE_SEED), '--json'], {}, { timeoutMs: 25 * 60_000 }),
  );
}
