// Backends registered by name, in the spirit of tfjs's kernel registry: a backend
// is a plug-in that the decoder and the conformance harness look up by name.
// Factories are async so optional backends (native, GPU) can be loaded lazily and
// can fail with a clear reason instead of breaking the others.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { referenceBackend } from './reference/index.js';
import { UserError, describeError } from '../errors.js';
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

const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const TS_EXTENSIONS = ['.ts', '.mts', '.cts'];

/**
 * Loads a user's backend module from any folder: .js/.mjs/.cjs as Node loads them,
 * .ts/.mts/.cts (and ESM syntax in a .js file of a CommonJS package) through tsx's
 * loader. The module's default export (or module.exports) implements Backend; it
 * imports the kit by its package name, `tda-kit`.
 */
export async function loadBackendModule(file: string): Promise<Backend> {
  const abs = path.resolve(file);
  const ext = path.extname(abs);
  if (!MODULE_EXTENSIONS.includes(ext)) {
    throw new UserError(`backend module ${file}: expected a ${MODULE_EXTENSIONS.join(', ')} file`);
  }
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new UserError(`backend module ${file}: no such file`);
  const url = pathToFileURL(abs).href;
  let mod: { default?: unknown };
  try {
    if (TS_EXTENSIONS.includes(ext)) await enableTypeScriptModules();
    mod = await import(url);
  } catch (e) {
    if (!isEsmSyntaxInCommonJs(e)) throw new BackendUnavailableError(`cannot load backend module ${file}: ${describeError(e)}`);
    try {
      await enableTypeScriptModules();
      mod = await import(`${url}?esm-syntax`);
    } catch (e2) {
      throw new BackendUnavailableError(`cannot load backend module ${file}: ${describeError(e2)}`);
    }
  }
  const b = backendExport(mod);
  if (!b) {
    throw new BackendUnavailableError(`backend module ${file} has no default export implementing Backend (name, info(), kernels)`);
  }
  return b;
}

/** The Backend of a module: its default export, or a CommonJS module.exports (which may itself hold `default`). */
function backendExport(mod: { default?: unknown }): Backend | undefined {
  const isBackend = (b: unknown): b is Backend =>
    !!b && typeof b === 'object' && typeof (b as Backend).info === 'function' && !!(b as Backend).kernels;
  const d = mod.default as { default?: unknown } | undefined;
  if (isBackend(d)) return d;
  if (isBackend(d?.default)) return d.default;
  return undefined;
}

function isEsmSyntaxInCommonJs(e: unknown): boolean {
  return e instanceof SyntaxError && /Cannot use import statement outside a module|Unexpected token 'export'/.test(e.message);
}

const TSX_ENABLED = Symbol.for('tda-kit.tsx-enabled');

/** Registers tsx's ESM and CommonJS loaders once per process (the source checkout's bin already has). */
async function enableTypeScriptModules(): Promise<void> {
  const g = globalThis as { [TSX_ENABLED]?: boolean };
  if (g[TSX_ENABLED]) return;
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
  g[TSX_ENABLED] = true;
}

registerBackend('reference', async () => referenceBackend);
