// Backends registered by name, in the spirit of tfjs's kernel registry: a backend
// is a plug-in that the decoder and the conformance harness look up by name.
// Factories are async so optional backends (native, GPU) can be loaded lazily and
// can fail with a clear reason instead of breaking the others.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { referenceBackend } from './reference/index.js';
import { UserError } from '../errors.js';
import type { Backend } from '../core/kernels.js';

export type BackendFactory = () => Promise<Backend>;

const factories = new Map<string, BackendFactory>();

export function registerBackend(name: string, factory: BackendFactory): void {
  factories.set(name, factory);
}

export function registeredBackendNames(): string[] {
  return [...factories.keys()];
}

export class BackendUnavailableError extends UserError {}

/** Loads a backend by name; throws BackendUnavailableError with a one-line reason. */
export async function loadBackend(name: string): Promise<Backend> {
  const factory = factories.get(name);
  if (!factory) {
    throw new UserError(`unknown backend "${name}" (known: ${registeredBackendNames().join(', ')})`);
  }
  return factory();
}

/** Loads a user's backend module: its default export implements Backend. */
export async function loadBackendModule(file: string): Promise<Backend> {
  const url = pathToFileURL(path.resolve(file)).href;
  let mod: { default?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    throw new BackendUnavailableError(`cannot load backend module ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const b = mod.default as Backend | undefined;
  if (!b || typeof b !== 'object' || typeof b.info !== 'function' || !b.kernels) {
    throw new BackendUnavailableError(`backend module ${file} has no default export implementing Backend (name, info(), kernels)`);
  }
  return b;
}

registerBackend('reference', async () => referenceBackend);
