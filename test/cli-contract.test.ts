// One CLI contract for every command (docs/cli.md): exit 0 on success, 1 when the
// thing checked is wrong, 2 for usage or input errors; every error one line in
// words, checked before work starts; text on stdout, statistics on stderr; and the
// keep-everything settings of TT, TDA and Griffin are exactly Dense — checked
// against llama2.c's own greedy tokens (the outside oracle), not against the kit.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, ROOT, goldenCases, runCli, tmpFile } from './helpers.js';

function expectOneLineError(r: CliResult, code: number, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tda: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |\bE[A-Z]{3,}\b/); // no stack trace, no errno code
}

const COMMANDS = ['generate', 'calibrate', 'compare', 'conformance', 'spec', 'bench'];

describe('exit codes', () => {
  it('--version prints the package version; --help exits 0', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await runCli(['generate', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--method/);
  });

  it('an unknown option is a usage error (2) on every command', async () => {
    // Required options given, so that the unknown one is what is reported.
    const required: Record<string, string[]> = { calibrate: ['--method', 'tda'], compare: ['--method', 'tt'] };
    const results = await Promise.all(COMMANDS.map((c) => runCli([c, ...(required[c] ?? []), '--no-such-option'])));
    results.forEach((r) => expectOneLineError(r, 2, /unknown option '--no-such-option'/));
  });

  it('a bad number is a usage error (2) on every command that takes one', async () => {
    const cases: [string[], RegExp][] = [
      [['generate', '--steps', 'ten'], /--steps must be a number/],
      [['calibrate', '--method', 'tda', '--cett', '2'], /--cett must be a number in \[0, 1\]/],
      [['compare', '--method', 'tda', '--density', 'x'], /--density must be a number/],
      [['conformance', '--backend', 'reference', '--seed', '-1'], /--seed must be a number/],
      [['spec', '--seed', 'one'], /--seed must be a number/],
      [['bench', '--suite', 'nope'], /--suite must be one of/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => expectOneLineError(r, 2, cases[i][1]));
  });

  it('conformance: 0 for a conformant backend, 1 for a broken one, 2 for an unknown one', async () => {
    const only = ['--only', 'kernel ffnDown'];
    const [ok, broken, unknown] = await Promise.all([
      runCli(['conformance', '--backend', 'reference', '--quick', ...only]),
      runCli(['conformance', '--backend-module', path.join(ROOT, 'test/fixtures/broken-backends/dropped-term.ts'), '--quick', ...only]),
      runCli(['conformance', '--backend', 'abacus']),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/CONFORMANT/);
    expect(broken.code, broken.stderr).toBe(1);
    expect(broken.stderr).toMatch(/NOT conformant: kernel ffnDown/);
    expectOneLineError(unknown, 2, /unknown backend "abacus"/);
  });

  it('spec: an unknown claim id is a usage error (2)', async () => {
    expectOneLineError(await runCli(['spec', '--only', 'claim-99']), 2, /unknown claim id claim-99/);
  });
});

describe('errors are one line in words, found before any work starts', () => {
  it('settings that cannot mean anything are refused with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['generate', '--method', 'tda', '--density', '0'], /--density 0 keeps no neuron/],
      [['generate', '--method', 'griffin', '--density', '0'], /--density 0 keeps no neuron/],
      [['calibrate', '--method', 'tt', '--density', '0'], /--density 0 keeps no neuron/],
      [['generate', '--temperature', '1', '--topp', '0'], /--topp must be in \(0, 1\]/],
      [['generate', '--prompt', 'Once upon a time', '--steps', '3'], /--steps 3 is below the prompt length \(5 tokens/],
      [['compare', '--method', 'tt', '--prompt', 'Once upon a time', '--steps', '2'], /--steps 2 is below the length of prompt/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => expectOneLineError(r, 2, cases[i][1]));
  });

  it('file errors are words, not errno codes', async () => {
    const dir = path.dirname(tmpFile('x', ''));
    expectOneLineError(await runCli(['generate', '--model', dir]), 2, /a folder without config\.json is not a Hugging Face model folder$/);
    expectOneLineError(await runCli(['generate', '--tokenizer', dir]), 2, /folder/);
    expectOneLineError(await runCli(['compare', '--method', 'tt', '--text', path.join(dir, 'none.txt')]), 2, /no such file or folder$/);
  });

  it('calibrate checks its output path before calibrating', async () => {
    const r = await runCli(['calibrate', '--method', 'tda', '--out', '/nonexistent-dir/t.json']);
    expectOneLineError(r, 2, /cannot write thresholds file \/nonexistent-dir\/t\.json: the folder \/nonexistent-dir does not exist/);
    const folder = path.dirname(tmpFile('y', ''));
    expectOneLineError(await runCli(['calibrate', '--method', 'tda', '--out', folder]), 2, /it is a folder/);
  });
});

describe('the keep-everything settings are exactly Dense', () => {
  // TT/TDA with CETT 0 or density 1, and Griffin at density 1, must reproduce
  // llama2.c's greedy tokens for every golden prompt.
  const settings = [
    ['tt', '--cett', '0'],
    ['tt', '--density', '1'],
    ['tda', '--cett', '0'],
    ['tda', '--density', '1'],
    ['griffin', '--density', '1'],
  ];
  for (const [method, flag, value] of settings) {
    it(`${method} ${flag} ${value}`, async () => {
      for (const c of goldenCases()) {
        const r = await runCli(['generate', '--prompt', c.prompt, '--steps', String(c.steps), '--method', method, flag, value, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.tokens).toEqual(c.greedy_tokens);
        expect(out.density).toBe(1);
        expect(out.setting[flag.slice(2)]).toBe(Number(value));
        if (method !== 'griffin') {
          expect(out.thresholds).toEqual([0, 0, 0, 0, 0]);
          expect(out.thresholds_source).toMatch(/keeps every neuron/);
        }
      }
    });
  }

  it('a calibrated TDA run records its thresholds, their source and the density measured on the prompt', async () => {
    const r = await runCli(['generate', '--prompt', 'Once upon a time', '--steps', '40', '--method', 'tda', '--density', '0.5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.method).toBe('tda');
    expect(out.setting).toEqual({ density: 0.5 });
    expect(out.thresholds).toHaveLength(5);
    for (const t of out.thresholds) expect(t).toBeGreaterThan(0);
    expect(out.thresholds_source).toMatch(/^calibrated to density 0\.5 on 8 samples of the model/);
    const mean = out.layers.reduce((s: number, l: { kept: number; total: number }) => s + l.kept / l.total, 0) / out.layers.length;
    expect(out.density).toBeCloseTo(mean, 12);
  });
});

describe('output', () => {
  it('generate: the text alone on stdout, the statistics on stderr; JSON keys are snake_case', async () => {
    const c = goldenCases()[0];
    const r = await runCli(['generate', '--prompt', c.prompt, '--steps', String(c.steps)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${c.prompt}${c.greedy_text}\n`);
    expect(r.stderr).toMatch(/method dense on reference/);
    const j = await runCli(['generate', '--prompt', c.prompt, '--steps', '20', '--json']);
    const keys: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (keys.push(k), walk(x));
    };
    walk(JSON.parse(j.stdout));
    expect(keys.filter((k) => !/^[a-z0-9_]+$/.test(k))).toEqual([]);
    expect(keys).toContain('decode_tokens_per_second');
  });
});
