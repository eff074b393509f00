// `tda vectors export|run|check`: the conformance cases as files, for kernels in
// any language (docs/vectors.md). `check` judges results written by anything with
// the same report and exit codes as `tda conformance`: 0 conformant, 1 not
// conformant, 2 bad input (no manifest, a malformed file).

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError, describeError } from '../../errors.js';
import { formatReport, reportJson } from '../../conformance/index.js';
import { loadStories } from '../../conformance/models.js';
import type { Precision } from '../../conformance/tolerance.js';
import { checkVectors, exportVectors, type Manifest, readManifest, runVectors, type VectorFiles } from '../../conformance/vectors.js';
import { loadCheckpoint } from '../../models/llama2c.js';
import { integer } from '../options.js';
import { backendToCheck } from './conformance.js';

function folder(dir: string, create: boolean): VectorFiles {
  if (create) fs.mkdirSync(dir, { recursive: true });
  else if (!fs.existsSync(dir)) throw new UserError(`no such folder: ${dir}`);
  return {
    read(file) {
      try {
        return fs.readFileSync(path.join(dir, file));
      } catch (e) {
        throw new UserError(`cannot read ${path.join(dir, file)}: ${describeError(e)}`);
      }
    },
    write(file, bytes) {
      fs.writeFileSync(path.join(dir, file), bytes);
    },
  };
}

function manifestOf(files: VectorFiles): Manifest {
  try {
    return readManifest(files);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

export function vectorsCommand(program: Command): void {
  const v = program.command('vectors').description('conformance cases as files (manifest.json + safetensors) for kernels in any language');
  v.command('export')
    .description('write the cases, their expected outputs and per-element bounds')
    .requiredOption('--out <dir>', 'folder to write (created)')
    .option('--quick', 'the --quick cases without the LLaMA-size ones (under 50 MB), 32-step generations')
    .option('--seed <s>', 'seed of the random cases', integer('--seed', 0, 0x7fffffff), 1)
    .option('--precision <p>', 'bounds for fp32, or for fp16 / bf16 weights', 'fp32')
    .option('--model <file...>', 'also mask and generation cases on these llama2.c checkpoints (seeded random prompts)')
    .option('--model-dir <dir>', 'folder holding stories260K.bin (default $TDA_MODEL_DIR, else the embedded copy)')
    .action((o: { out: string; quick?: boolean; seed: number; precision: string; model?: string[]; modelDir?: string }) => {
      if (!['fp32', 'fp16', 'bf16'].includes(o.precision)) throw new UserError(`--precision must be fp32, fp16 or bf16, got "${o.precision}"`);
      const stories = loadStories(o.modelDir);
      const models = [
        { name: 'stories260K', model: stories.model, prompts: stories.golden.map((g) => g.prompt_tokens) },
        ...(o.model ?? []).map((f) => {
          const model = loadCheckpoint(f);
          const prompts = [[1, 2, 3, 4, 5].map((t) => t % model.config.vocabSize)];
          return { name: path.basename(f, path.extname(f)), model, prompts };
        }),
      ];
      let bytes = 0;
      const m = exportVectors(
        {
          seed: o.seed,
          quick: !!o.quick,
          precision: o.precision as Precision,
          models,
          onCase: (c, n) => {
            bytes += n;
            process.stderr.write(`  ${c.id}  ${(n / 1e6).toFixed(2)} MB\n`);
          },
        },
        folder(o.out, true),
      );
      process.stdout.write(`${m.cases.length} cases, ${(bytes / 1e6).toFixed(1)} MB (plus model files) in ${o.out}\n`);
    });
  v.command('run <dir>')
    .description("run a backend over the cases; writes <id>.safetensors with tensor 'out' per case")
    .option('--backend <name>', 'a registered backend')
    .option('--backend-module <file>', 'a module whose default export implements Backend')
    .requiredOption('--out <dir>', 'folder for the results (created)')
    .action(async (dir: string, o: { backend?: string; backendModule?: string; out: string }) => {
      const input = folder(dir, false);
      const manifest = manifestOf(input);
      const backend = await backendToCheck(o);
      try {
        runVectors(backend.kernels, manifest, input, folder(o.out, true), (c) => process.stderr.write(`  ${c.id}\n`));
      } finally {
        backend.dispose?.();
      }
      process.stdout.write(`${manifest.cases.length} results in ${o.out}\n`);
    });
  v.command('check <dir> <results>')
    .description('judge results written by anything, with the tolerance rules and exit codes of tda conformance')
    .option('--json', 'print the report as JSON')
    .option('--only <check...>', 'judge only rows whose name contains this text')
    .action((dir: string, results: string, o: { json?: boolean; only?: string[] }) => {
      const input = folder(dir, false);
      const manifest = manifestOf(input);
      if (!fs.existsSync(results)) throw new UserError(`no such folder: ${results}`);
      const report = checkVectors(
        manifest,
        input,
        (id) => {
          const f = path.join(results, `${id}.safetensors`);
          return fs.existsSync(f) ? fs.readFileSync(f) : undefined;
        },
        { backend: path.basename(path.resolve(results)), only: o.only },
      );
      process.stdout.write(`${o.json ? reportJson(report) : formatReport(report)}\n`);
      if (!report.conformant) {
        const failing = report.rows.filter((r) => r.verdict === 'fail').map((r) => r.check);
        throw new UserError(`the results are NOT conformant: ${failing.join(', ')}`, 1);
      }
    });
}
