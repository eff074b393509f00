// Option parsers shared by the commands: numbers are checked here so that bad
// values end in a one-line error, not NaN deep inside a run.

import { type Command, InvalidArgumentError } from 'commander';
import '../backends/all.js';
import { BackendUnavailableError, loadBackend, loadBackendModule } from '../backends/registry.js';
import type { Backend } from '../core/kernels.js';
import { referenceBackend } from '../backends/reference/index.js';
import cliProgress from 'cli-progress';
import { halfLoadFor } from '../backends/native-cpu/index.js';
import type { HalfLoad } from '../core/model.js';
import { KV_TYPES, type KvType, kvTypeFor } from '../core/kv-cache.js';
import { loadModelFiles, modelBytes } from '../models/discovery.js';
import { TDA_VARIANTS } from '../reference/policies/tda-variants.js';
import type { Method } from '../reference/policies/types.js';

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
    .option('--model <path>', 'llama2.c checkpoint, GGUF file or Hugging Face folder (default: $TDA_MODEL_DIR/stories260K.bin, else the embedded stories260K)')
    .option('--tokenizer <file>', "llama2.c tokenizer.bin, tokenizer.json or GGUF vocabulary (default: the model's own; tok512.bin for llama2.c)");
}

export function addMethodOptions(cmd: Command): Command {
  return cmd
    .option('--density <d>', 'griffin: kept fraction per layer; tt/tda: target mean density (per-layer thresholds), in (0, 1]', number('--density', 0, 1))
    .option('--cett <c>', 'tt/tda: CETT target per layer (default 0.2; 0 keeps every neuron)', number('--cett', 0, 1))
    .option('--thresholds <file>', 'tt/tda: thresholds JSON from `tda calibrate`')
    .option('--tda-variant <name>', `tda: a reading of TDA other than the kit's (${TDA_VARIANTS.join(', ')})`);
}

export function addBackendOptions(cmd: Command): Command {
  return cmd
    .option('--backend <name>', 'kernel backend (reference, tfjs-wasm, native-cpu, native-cuda, gpujs, …)', 'reference')
    .option('--backend-module <file>', 'a module whose default export implements the Backend interface')
    .option('--kv-cache <type>', "KV cache element type, f32 | f16 (default: the backend's own: f16 on native-cpu-f16, else f32)", kvCacheType);
}

/** --kv-cache: one of KV_TYPES (src/core/kv-cache.ts). */
export function kvCacheType(v: string): KvType {
  if (!(KV_TYPES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--kv-cache must be one of ${KV_TYPES.join(', ')}`);
  return v as KvType;
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

/** Models above this size say how much memory they will take and show a load progress bar on stderr. */
const LARGE_MODEL_BYTES = 256 * 2 ** 20;

/**
 * loadModelFiles for the commands: a large model first gets an estimate (its size on
 * disk and as float32 in memory), then a progress bar while its tensors are read.
 */
export async function loadModelForCommand(o: { model?: string; tokenizer?: string } & HalfLoad) {
  const bytes = o.model ? modelBytes(o.model) : 0;
  if (bytes < LARGE_MODEL_BYTES) return loadModelFiles(o);
  const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;
  const half = typeof o.keepHalf === 'string' ? o.keepHalf.toUpperCase() : null;
  const size = o.wordsOnly && half
    ? `about ${gb(bytes)} in memory if it stores its matrices as ${half} (kept as the file's words), up to ${gb(bytes * 4)} as float32 otherwise`
    : `up to ${gb(bytes * 4)} as float32 (${gb(bytes * 2)} for an F16/BF16 file)`;
  process.stderr.write(`tda: loading ${o.model}: ${gb(bytes)} on disk, ${size}\n`);
  const bar = new cliProgress.SingleBar(
    { format: 'loading {bar} {percentage}% of tensor data', stream: process.stderr, noTTYOutput: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0);
  try {
    return await loadModelFiles({ ...o, onProgress: (done, total) => bar.update(Math.min(100, Math.round((100 * done) / Math.max(total, 1)))) });
  } finally {
    bar.stop();
  }
}

/** The method options of generate/compare, as the library takes them. */
export function methodSettingOf(o: { method: string; density?: number; cett?: number; thresholds?: string; tdaVariant?: string }) {
  return { method: o.method as Method, density: o.density, cett: o.cett, thresholdsFile: o.thresholds, tdaVariant: o.tdaVariant };
}

/** Model, tokenizer and backend from the shared options of generate/compare. */
export async function setUpMethodRun(o: { model?: string; tokenizer?: string; backend?: string; backendModule?: string; kvCache?: KvType }) {
  // native-cpu-f16 / -bf16 read an F16 / BF16 file's own words instead of converting (and
  // holding) a copy, and the weight matrices get no float32 copy at all (HalfLoad.wordsOnly);
  // should the backend fall back to the reference, the decoder widens them (fillPendingWeights).
  const { model, tokenizer } = await loadModelForCommand({ ...o, ...(o.backendModule ? {} : halfLoadFor(o.backend)) });
  const backend = await chooseBackend(o);
  kvTypeFor(backend.kernels, o.kvCache, backend.name); // a cache type the backend does not keep: exit 2 before any work
  return { model, tokenizer, backend };
}
