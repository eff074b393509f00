// The machine's copy bandwidth, measured in the same run as the kernels, so that
// "dense FFN reaches X% of memory bandwidth" compares numbers taken minutes apart
// on the same noisy, shared machine rather than a datasheet figure.
//
// A copy of N bytes is counted as 2N bytes moved (N read + N written), as the issue
// asks. (On x86 a plain store also reads the line before writing it, so DRAM sees
// ~3N; a read-only weight stream can therefore exceed the "copy bandwidth".) The
// buffers are far larger than the last-level cache so copies stream from DRAM.
//
// Two figures: one thread (TypedArray.prototype.set, a memcpy in V8) and `threads`
// worker threads each copying their share of a SharedArrayBuffer — one core does not
// saturate the memory system, and the native kernels use every core. The reported
// copy bandwidth is the larger, i.e. the best this machine showed for a copy. The
// native addon exports no copy routine, so there is no native figure to take.

import { Worker } from 'node:worker_threads';
import { type Summary, summarize } from './stats.js';

export interface CopyBandwidth {
  /** GB/s (1e9 bytes), read + written, per run: the better of the two figures below. */
  gbs: Summary;
  singleThread: Summary;
  multiThread: Summary | null;
  threads: number;
  bufferBytes: number;
  method: string;
}

function singleThreadCopy(bytes: number, runs: number): Summary {
  const src = new Float32Array(bytes / 4);
  const dst = new Float32Array(bytes / 4);
  // Touch every page of both buffers first: first-touch page faults are not bandwidth.
  src.fill(1);
  dst.set(src);
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    dst.set(src);
    samples.push((2 * bytes) / ((performance.now() - t0) * 1e6));
  }
  return summarize(samples);
}

// Each worker owns ordinary (non-shared) buffers: TypedArray.set between
// SharedArrayBuffers is not a memcpy in V8 (it copies element by element with
// relaxed-atomic semantics) and would understate the machine. Only the tiny control
// block is shared: a worker waits for the "go" counter to change, copies, bumps "done".
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { ctrl, floats, runs } = workerData;
const s = new Float32Array(floats).fill(1), d = new Float32Array(floats);
d.set(s);
const c = new Int32Array(ctrl);
parentPort.postMessage('ready');
for (let r = 1; r <= runs; r++) {
  Atomics.wait(c, 0, r - 1);
  d.set(s);
  Atomics.add(c, 1, 1);
  Atomics.notify(c, 1);
}
`;

async function multiThreadCopy(bytes: number, runs: number, threads: number): Promise<Summary> {
  const n = bytes / 4;
  const ctrl = new SharedArrayBuffer(8);
  const c = new Int32Array(ctrl);
  const total = runs + 1; // one warm-up round
  const floats = Math.floor(n / threads);
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { ctrl, floats, runs: total } }));
  try {
    await Promise.all(workers.map((w) => new Promise((res, rej) => (w.once('message', res), w.once('error', rej)))));
    const samples: number[] = [];
    for (let r = 1; r <= total; r++) {
      Atomics.store(c, 1, 0);
      const t0 = performance.now();
      Atomics.store(c, 0, r);
      Atomics.notify(c, 0);
      for (let done = 0; done < threads; done = Atomics.load(c, 1)) Atomics.wait(c, 1, done, 1000);
      const ms = performance.now() - t0;
      if (r > 1) samples.push((2 * 4 * floats * threads) / (ms * 1e6));
    }
    return summarize(samples);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function measureCopyBandwidth(opts: { bytes?: number; runs?: number; threads?: number } = {}): Promise<CopyBandwidth> {
  const bytes = opts.bytes ?? 256 * 2 ** 20;
  const runs = opts.runs ?? 9;
  const threads = opts.threads ?? 2;
  const singleThread = singleThreadCopy(bytes, runs);
  let multiThread: Summary | null = null;
  try {
    if (threads > 1) multiThread = await multiThreadCopy(bytes, runs, threads);
  } catch {
    multiThread = null; // worker threads unavailable: the single-thread figure stands
  }
  const best = multiThread && multiThread.median > singleThread.median ? multiThread : singleThread;
  return {
    gbs: best,
    singleThread,
    multiThread,
    threads,
    bufferBytes: bytes,
    method: `memcpy of ${bytes / 2 ** 20} MiB counted as read + written; best of 1 thread (${singleThread.median.toFixed(1)} GB/s) and ${threads} worker threads (${multiThread ? multiThread.median.toFixed(1) : 'n/a'} GB/s)`,
  };
}
