// `tda conformance`: runs the conformance harness (src/conformance/) on one backend
// and prints the report. Exit 0: conformant; 1: not conformant; 2: bad input (an
// unknown backend, a backend that cannot load here, a missing model).
//
// Unlike `tda generate`, an unavailable backend does NOT fall back to the
// reference: a report for the reference under another backend's name would be a
// false "conformant".

import path from 'node:path';
import type { Command } from 'commander';
import { loadModel } from '../../models/discovery.js';
import type { Model } from '../../core/model.js';
import '../../backends/all.js';
import { keepHalfFor } from '../../backends/native-cpu/index.js';
import { loadBackend, loadBackendModule, registeredBackendNames } from '../../backends/registry.js';
import type { Backend } from '../../core/kernels.js';
import { UserError } from '../../errors.js';
import { formatReport, reportJson, runConformance } from '../../conformance/index.js';
import { integer } from '../options.js';

interface ConformanceCliOptions {
  backend?: string;
  backendModule?: string;
  seed: number;
  runs?: number;
  json?: boolean;
  quick?: boolean;
  only?: string[];
  modelDir?: string;
  model?: string[];
}

/**
 * The backend a check runs on: --backend NAME or --backend-module FILE. A known
 * backend that cannot run here ends in one line saying so and that nothing else
 * was checked in its place (tda generate would fall back to the reference).
 */
export async function backendToCheck(o: { backend?: string; backendModule?: string }): Promise<Backend> {
  if (!o.backend === !o.backendModule) throw new UserError('give exactly one of --backend NAME or --backend-module FILE');
  if (o.backendModule) return loadBackendModule(o.backendModule);
  try {
    return await loadBackend(o.backend!);
  } catch (e) {
    if (e instanceof UserError && registeredBackendNames().includes(o.backend!)) {
      throw new UserError(`${e.message}; nothing was checked (conformance does not fall back to the reference)`);
    }
    throw e;
  }
}

export function conformanceCommand(program: Command): void {
  program
    .command('conformance')
    .description('check a backend against the reference: kernel properties, TT/Griffin/TDA masks, greedy tokens on stories260K')
    .option('--backend <name>', 'a registered backend (reference, tfjs-wasm, native-cpu, native-cuda, gpujs, …)')
    .option('--backend-module <file>', 'a module whose default export implements the Backend interface (docs/conformance.md)')
    .option('--seed <s>', 'seed of all random cases (same seed, same cases)', integer('--seed', 0, 0x7fffffff), 1)
    .option('--runs <n>', 'fast-check runs per kernel (default 100; --quick 25)', integer('--runs', 1, 1_000_000))
    .option('--quick', 'fewer runs, no LLaMA-size FFN cases, 64-step generations')
    .option('--json', 'print the report as JSON')
    .option('--only <check...>', 'run only checks whose name contains this text (e.g. "kernel matvec")')
    .option('--model <file...>', 'also run the end-to-end checks on these models: llama2.c, GGUF or Hugging Face folders (seeded random prompts)')
    .option('--model-dir <dir>', 'folder holding stories260K.bin (default $TDA_MODEL_DIR, else the embedded copy)')
    .action(async (o: ConformanceCliOptions) => {
      const backend = await backendToCheck(o);
      const models: { name: string; model: Model }[] = [];
      // A half-precision native backend reads an F16/BF16 file's own words, as under `tda generate`
      // (the same values its own conversion gives: docs/models.md).
      const keepHalf = o.backendModule ? false : keepHalfFor(o.backend);
      for (const f of o.model ?? []) models.push({ name: path.basename(f), model: await loadModel(f, undefined, { keepHalf }) });
      const command = [
        'tda conformance',
        o.backendModule ? `--backend-module ${o.backendModule}` : `--backend ${o.backend}`,
        `--seed ${o.seed}`,
        o.runs !== undefined ? `--runs ${o.runs}` : '',
        o.quick ? '--quick' : '',
      ].filter(Boolean).join(' ');
      process.stderr.write(`checking ${backend.name} …\n`);
      let last = performance.now();
      try {
        const report = await runConformance(backend, {
          seed: o.seed,
          runs: o.runs,
          quick: o.quick,
          only: o.only,
          modelDir: o.modelDir,
          command,
          models,
          onRows: (rows) => {
            const now = performance.now();
            for (const r of rows) process.stderr.write(`  ${r.verdict === 'pass' ? 'pass' : 'FAIL'}  ${r.check}  (${((now - last) / 1000).toFixed(1)} s)\n`);
            last = now;
          },
        });
        process.stdout.write(`${o.json ? reportJson(report) : formatReport(report)}\n`);
        if (!report.conformant) {
          const failing = report.rows.filter((r) => r.verdict === 'fail').map((r) => r.check);
          // main() turns this into exit code 1 and one line on stderr.
          throw new UserError(`${backend.name} is NOT conformant: ${failing.join(', ')}`, 1);
        }
      } finally {
        backend.dispose?.();
      }
    });
}
