// Which backends this run can use. Every backend that ships with the kit registers
// itself when its folder is imported; the bench imports them one by one (not only
// through backends/all.ts) so that a backend that fails to import, or is not wired
// into all.ts yet, costs only its own rows.

import '../backends/all.js';
import { loadBackend, registeredBackendNames } from '../backends/registry.js';
import type { Backend } from '../core/kernels.js';

const SHIPPED = ['native-cpu', 'tfjs-wasm', 'gpujs', 'webgpu'];

export async function registerShippedBackends(): Promise<void> {
  for (const name of SHIPPED) {
    try {
      await import(`../backends/${name}/index.js`);
    } catch {
      // Not there (yet): loadBackend below reports it as unknown/unavailable.
    }
  }
}

export interface LoadedBackends {
  loaded: Backend[];
  failed: { name: string; reason: string }[];
}

export async function loadBackends(names: string[]): Promise<LoadedBackends> {
  await registerShippedBackends();
  const out: LoadedBackends = { loaded: [], failed: [] };
  for (const name of names) {
    try {
      out.loaded.push(await loadBackend(name));
    } catch (e) {
      out.failed.push({ name, reason: (e as Error).message.split('\n')[0] });
    }
  }
  return out;
}

/** Default backend list: everything registered (the reference is filtered per suite by size). */
export async function availableBackendNames(): Promise<string[]> {
  await registerShippedBackends();
  return registeredBackendNames();
}
