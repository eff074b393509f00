// Each paper-suite row's peak RSS (peak_rss_mb, peak_rss_scope) on an F16 GGUF loaded as the
// bench loads the TinyLlama-shape file (words only, `halfLoadFor('native-cpu-f16')`): the
// suite's rows with a short scenario (8-token prompt, 2 new tokens, Dense and TDA 0.5), so
// what shows is what each row holds, not generation. One JSON line per row, then the
// process's peak. Not a test: at TinyLlama's shape the f32 rows widen 4.4 GB.
//
//   npx tsx scripts/measure-paper-rows-rss.ts --model FILE
//
// (scripts/measure-calibration-rss.ts writes a TinyLlama-shape F16 file when given none.)

import { createNativeCpuBackend, halfLoadFor } from '../src/backends/native-cpu/index.js';
import { runPeakRssMb } from '../src/bench/rss.js';
import { runPaperSuite } from '../src/bench/suite-paper.js';
import { loadModel } from '../src/models/discovery.js';

async function main(): Promise<void> {
  const i = process.argv.indexOf('--model');
  if (i < 0) throw new Error('usage: measure-paper-rows-rss.ts --model FILE (an F16 GGUF)');
  const model = await loadModel(process.argv[i + 1], undefined, halfLoadFor('native-cpu-f16'));
  const r = await runPaperSuite({ label: 'm', model, gguf: {} }, {
    promptTokens: 8, newTokens: 2, methods: ['dense', 'tda'], density: 0.5, threads: 2, llamaCpp: false,
    backends: { f32: createNativeCpuBackend(), f16: createNativeCpuBackend('f16') },
  });
  for (const x of r.rows) {
    console.log(JSON.stringify({ backend: x.backend, method: x.method, peak_rss_mb: Math.round(x.peak_rss_mb), peak_rss_scope: x.peak_rss_scope }));
  }
  // The kernel's maxRSS now covers only the last row (the resets): the run's peak is kept apart.
  console.log(JSON.stringify({ run_peak_rss_mb: Math.round(runPeakRssMb()), kernel_max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
