// Registers the tfjs-wasm backend. The tfjs libraries are imported only when the
// backend is first asked for, so the rest of the kit never pays for loading them.

import { BackendUnavailableError, registerBackend } from '../registry.js';
import type { Backend } from '../../core/kernels.js';

let instance: Promise<Backend> | null = null;

// One instance per process: tfjs keeps a single global engine, and the weight
// cache is best shared by every caller.
registerBackend('tfjs-wasm', () => {
  instance ??= import('./backend.js')
    .then((m) => m.createTfjsWasmBackend())
    .catch((e: unknown) => {
      instance = null;
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new BackendUnavailableError(`tfjs-wasm backend unavailable: ${reason}`);
    });
  return instance;
});
