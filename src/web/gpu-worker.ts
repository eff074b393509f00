// The page's WebGPU device worker: owns the device and answers the harness
// worker's kernel requests (src/backends/webgpu/protocol.ts).

import { serveGpu } from '../backends/webgpu/serve.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const browser = navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? 'browser';
void serveGpu(
  { postMessage: (m) => scope.postMessage(m), onMessage: (h) => (scope.onmessage = (e) => h(e.data)) },
  navigator.gpu,
  `navigator.gpu (${browser})`,
);
