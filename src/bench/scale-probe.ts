// Run as a child process by src/bench/scale.ts: loads one model file with one engine
// and prints {load_ms, load_rss_mb, peak_rss_mb, tokens_per_s} as JSON on stdout. A
// process of its own, so its peak resident set is the load's and the generation's
// alone (the bench's own process holds other models, and llama.cpp runs in-process).
//
// argv: FILE ENGINE STEPS THREADS, ENGINE = a kit backend name or "llama.cpp".

import { loadBackends } from './backends.js';
import { runLlamaCpp } from './llama-cpp.js';
import { processPeakRssMb as peakRssMb } from './rss.js';
import { loadModel } from '../models/discovery.js';
import { generate } from '../reference/generate.js';
import { densePolicy } from '../reference/policies/dense.js';

async function probe(file: string, engine: string, steps: number, threads: number): Promise<Record<string, number | string>> {
  if (engine === 'llama.cpp') {
    const r = await runLlamaCpp({ modelPath: file, prompt: [1, 300, 5, 77], generate: steps + 1, threads, contextSize: 64 + steps });
    const ms = r.perTokenMs.reduce((a, x) => a + x, 0);
    return { load_ms: r.loadMs ?? NaN, load_rss_mb: NaN, peak_rss_mb: peakRssMb(), tokens_per_s: (1000 * r.perTokenMs.length) / ms, note: 'llama.cpp maps the file (mmap): weights count in RSS as pages are touched' };
  }
  const { loaded, failed } = await loadBackends([engine]);
  if (!loaded[0]) throw new Error(failed[0]?.reason ?? `${engine}: not available`);
  const t0 = performance.now();
  // The plain load (float32 arrays only) that the scale target is about; a half-precision
  // backend then converts on first use, which peak_rss_mb includes (as keeping the file's
  // words would: docs/models.md).
  const model = await loadModel(file);
  const loadMs = performance.now() - t0;
  const loadRss = peakRssMb();
  const prompt = [1, 300, 5, 77];
  // Forced ids: the decode count is fixed (a synthetic model may emit BOS and stop).
  const forced = Array.from({ length: steps + 1 }, (_, i) => 3 + ((i * 7919 + 29) % (model.config.vocabSize - 3)));
  const r = generate(model, { promptTokens: prompt, steps: prompt.length + forced.length, policy: densePolicy(), kernels: loaded[0].kernels, forcedTokens: forced });
  return { load_ms: loadMs, load_rss_mb: loadRss, peak_rss_mb: peakRssMb(), tokens_per_s: r.timing.decodeTokensPerSecond };
}

const [file, engine, steps, threads] = process.argv.slice(2);
probe(file, engine, Number(steps), Number(threads)).then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (e) => {
    process.stderr.write(`${(e as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
