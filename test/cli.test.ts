// The `tda` command as a user meets it: the main job works right away, and bad
// input ends in one clear line on stderr and a non-zero exit — never a stack trace.

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CliResult, MODEL_FILE, TOKENIZER_FILE, goldenCases, runCli, tmpFile } from './helpers.js';

const model = fs.readFileSync(MODEL_FILE);
const withModel = (file: string) => ['--model', file, '--tokenizer', TOKENIZER_FILE];

function expectCleanError(r: CliResult, pattern: RegExp, code = 2) {
  expect(r.code).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('tda generate', () => {
  it('--json reproduces the golden greedy output (started through tsx, as a source checkout runs it)', async () => {
    const c = goldenCases()[2];
    const r = await runCli(['generate', '--prompt', c.prompt, '--steps', String(c.steps), '--json'], { TDA_CLI_FROM: '' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.prompt_tokens).toEqual(c.prompt_tokens);
    expect(out.tokens).toEqual(c.greedy_tokens);
    expect(out.text).toBe(c.greedy_text);
    expect(out.layers).toHaveLength(5);
    expect(out.layers[0]).toEqual({ kept: 172, total: 172, density: 1 });
  });

  it('human output shows the text, per-layer density and tokens/s', async () => {
    const r = await runCli(['generate', '--prompt', 'Once upon a time', '--steps', '40', '--method', 'griffin', '--density', '0.5']);
    expect(r.code).toBe(0);
    // The text alone on stdout; the statistics on stderr.
    expect(r.stdout).toMatch(/^Once upon a time[^\n]*\n$/);
    expect(r.stderr).toMatch(/layer 4: 86\/172 neurons \(50\.0%\)/);
    expect(r.stderr).toMatch(/setting: density 0\.5/);
    expect(r.stderr).toMatch(/tokens\/s/);
  });

  it('an unavailable backend falls back to the reference and says so', async () => {
    const r = await runCli(['generate', '--steps', '8', '--backend', 'native-cuda', '--json']);
    if (r.code === 0 && !/falling back/.test(r.stderr)) {
      // A GPU is really there: then the run must say it ran on CUDA.
      expect(JSON.parse(r.stdout).backend.engine).toMatch(/cuda/i);
    } else {
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/backend native-cuda unavailable .*falling back to reference/);
      expect(JSON.parse(r.stdout).backend.name).toBe('reference');
    }
  });
});

describe('tda calibrate and tda compare', () => {
  it('calibrate writes a thresholds file that generate then uses', async () => {
    const out = tmpFile('th.json', '');
    const c = await runCli(['calibrate', '--method', 'tda', '--density', '0.5', '--sequences', '3', '--length', '48', '--prompt-length', '12', '--out', out]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/layer 4: tau \S+ +kept \d+\.\d% +CETT \d\.\d{4}/);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).format).toBe('tda-kit/thresholds@2');
    const file = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(file.method).toBe('tda');
    expect(file.layers).toHaveLength(5);
    const g = await runCli(['generate', '--method', 'tda', '--thresholds', out, '--prompt', 'Once upon a time', '--steps', '30', '--json']);
    expect(g.code).toBe(0);
    const r = JSON.parse(g.stdout);
    // The mask is what the file's thresholds give: fewer than all neurons in some layer.
    expect(r.layers.some((l: { kept: number; total: number }) => l.kept < l.total)).toBe(true);
    // … and the output says which thresholds were used and where they came from.
    expect(r.thresholds).toEqual(file.layers.map((l: { tau: number }) => l.tau));
    expect(r.thresholds_source).toContain(out);
    expect(r.setting).toEqual({ thresholds_file: out });
    // Thresholds are per method: TT refuses a TDA file.
    expectCleanError(await runCli(['generate', '--method', 'tt', '--thresholds', out]), /thresholds are for method tda, not tt/);
  });

  it('compare --json reports agreement and KL against dense (dense vs dense is exact)', async () => {
    const r = await runCli(['compare', '--method', 'dense', '--prompt', 'Lily wanted to', '--steps', '24', '--json']);
    expect(r.code).toBe(0);
    const row = JSON.parse(r.stdout).rows[0];
    expect(row.top1_agreement).toBe(1);
    expect(row.mean_kl).toBe(0);
    expect(row.dense_text).toBe(row.method_text);
    const g = JSON.parse((await runCli(['compare', '--method', 'griffin', '--density', '0.3', '--prompt', 'Lily wanted to', '--steps', '24', '--json'])).stdout).rows[0];
    expect(g.mean_kl).toBeGreaterThan(0);
    expect(g.top1_agreement).toBeLessThan(1);
  });
});

