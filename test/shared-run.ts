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
// The computing file touches `beat` in its lock folder while it works. A lock whose beat is
// this old belongs to a worker that has gone (its file ended or was torn down mid-run, which
// also kills its child process): a waiter then takes the work over instead of waiting out
// WAIT_LIMIT_MS for a result that will never come.
const BEAT_MS = 5_000;
const STALE_MS = 120_000;

function mtimeMs(p: string): number | undefined {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
}

async function once(key: string, compute: () => Promise<CliResult>): Promise<CliResult> {
  const file = path.join(inject('sharedDir'), `${key}.json`);
  const lock = `${file}.lock`;
  const beat = path.join(lock, 'beat');
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break; // this file computes it
    } catch {
      // Another file computes it: wait for its (atomically renamed) result.
      while (!fs.existsSync(file)) {
        if (Date.now() - t0 > WAIT_LIMIT_MS) throw new Error(`no result for ${key} after ${WAIT_LIMIT_MS / 60_000} min`);
        const last = mtimeMs(beat) ?? mtimeMs(lock) ?? 0;
        if (Date.now() - last > STALE_MS) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as CliResult;
      fs.rmSync(lock, { recursive: true, force: true }); // its holder is gone: take over
    }
  }
  fs.writeFileSync(beat, '');
  const timer = setInterval(() => {
    try {
      const now = new Date();
      fs.utimesSync(beat, now, now);
    } catch {
      // the lock was taken over: the result is still written below
    }
  }, BEAT_MS);
  try {
    const result = await compute();
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(result));
    fs.renameSync(tmp, file);
    return result;
  } finally {
    clearInterval(timer);
  }
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
