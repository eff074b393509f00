// The page's WebGPU device worker: owns the device and answers the harness
// worker's kernel requests (src/backends/webgpu/protocol.ts).

import { serveGpu } from '../backends/webgpu/serve.js';

// The worker global (the DOM typings describe a window, not a worker).
const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
const browser = navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? 'browser';
void serveGpu(
  { postMessage: (m) => scope.postMessage(m), onMessage: (h) => (scope.onmessage = (e: MessageEvent) => h(e.data)) },
  navigator.gpu,
  `navigator.gpu (${browser})`,
);
