// Shared test fixtures: the real stories260K model from ../shared, and a way to run
// the `tda` command as a user would.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/models/llama2c.js';
import type { Model } from '../src/core/model.js';
import { type SentencePieceTokenizer, loadTokenizer } from '../src/models/tokenizer.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(ROOT, '../shared');
export const MODEL_DIR = process.env.TDA_MODEL_DIR ?? path.join(SHARED, 'models');
export const MODEL_FILE = path.join(MODEL_DIR, 'stories260K.bin');
export const TOKENIZER_FILE = path.join(MODEL_DIR, 'tok512.bin');
export const GOLDEN_FILE = process.env.TDA_GOLDEN ?? path.join(SHARED, 'golden/stories260K-greedy.json');

export interface GoldenCase {
  prompt: string;
  prompt_tokens: number[];
  steps: number;
  greedy_tokens: number[];
  greedy_text: string;
  logits_after_prompt: number[];
}

let cached: { model: Model; tokenizer: SentencePieceTokenizer } | undefined;
export function stories(): { model: Model; tokenizer: SentencePieceTokenizer } {
  cached ??= { model: loadCheckpoint(MODEL_FILE), tokenizer: loadTokenizer(TOKENIZER_FILE, 512) };
  return cached;
}

export function goldenCases(): GoldenCase[] {
  return JSON.parse(fs.readFileSync(GOLDEN_FILE, 'utf8')).cases;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/tda.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tmpFile(name: string, data: Uint8Array | string): string {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'tda-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}
