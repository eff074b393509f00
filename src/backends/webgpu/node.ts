// The webgpu backend in Node: a worker thread owns the device (node-worker.ts); the
// calling thread runs the synchronous kernels of client.ts against it.

import { Worker } from 'node:worker_threads';
import type { Backend } from '../../core/kernels.js';
import { createWebGpuBackend } from './client.js';
import type { Hello } from './protocol.js';
import { prepareVulkan } from './vulkan.js';

const START_TIMEOUT_MS = 60_000;
// From the sources (tsx) the worker needs node-worker.mjs to register tsx in its own
// thread; the compiled package (dist/) starts the compiled worker directly.
const WORKER_ENTRY = import.meta.url.endsWith('.ts') ? './node-worker.mjs' : './node-worker.js';

/** Starts the worker and waits for its adapter; throws Error(reason) when there is none. */
export async function createNodeWebGpuBackend(): Promise<Backend> {
  const notes = prepareVulkan();
  const worker = new Worker(new URL(WORKER_ENTRY, import.meta.url), { stderr: true });
  // Dawn's own warnings (e.g. a Vulkan driver that failed to load) are kept for
  // the reason line instead of being printed into the middle of a report.
  let stderr = '';
  worker.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let hello: Hello;
  try {
    hello = await new Promise<Hello>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the WebGPU worker did not start in ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      worker.once('message', (m: Hello) => (clearTimeout(timer), resolve(m)));
      worker.once('error', (e) => (clearTimeout(timer), reject(e)));
      worker.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the WebGPU worker exited (code ${code})`))));
    });
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  if (hello.type === 'unavailable') {
    await worker.terminate();
    const dawn = stderr.split('\n').find((l) => /^Warning: (Couldn't load Vulkan|vkCreateInstance)/.test(l));
    throw new Error(`${hello.reason}${dawn ? ` (${dawn.replace(/^Warning: /, '')})` : ''}`);
  }
  worker.removeAllListeners();
  worker.stderr.removeAllListeners();
  worker.stderr.pipe(process.stderr); // from now on the worker's own messages are the user's to see
  worker.unref(); // an idle GPU worker must not keep the process alive
  return createWebGpuBackend(worker, hello.adapter, notes);
}
