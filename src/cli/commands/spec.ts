// `tda spec`: run the papers' claims as executable checks and write the claim table
// (spec/REPORT.md + spec/report.json). Progress goes to stderr; `--json` prints the JSON.

import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import type { Verdict } from '../../proofs/claim.js';
import { compareVerdicts, DEFAULT_REPORTS_DIR, DEFAULT_SPEC_DIR, reportJson, runChecks, writeReport } from '../../proofs/report.js';

export function specCommand(program: Command): void {
  program
    .command('spec')
    .description('run the papers’ claims as executable checks; writes spec/REPORT.md and spec/report.json')
    .option('--json', 'print the report as JSON on stdout')
    .option('--heavy', 'bigger sweeps (more samples, seeds and training steps)')
    .option('--seed <n>', 'random seed', '1')
    .option('--only <ids>', 'run only these claim ids (comma-separated); the spec/ report files are then left untouched')
    .option('--reports <dir>', 'folder for figures', DEFAULT_REPORTS_DIR)
    .action(async (opts: { json?: boolean; heavy?: boolean; seed: string; only?: string; reports: string }) => {
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed must be a non-negative integer, got "${opts.seed}"`);
      const { claims } = await import('../../../spec/index.js');
      const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
      if (only) {
        const unknown = only.filter((id) => !claims.some((c) => c.id === id));
        if (unknown.length) throw new UserError(`unknown claim id ${unknown.join(', ')}; known: ${claims.map((c) => c.id).join(', ')}`);
      }
      const selected = only ? claims.filter((c) => only.includes(c.id)) : claims;
      const tty = process.stderr.isTTY;
      let lastLine = '';
      let lastBucket = '';
      const report = await runChecks(selected, {
        seed,
        heavy: !!opts.heavy,
        reportsDir: opts.reports,
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
      if (!only) {
        const paths = writeReport(report, DEFAULT_SPEC_DIR, opts.heavy ? undefined : expected);
        process.stderr.write(`wrote ${paths.markdown} and ${paths.json}\n`);
      }
      for (const c of report.claims) process.stderr.write(`${c.id}: ${c.result.verdict} (${c.seconds.toFixed(1)} s)\n`);
      const diffs = compareVerdicts(report.verdicts, expected, only ?? report.claims.map((c) => c.id));
      if (diffs.length && !opts.heavy && seed === 1) {
        process.stderr.write(`verdicts differ from spec/expected-verdicts.json (explain, then update it):\n  ${diffs.join('\n  ')}\n`);
      }
      if (opts.json) process.stdout.write(reportJson(report));
    });
}
