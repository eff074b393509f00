// `tda spec`: run the papers' claims as executable checks at several seeds and write the
// claim table. By default it writes reports/REPORT.md, reports/report.json and the figures
// in reports/spec/ (gitignored); `--update-report` refreshes the committed spec/REPORT.md,
// spec/report.json and docs/spec/. Progress goes to stderr; `--json` prints the JSON.
// The seeds after the first run in child processes alongside the first (2 cores: ~1.6×).

import { Option, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from '../../errors.js';
import type { ClaimResult, Verdict } from '../../proofs/claim.js';
import { loadRealModel, useRealModel } from '../../proofs/realmodel.js';
import {
  COMMITTED_FIGURES_DIR,
  compareVerdicts,
  DEFAULT_REPORTS_DIR,
  DEFAULT_SEED_COUNT,
  DEFAULT_SPEC_DIR,
  PACKAGE_ROOT,
  reportJson,
  runChecks,
  writeReport,
} from '../../proofs/report.js';
import { loadModelFiles } from '../../models/discovery.js';
import { estimateSpecSeconds, formatDuration, forwardParams } from '../../proofs/estimate.js';
import { integer } from '../options.js';

interface SpecOptions {
  json?: boolean;
  heavy?: boolean;
  seed: number;
  seeds: number;
  only?: string;
  reports: string;
  updateReport?: boolean;
  model?: string;
  tokenizer?: string;
  text?: string;
  worker?: boolean;
}


export function specCommand(program: Command): void {
  program
    .command('spec')
    .description('run the papers’ claims as executable checks; writes reports/REPORT.md (with --update-report: spec/REPORT.md)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--heavy', 'bigger sweeps (more samples, seeds and training steps)')
    .option('--seed <n>', 'first random seed; stochastic checks run at seed, seed+1, …', integer('--seed', 0), 1)
    .option('--seeds <k>', 'how many seeds the stochastic checks run at', integer('--seeds', 1, 20), DEFAULT_SEED_COUNT)
    .option('--only <ids>', 'run only these claim ids (comma-separated)')
    .option('--reports <dir>', 'folder for REPORT.md, report.json and the figures (spec/)', DEFAULT_REPORTS_DIR)
    .option('--update-report', 'refresh the committed spec/REPORT.md, spec/report.json and docs/spec/ figures')
    .option('--model <file>', 'run the real-model checks on this model (default: the embedded stories260K)')
    .option('--tokenizer <file>', 'the model’s tokenizer (default: beside the model)')
    .option('--text <file>', 'evaluation text for the real-model checks (default: samples of the model)')
    .addOption(new Option('--worker', 'internal: run one seed and print the raw results').hideHelp())
    .action(async (opts: SpecOptions) => {
      const { claims } = await import('../../../spec/index.js');
      const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
      if (only) {
        const unknown = only.filter((id) => !claims.some((c) => c.id === id));
        if (unknown.length) throw new UserError(`unknown claim id ${unknown.join(', ')}; known: ${claims.map((c) => c.id).join(', ')}`);
      }
      if (opts.updateReport && (only || opts.model || opts.text || opts.heavy || opts.seed !== 1 || opts.seeds !== DEFAULT_SEED_COUNT)) {
        throw new UserError('--update-report refreshes the committed report: run it with the defaults (no --only, --model, --text, --heavy, --seed or --seeds)');
      }
      let text: string | undefined;
      if (opts.text) {
        try {
          text = readFileSync(opts.text, 'utf8');
        } catch {
          throw new UserError(`cannot read --text file ${opts.text}`);
        }
        if (text.trim().length < 200) throw new UserError(`--text ${opts.text} is too short (need a few hundred characters of text)`);
      }
      if (opts.model || text) {
        const files = opts.model ? await loadModelFiles({ model: opts.model, tokenizer: opts.tokenizer }) : loadRealModel();
        useRealModel({ model: files.model, tokenizer: files.tokenizer, name: opts.model ? basename(opts.model) : 'stories260K', text });
      }
      const real = loadRealModel();
      const custom = real.name !== 'stories260K';
      const selected = claims.filter((c) => (!only || only.includes(c.id)) && !(custom && c.defaultModelOnly));
      if (custom) {
        const skipped = claims.filter((c) => c.defaultModelOnly).map((c) => c.id);
        if (skipped.length) process.stderr.write(`tda spec: ${skipped.join(', ')} use inputs written for stories260K and are skipped on ${real.name}\n`);
      }
      const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.seed + i);

      if (opts.worker) {
        const out: { id: string; result: ClaimResult }[] = [];
        for (const c of selected) out.push({ id: c.id, result: await c.run({ seed: opts.seed, heavy: !!opts.heavy, figuresDir: join(opts.reports, 'spec'), progress: () => {} }) });
        process.stdout.write(JSON.stringify(out));
        return;
      }

      const estimate = estimateSpecSeconds(forwardParams(real.model), seeds.length);
      if (estimate > 60 || custom) {
        process.stderr.write(`tda spec: estimated run time ${formatDuration(estimate)} on an idle 2-core machine (${real.name}, ${seeds.length} seed${seeds.length > 1 ? 's' : ''})\n`);
      }

      const reportDir = opts.updateReport ? DEFAULT_SPEC_DIR : opts.reports;
      const figuresDir = opts.updateReport ? COMMITTED_FIGURES_DIR : join(opts.reports, 'spec');
      const scratch = mkdtempSync(join(tmpdir(), 'tda-spec-seed-'));
      const tty = process.stderr.isTTY;
      let lastLine = '';
      let lastBucket = '';
      try {
        const report = await runChecks(selected, {
          seeds,
          heavy: !!opts.heavy,
          figuresDir,
          model: real.name,
          runElsewhere: seeds.length > 1 ? (ids, seed) => runSeedInChild(ids, seed, opts, join(scratch, String(seed))) : undefined,
          progress: (id, message, fraction) => {
            const line = `[${id}] ${fraction !== undefined ? `${Math.round(100 * fraction)}% ` : ''}${message}`;
            if (line === lastLine) return;
            // Without a terminal, one line per claim per 10% step is enough.
            const bucket = `${id}:${fraction === undefined ? message : Math.floor(10 * fraction)}`;
            if (!tty && bucket === lastBucket) return;
            lastLine = line;
            lastBucket = bucket;
            process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
          },
        });
        if (tty) process.stderr.write('\r\x1b[K');
        const expected = JSON.parse(readFileSync(join(DEFAULT_SPEC_DIR, 'expected-verdicts.json'), 'utf8')) as Record<string, Verdict>;
        const comparable = !opts.heavy && !custom && opts.seed === 1 && opts.seeds === DEFAULT_SEED_COUNT;
        const paths = writeReport(report, reportDir, comparable ? expected : undefined);
        process.stderr.write(`wrote ${paths.markdown}, ${paths.json} and figures in ${figuresDir}\n`);
        for (const c of report.claims) process.stderr.write(`${c.id}: ${c.result.verdict} (${c.seconds.toFixed(1)} s)\n`);
        if (opts.json) process.stdout.write(reportJson(report));
        const diffs = compareVerdicts(report.verdicts, expected, report.claims.map((c) => c.id), report.claims.filter((c) => c.timing).map((c) => c.id));
        if (diffs.length && comparable) {
          // Exit 1 (the thing checked is wrong), with the differences listed in one line.
          throw new UserError(`verdicts differ from spec/expected-verdicts.json (explain, then update it): ${diffs.join('; ')}`, 1);
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
}

/** One seed of the stochastic checks in a child `tda spec --worker`; resolves to its raw results. */
function runSeedInChild(ids: string[], seed: number, opts: SpecOptions, dir: string): Promise<{ id: string; result: ClaimResult }[]> {
  const args = [join(PACKAGE_ROOT, 'bin', 'tda.js'), 'spec', '--worker', '--seed', String(seed), '--only', ids.join(','), '--reports', dir];
  if (opts.heavy) args.push('--heavy');
  if (opts.model) args.push('--model', opts.model);
  if (opts.tokenizer) args.push('--tokenizer', opts.tokenizer);
  if (opts.text) args.push('--text', opts.text);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tda spec at seed ${seed} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`tda spec at seed ${seed}: unreadable output from the child process`));
      }
    });
  });
}
