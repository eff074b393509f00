// A result computed once per test run and shared by the processes that need it: the
// test files (each runs in its own worker process) and the global setup, which starts
// the longest of them in the background (test/setup/global.ts). The first caller
// creates a lock folder and computes; the others wait for its result file. No vitest
// import here: the global setup runs outside the test workers.
import fs from 'node:fs';
import path from 'node:path';

const POLL_MS = 500;
const WAIT_LIMIT_MS = 30 * 60_000;
// The computing process touches `beat` in its lock folder while it works. A lock whose
// beat is this old belongs to a process that has gone (its file ended or was torn down
// mid-run, which also kills its child process): a waiter then takes the work over instead
// of waiting out WAIT_LIMIT_MS for a result that will never come.
const BEAT_MS = 5_000;
const STALE_MS = 120_000;

function mtimeMs(p: string): number | undefined {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
}

/** `compute()`'s result (JSON data), computed by the first caller in `dir` under `key`. */
export async function sharedResult<T>(dir: string, key: string, compute: () => Promise<T>): Promise<T> {
  const file = path.join(dir, `${key}.json`);
  const lock = `${file}.lock`;
  const beat = path.join(lock, 'beat');
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break; // this caller computes it
    } catch {
      // Another one computes it: wait for its (atomically renamed) result.
      while (!fs.existsSync(file)) {
        if (Date.now() - t0 > WAIT_LIMIT_MS) throw new Error(`no result for ${key} after ${WAIT_LIMIT_MS / 60_000} min`);
        const last = mtimeMs(beat) ?? mtimeMs(lock) ?? 0;
        if (Date.now() - last > STALE_MS) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
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
