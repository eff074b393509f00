// The harness worker: runs src/conformance on one backend, off the page's main
// thread (the harness is synchronous, and the webgpu backend blocks in
// Atomics.wait, which a page's main thread may not do). Mounts the embedded model
// into the in-memory file system first, with its sha256 from WebCrypto.

import { mountFile } from './shims/fs.js';
import { registerDigest } from './shims/crypto.js';
import { formatReport, reportJson, runConformance } from '../conformance/index.js';
import { loadPageBackend, UnavailableError } from './backends.js';
import { type HarnessMessage, MODEL_DIR, MODEL_FILES, type RunRequest } from './protocol.js';

// The worker global (the DOM typings describe a window, not a worker).
const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
const post = (m: HarnessMessage) => scope.postMessage(m);

async function mountModel(): Promise<void> {
  for (const name of MODEL_FILES) {
    const url = `${MODEL_DIR}/${name}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    registerDigest(bytes, [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''));
    mountFile(url, bytes);
  }
}

async function run(req: RunRequest): Promise<void> {
  post({ type: 'status', text: 'loading stories260K …' });
  await mountModel();
  post({ type: 'status', text: `starting ${req.backend} …` });
  let backend;
  try {
    backend = await loadPageBackend(req.backend);
  } catch (e) {
    post({ type: 'unavailable', reason: (e as Error).message.split('\n')[0] });
    return;
  }
  post({ type: 'status', text: `checking ${req.backend} on ${backend.info().device} …` });
  try {
    const report = await runConformance(backend, {
      quick: req.quick,
      seed: req.seed,
      only: req.only,
      modelDir: MODEL_DIR,
      onRows: (rows) => post({ type: 'rows', rows }),
    });
    post({ type: 'report', report, json: reportJson(report), text: formatReport(report) });
  } finally {
    backend.dispose?.();
  }
}

scope.onmessage = (e: MessageEvent<RunRequest>) => {
  run(e.data).catch((err: unknown) => {
    if (err instanceof UnavailableError) post({ type: 'unavailable', reason: err.message });
    else post({ type: 'error', message: err instanceof Error ? err.message.split('\n')[0] : String(err) });
  });
};
