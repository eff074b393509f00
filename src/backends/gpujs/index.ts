// Registers the gpu.js backends. gpu.js (and headless GL through it) is imported
// only when one of them is first asked for.
//
//  - `gpujs`    runs in whatever mode gpu.js really gets (headless GL when the `gl`
//               package is built and a display exists, else its webasm or cpu
//               fallback) and reports that mode in info().mode and info().notes;
//  - `gpujs-gl` is the GL backend or nothing: its factory throws
//               BackendUnavailableError when headless GL is not really active, and
//               any kernel that leaves GL throws, so results computed elsewhere are
//               never passed off as GL ones.
//
// One instance per name and process (one GL context, one set of weight textures);
// dispose() releases it and the next load creates a fresh one.

import { BackendUnavailableError, registerBackend } from '../registry.js';
import type { Backend } from '../../core/kernels.js';

const instances = new Map<string, Promise<Backend>>();

function factory(name: string, requireGl: boolean) {
  return (): Promise<Backend> => {
    let p = instances.get(name);
    if (!p) {
      p = import('./backend.js')
        .then(({ createGpuJsBackend }) => {
          const b = createGpuJsBackend(name, { requireGl });
          const release = b.dispose!;
          b.dispose = () => {
            instances.delete(name);
            release();
          };
          return b as Backend;
        })
        .catch((e: unknown) => {
          instances.delete(name);
          const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
          throw new BackendUnavailableError(`${name} backend unavailable: ${reason}`);
        });
      instances.set(name, p);
    }
    return p;
  };
}

registerBackend('gpujs', factory('gpujs', false));
registerBackend('gpujs-gl', factory('gpujs-gl', true));
