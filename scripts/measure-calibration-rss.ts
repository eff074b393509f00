// Peak RSS of TT / TDA calibration on native-cpu-f16 over an F16 GGUF loaded as its words
// only (`halfLoadFor('native-cpu-f16')`, as `tda generate --backend native-cpu-f16` loads
// it): whether calibration widens W_down into float32 shows here as a third of the FFN's
// float32 bytes (1.0 GB at TinyLlama's shape). Writes the TinyLlama-shape synthetic file
// once (2.2 GB) unless --model names one, then prints one JSON line: resident set after the
// load and the process's peak, which matrices are still words only, and a hash of the
// thresholds (to compare runs bit for bit). Not a test: it needs about 3 GB.
//
//   npx tsx scripts/measure-calibration-rss.ts [--model FILE] [--method tt|tda] [--cett C]
//       [--sequences N] [--length N] [--prompt-length N]
//
// The calibration set is small by default (2 sampled sequences of 24 tokens): the CETT
// sweep in JS costs units × d_ff × tokens × dim, minutes per layer at this shape with
// `tda calibrate`'s defaults.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNativeCpuBackend, halfLoadFor } from '../src/backends/native-cpu/index.js';
import { isPending } from '../src/core/model.js';
import { loadModel } from '../src/models/discovery.js';
import { TINYLLAMA_SHAPE, writeSyntheticGguf } from '../src/models/gguf-synthetic.js';
import { calibrate, sampledCalibrationSet } from '../src/reference/calibrate.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

/** VmRSS / VmHWM of this process, MiB (Linux). */
const status = (field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

function modelFile(): string {
  const given = arg('model', '');
  if (given) return given;
  const file = path.join(os.tmpdir(), 'tda-calibration-rss', 'tinyllama-shape-f16.gguf');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    process.stderr.write(`writing ${file} …\n`);
    writeSyntheticGguf(file, TINYLLAMA_SHAPE, 1, 'F16');
  }
  return file;
}

async function main(): Promise<void> {
  const file = modelFile();
  const method = arg('method', 'tda') as 'tt' | 'tda';
  const load0 = os.loadavg();
  const model = await loadModel(file, undefined, halfLoadFor('native-cpu-f16'));
  const afterLoad = status('VmRSS');
  const { kernels } = createNativeCpuBackend('f16');
  const t0 = performance.now();
  const set = sampledCalibrationSet(model, {
    sequences: Number(arg('sequences', '2')), length: Number(arg('length', '24')), promptLength: Number(arg('prompt-length', '8')), seed: 1, kernels,
  });
  const r = calibrate(model, set, method, { kind: 'cett', target: Number(arg('cett', '0.2')) }, { kernels });
  const taus = Float64Array.from(r.layers.map((l) => l.tau));
  const layers = model.weights.layers;
  console.log(JSON.stringify({
    file: path.basename(file), method, calibration: set.description,
    rss_after_load_mb: Math.round(afterLoad), peak_rss_mb: Math.round(status('VmHWM')), rss_end_mb: Math.round(status('VmRSS')),
    calibrate_s: +((performance.now() - t0) / 1000).toFixed(1),
    down_words_only: layers.filter((l) => isPending(l.ffn.downT)).length, layers: layers.length,
    thresholds_sha256: crypto.createHash('sha256').update(Buffer.from(taus.buffer)).digest('hex').slice(0, 16),
    tau0: taus[0], loadavg_before: load0.map((x) => +x.toFixed(1)), loadavg_after: os.loadavg().map((x) => +x.toFixed(1)),
  }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
