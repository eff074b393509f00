// `tda bench`: the performance suites (src/bench/) with a table, --json and an SVG.
// Progress goes to stderr so stdout stays a clean table or JSON document.

import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { LLAMA2_7B, DEFAULT_SYNTHETIC, FULL_DENSITIES, PAPER_MODELS, type PaperModelName, QUICK_DENSITIES, type Progress, runBench } from '../../bench/run.js';
import { speedupSvg } from '../../bench/svg-plot.js';
import { formatReport } from '../../bench/table.js';
import { SUITES, type SuiteName } from '../../bench/types.js';
import { parseMethod } from '../../reference/methods.js';
import { METHODS } from '../../reference/policies/types.js';
import { defaultModelDir, goldenFile } from '../../models/discovery.js';
import { integer, kvCacheType } from '../options.js';

function list<T>(name: string, parse: (s: string) => T) {
  return (v: string): T[] => {
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`${name} needs at least one value`);
    return items.map(parse);
  };
}

const density = (s: string): number => {
  const x = Number(s);
  if (!(s !== '' && x > 0 && x <= 1)) throw new InvalidArgumentError(`--densities: each density must be in (0, 1], got "${s}"`);
  return x;
};

const shape = (s: string): { dim: number; hiddenDim: number } => {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m || Number(m[1]) < 8 || Number(m[2]) < 2 || Number(m[1]) % 2) throw new InvalidArgumentError('--shape must be DIMxHIDDEN, e.g. 256x512 (dim even, ≥ 8)');
  return { dim: Number(m[1]), hiddenDim: Number(m[2]) };
};

/** Not a terminal (CI logs, redirected stderr): one line per stage instead of a bar. */
function stageLog(): Progress {
  let last = '';
  const t0 = performance.now();
  return {
    start() {},
    tick(label) {
      const stage = label.split(' ').slice(0, 2).join(' ');
      if (stage === last) return;
      last = stage;
      process.stderr.write(`bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s  ${label}\n`);
    },
    stop() {},
  };
}

function progressBar(enabled: boolean): Progress | undefined {
  if (!enabled) return undefined;
  if (!process.stderr.isTTY) return stageLog();
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {percentage}% {value}/{total} {label}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  let total = 1;
  return {
    start(t) {
      total = t;
      bar.start(t, 0, { label: '' });
    },
    tick(label, n = 1) {
      value = Math.min(value + n, total - 1);
      bar.update(value, { label });
    },
    stop() {
      bar.update(total);
      bar.stop();
    },
  };
}

export function benchCommand(program: Command): void {
  program
    .command('bench')
    .description('time Dense / TT / Griffin / TDA per backend against the memory-bound ceiling, copy bandwidth and llama.cpp')
    .option('--suite <name>', `ffn | layer | e2e | all (= ffn, layer, e2e) | paper (prompt + generation end to end, minutes)`, 'all')
    .option('--backend <names>', 'comma-separated backends (default: every registered backend)', list('--backend', (s) => s))
    .option('--methods <names>', `comma-separated, of ${METHODS.join(', ')}`, list('--methods', parseMethod))
    .option('--densities <list>', `kept fractions (default ${FULL_DENSITIES.join(',')}; --quick ${QUICK_DENSITIES.join(',')})`, list('--densities', density))
    .option('--ctx <n>', 'layer suite: KV-cache length', integer('--ctx', 1, 1 << 16), 1024)
    .option('--shape <DxH>', `ffn/layer shape (default ${LLAMA2_7B.dim}x${LLAMA2_7B.hiddenDim}, LLaMA-2-7B)`, shape)
    .option('--quick', 'fewer densities and runs: finishes in about a minute')
    .option('--no-llama-cpp', 'skip the llama.cpp (node-llama-cpp) baseline')
    .option('--seed <n>', 'weights and kept-list seed', integer('--seed', 0), 1)
    .option('--json', 'print one JSON object instead of the table')
    .option('--svg <file>', 'write a plot of speed-up vs density per backend, with the ceiling')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--contended', 'run two CPU hogs beside the bench (a busy machine)')
    .option('--kv-cache <type>', "paper suite: the kit's KV cache, f32 | f16 (default: each backend's own: f16 on native-cpu-f16, f32 on native-cpu)", kvCacheType)
    .option('--model <file>', 'e2e suite: time this model file (llama2.c .bin, GGUF, Hugging Face folder) instead of stories260K and the synthetic model; llama.cpp beside it when it is GGUF')
    .option(
      '--paper-models <names>',
      `paper suite models, of ${Object.keys(PAPER_MODELS).join(', ')} (default all)`,
      list('--paper-models', (v) => {
        if (!(v in PAPER_MODELS)) throw new InvalidArgumentError(`--paper-models: unknown model "${v}" (use ${Object.keys(PAPER_MODELS).join(', ')})`);
        return v as PaperModelName;
      }),
    )
    .action(async (o) => {
      const suite = String(o.suite);
      if (suite !== 'all' && suite !== 'paper' && !(SUITES as readonly string[]).includes(suite)) {
        throw new InvalidArgumentError(`--suite must be one of ffn, layer, e2e, all, paper (got "${suite}")`);
      }
      const suites: SuiteName[] = suite === 'all' ? [...SUITES] : [suite as SuiteName];
      if (o.model !== undefined && suite !== 'e2e') throw new InvalidArgumentError(`--model applies to --suite e2e only (got --suite ${suite})`);
      const s = o.shape ?? LLAMA2_7B;
      const modelDir = defaultModelDir();
      const report = await runBench({
        suites,
        backends: o.backend,
        methods: o.methods ?? [...METHODS],
        densities: o.densities ?? (o.quick ? QUICK_DENSITIES : FULL_DENSITIES),
        ctx: o.ctx,
        quick: Boolean(o.quick),
        dim: s.dim,
        hiddenDim: s.hiddenDim,
        seed: o.seed,
        modelDir,
        synthetic: DEFAULT_SYNTHETIC,
        llamaCpp: o.llamaCpp !== false,
        threads: 2,
        goldenFile: goldenFile(modelDir),
        progress: progressBar(o.progress !== false),
        contended: Boolean(o.contended),
        paperModels: o.paperModels,
        kvCache: o.kvCache,
        model: o.model,
      });
      if (o.svg) {
        fs.writeFileSync(o.svg, await speedupSvg(report.rows, `tda bench${report.quick ? ' --quick' : ''}: speed-up vs density (${report.machine.cpu}, ${report.date.slice(0, 10)})`));
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 1)}\n` : formatReport(report));
    });
}
