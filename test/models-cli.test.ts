// Every command takes any model format through --model/--tokenizer: `tda generate`
// on a GGUF file and on a Hugging Face folder prints the same text as on the llama2.c
// checkpoint; a bad model file is exit code 2 with one line; `compare --text` reads
// prompts one per line or by blank lines.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vocabFromTokenizer } from '../src/bench/llama-export.js';
import { promptsFromText } from '../src/cli/text-prompts.js';
import { embeddedModelDir } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { toHalvesModel } from '../src/models/rope-layout.js';
import { loadTokenizer } from '../src/models/tokenizer.js';
import { runCli } from './helpers.js';
import { llamaFamilyConfig, llamaFamilyTensors, writeHfFolder } from './fixtures/write-hf.js';

describe('prompts from a text file', () => {
  it('one per line, or paragraphs when there is a blank line', () => {
    expect(promptsFromText('a b\nc\n\n')).toEqual(['a b', 'c']);
    expect(promptsFromText('first line\nsame prompt\n\n  \nsecond\r\n')).toEqual(['first line\nsame prompt', 'second']);
    expect(promptsFromText('\n\n')).toEqual([]);
  });
});

describe('tda generate on every model format', () => {
  const dir = embeddedModelDir();
  const base = loadCheckpoint(path.join(dir, 'stories260K.bin'));
  const tok = loadTokenizer(path.join(dir, 'tok512.bin'), 512);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-models-cli-'));
  const gguf = path.join(tmp, 'stories.gguf');
  writeModelGguf(base, vocabFromTokenizer(tok), gguf, { name: 'stories', type: 'F16' });
  const hf = writeHfFolder(path.join(tmp, 'hf'), llamaFamilyConfig(toHalvesModel(base), 'llama'), llamaFamilyTensors(toHalvesModel(base), 'llama'));
  const text = async (args: string[]) => {
    const r = await runCli(['generate', '--prompt', 'Once upon a time', '--steps', '40', ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^method dense on reference/); // statistics only on stderr: no warning
    return r.stdout.split('\n')[0];
  };

  it('GGUF (its own vocabulary) and a Hugging Face folder (--tokenizer tok512.bin) print the llama2.c text', async () => {
    const want = await text([]);
    expect(want.length).toBeGreaterThan(40);
    expect(await text(['--model', gguf])).toBe(want);
    expect(await text(['--model', hf, '--tokenizer', path.join(dir, 'tok512.bin')])).toBe(want);
  });

  it('a corrupted model file: exit code 2, one line naming it', async () => {
    const bad = path.join(tmp, 'bad.gguf');
    fs.writeFileSync(bad, fs.readFileSync(gguf).subarray(0, 1000));
    const r = await runCli(['generate', '--model', bad, '--prompt', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(bad);
  });
});
