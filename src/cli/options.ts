// Option parsers shared by the commands: numbers are checked here so that bad
// values end in a one-line error, not NaN deep inside a run.

import { type Command, InvalidArgumentError } from 'commander';
import '../backends/all.js';
import { BackendUnavailableError, loadBackend, loadBackendModule } from '../backends/registry.js';
import type { Backend } from '../core/kernels.js';
import { referenceBackend } from '../backends/reference/index.js';
import { parseMethod, policyFactory } from '../reference/methods.js';
import { loadModelFiles } from '../models/discovery.js';
import { parseTdaVariant, TDA_VARIANTS } from '../reference/policies/tda-variants.js';

export function number(name: string, min = -Infinity, max = Infinity) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    }
    return x;
  };
}

export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const x = number(name, min, max)(v);
    if (!Number.isInteger(x)) throw new InvalidArgumentError(`${name} must be an integer`);
    return x;
  };
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <file>', 'llama2.c checkpoint (default: $TDA_MODEL_DIR/stories260K.bin, else the embedded stories260K)')
    .option('--tokenizer <file>', 'llama2.c tokenizer (default: tok512.bin beside the model)');
}

export function addMethodOptions(cmd: Command): Command {
  return cmd
    .option('--density <d>', 'griffin: kept fraction per layer; tt/tda: target mean density (per-layer thresholds)', number('--density', 0, 1))
    .option('--cett <c>', 'tt/tda: CETT target per layer (default 0.2)', number('--cett', 0, 1))
    .option('--thresholds <file>', 'tt/tda: thresholds JSON from `tda calibrate`')
    .option('--tda-variant <name>', `tda: a reading of TDA other than the kit's (${TDA_VARIANTS.join(', ')})`);
}

export function addBackendOptions(cmd: Command): Command {
  return cmd
    .option('--backend <name>', 'kernel backend (reference, tfjs-wasm, native-cpu, native-cuda, gpujs, …)', 'reference')
    .option('--backend-module <file>', 'a module whose default export implements the Backend interface');
}

/**
 * The backend to run on. A known backend that cannot run here (not built, no GPU)
 * falls back to the reference, and says so on stderr; an unknown name is an error.
 */
export async function chooseBackend(opts: { backend?: string; backendModule?: string }): Promise<Backend> {
  if (opts.backendModule) return loadBackendModule(opts.backendModule);
  try {
    return await loadBackend(opts.backend ?? 'reference');
  } catch (e) {
    if (!(e instanceof BackendUnavailableError)) throw e;
    process.stderr.write(`tda: backend ${opts.backend} unavailable (${e.message}); falling back to reference\n`);
    return referenceBackend;
  }
}

/** Model, tokenizer, backend and policy factory from the shared options of generate/compare. */
export async function setUpMethodRun(o: {
  model?: string;
  tokenizer?: string;
  backend?: string;
  backendModule?: string;
  method: string;
  density?: number;
  cett?: number;
  thresholds?: string;
  tdaVariant?: string;
}) {
  const { model, tokenizer } = loadModelFiles(o);
  const backend = await chooseBackend(o);
  const method = parseMethod(o.method);
  const tdaVariant = o.tdaVariant === undefined ? undefined : parseTdaVariant(o.tdaVariant);
  const makePolicy = policyFactory(model, { method, density: o.density, cett: o.cett, thresholdsFile: o.thresholds, tdaVariant }, backend.kernels);
  return { model, tokenizer, backend, method, makePolicy };
}
