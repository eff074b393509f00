// Registers the webgpu backend: WGSL kernels on whatever WebGPU adapter Dawn finds
// (the `webgpu` package). The package is loaded only when the backend is asked for;
// without an adapter the backend is unavailable with a one-line reason.
//
// One instance per process (one device, one set of uploaded weights); dispose()
// stops its worker and the next load starts a fresh one.

import { BackendUnavailableError, registerBackend } from '../registry.js';
import type { Backend } from '../../core/kernels.js';

let instance: Promise<Backend> | null = null;

registerBackend('webgpu', () => {
  instance ??= import('./node.js')
    .then(async ({ createNodeWebGpuBackend }) => {
      const b = await createNodeWebGpuBackend();
      const release = b.dispose!;
      b.dispose = () => {
        instance = null;
        release();
      };
      return b;
    })
    .catch((e: unknown) => {
      instance = null;
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new BackendUnavailableError(`webgpu backend unavailable: ${reason}`);
    });
  return instance;
});