describe('bad input: one line, non-zero exit', () => {
  it('truncated checkpoint', async () => {
    const f = tmpFile('trunc.bin', model.subarray(0, 5000));
    expectCleanError(await runCli(['generate', ...withModel(f)]), /^tda: .*trunc\.bin: file is 5000 bytes but its header .* needs 1056540 bytes$/);
  });

  it('impossible header values', async () => {
    const bad = Buffer.from(model);
    bad.writeInt32LE(7, 16); // n_kv_heads 7 does not divide n_heads 8
    expectCleanError(await runCli(['generate', ...withModel(tmpFile('hdr.bin', bad))]), /^tda: .*impossible header value nKvHeads=7/);
    bad.writeInt32LE(-3, 0);
    expectCleanError(await runCli(['generate', ...withModel(tmpFile('hdr2.bin', bad))]), /^tda: .*impossible header value dim=-3/);
  });

  it('NaN weights', async () => {
    const bad = Buffer.from(model);
    bad.writeFloatLE(NaN, 28 + 4 * 40000);
    expectCleanError(await runCli(['generate', ...withModel(tmpFile('nan.bin', bad))]), /^tda: .*tensor \w+ has a non-finite value \(NaN\)/);
  });

  it('a tokenizer of another vocabulary size', async () => {
    const tok = fs.readFileSync(TOKENIZER_FILE);
    // Keep the header and the first 300 tokens only.
    let off = 4;
    for (let i = 0; i < 300; i++) off += 8 + tok.readInt32LE(off + 4);
    const f = tmpFile('tok300.bin', tok.subarray(0, off));
    expectCleanError(await runCli(['generate', '--model', MODEL_FILE, '--tokenizer', f]), /^tda: .*holds 300 tokens but the model's vocabulary has 512$/);
  });

  it('a prompt longer than seq_len', async () => {
    const prompt = Array.from({ length: 600 }, (_, i) => `w${i % 10}`).join(' ');
    expectCleanError(await runCli(['generate', '--prompt', prompt]), /^tda: the prompt is \d+ tokens, longer than the model's context of 512$/);
  });

  it('thresholds JSON of another model', async () => {
    const f = tmpFile('th.json', JSON.stringify({ format: 'tda-kit/thresholds@2', model: { fingerprint: 'f'.repeat(64) }, method: 'tda', layers: [] }));
    expectCleanError(await runCli(['generate', '--method', 'tda', '--thresholds', f]), /^tda: .*calibrated for another model/);
  });

  it('unknown method, unknown backend, bad number, missing file', async () => {
    expectCleanError(await runCli(['generate', '--method', 'magic']), /^tda: unknown method "magic" \(choose one of: dense, tt, griffin, tda\)$/);
    expectCleanError(await runCli(['generate', '--backend', 'abacus']), /^tda: unknown backend "abacus"/);
    expectCleanError(await runCli(['generate', '--density', '1.5', '--method', 'griffin']), /--density must be a number in \[0, 1\]/);
    expectCleanError(await runCli(['generate', '--model', '/nonexistent/m.bin']), /^tda: cannot read .*\/nonexistent\/m\.bin: no such file or folder$/);
  });

  it('no model folder: says which files are needed and where they come from', async () => {
    const r = await runCli(['generate'], { TDA_MODEL_DIR: '/nonexistent-models' });
    expectCleanError(r, /^tda: no model given and \/nonexistent-models has no stories260K\.bin: .*TDA_MODEL_DIR .*stories260K\.bin and tok512\.bin \(llama2\.c format; stories260K from karpathy\/tinyllamas/);
  });
});
