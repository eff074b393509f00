// Registers the gpu.js backends. gpu.js (and headless GL through it) is imported
// only when one of them is first asked for.
//
//  - `gpujs`    runs in whatever mode gpu.js really gets (headless GL when the `gl`
//               package is built and a display exists, else its webasm or cpu
//               fallback) and reports that mode in info().mode and info().notes;
//  - `gpujs-gl` is the GL backend or nothing: its factory throws
//               BackendUnavailableError when headless GL is not really active, and
//               any kernel that leaves GL throws, so CPU results are never passed
//               off as GL ones.

import { BackendUnavailableError, registerBackend } from '../registry.js';
import type { Backend } from '../types.js';

function factory(name: string, requireGl: boolean) {
  return async (): Promise<Backend> => {
    try {
      const { createGpuJsBackend } = await import('./backend.js');
      return createGpuJsBackend(name, { requireGl });
    } catch (e) {
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new BackendUnavailableError(`${name} backend unavailable: ${reason}`);
    }
  };
}

registerBackend('gpujs', factory('gpujs', false));
registerBackend('gpujs-gl', factory('gpujs-gl', true));
