// The backends the page can check, built for the browser: the same backend code
// the CLI runs, with the browser's engines underneath (tfjs's WebAssembly, gpu.js on
// WebGL2, WebGPU through navigator.gpu). Runs inside the harness worker.

import type { Backend } from '../core/kernels.js';
import { referenceBackend } from '../backends/reference/index.js';
import { createWebGpuBackend } from '../backends/webgpu/client.js';
import type { Hello } from '../backends/webgpu/protocol.js';

export const PAGE_BACKENDS = ['reference', 'tfjs-wasm', 'gpujs', 'webgpu'] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

export class UnavailableError extends Error {}

/** The WebGL2 context gpu.js will get in this worker, described the way headless GL is in Node. */
function webglStatus(): { available: boolean; detail: string } {
  const ctx = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1).getContext('webgl2') : null;
  if (!ctx) return { available: false, detail: 'no WebGL2 context in this worker' };
  const dbg = ctx.getExtension('WEBGL_debug_renderer_info');
  const renderer = dbg ? ctx.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : ctx.getParameter(ctx.RENDERER);
  return { available: true, detail: `${ctx.getParameter(ctx.VERSION)}, ${renderer}` };
}

async function webgpu(): Promise<Backend> {
  if (!crossOriginIsolated) throw new UnavailableError('the page is not cross-origin isolated (no SharedArrayBuffer for synchronous readback)');
  const worker = new Worker('/gpu-worker.js', { name: 'webgpu device' });
  const hello = await new Promise<Hello>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Hello>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`the WebGPU worker failed: ${e.message}`));
  });
  worker.onmessage = null;
  if (hello.type === 'unavailable') {
    worker.terminate();
    throw new UnavailableError(hello.reason);
  }
  return createWebGpuBackend(worker, hello.adapter, ['in the browser: navigator.gpu in a dedicated worker']);
}

export async function loadPageBackend(name: string): Promise<Backend> {
  switch (name as PageBackend) {
    case 'reference':
      return referenceBackend;
    case 'tfjs-wasm': {
      const tf = await import('@tensorflow/tfjs-core');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths('/tfjs/');
      // One thread, as in Node: the same kernels whatever the page's isolation.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      const { createTfjsWasmBackend } = await import('../backends/tfjs-wasm/backend.js');
      return createTfjsWasmBackend();
    }
    case 'gpujs': {
      const { createGpuJsBackend } = await import('../backends/gpujs/backend.js');
      return createGpuJsBackend('gpujs', { requireGl: false, gl: webglStatus() });
    }
    case 'webgpu':
      return webgpu();
    default:
      throw new UnavailableError(`unknown backend "${name}" (the page runs: ${PAGE_BACKENDS.join(', ')})`);
  }
}
