// Shared test fixtures: the real stories260K model and llama2.c's golden output from
// ../shared (the outside oracle), and a way to run the `tda` command as a user would.

import { spawn } from 'node:child_process';
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

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/tda.js …` as a user would. Asynchronous on purpose: a synchronous
 * spawn blocks the test worker's event loop for the whole child run, and on a busy
 * machine vitest's worker then misses its RPC deadline ("Timeout calling onTaskUpdate").
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, opts: { cwd?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CliResult> {
  // From dist/, which test/setup/global.ts compiles from the current sources once per run
  // (pass TDA_CLI_FROM: '' in env to start it through tsx, as a source checkout does).
  return runNode([path.join(ROOT, 'bin/tda.js'), ...args], { TDA_CLI_FROM: 'dist', ...env }, opts);
}

/** Runs node with `args` (asynchronously; see runCli). */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}, opts: { cwd?: string; timeoutMs?: number; input?: string; signal?: AbortSignal } = {}): Promise<CliResult> {
  return runProcess(process.execPath, args, env, opts);
}

export function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  // signal: aborting it kills the child (the promise then rejects).
  opts: { cwd?: string; timeoutMs?: number; input?: string; signal?: AbortSignal } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A last resort against a hang (vitest's own per-test limit normally comes first); said in stderr.
    const limit = opts.timeoutMs ?? 15 * 60_000;
    const timer = setTimeout(() => {
      stderr += `\n[killed by the test after ${limit / 1000} s]`;
      child.kill('SIGKILL');
    }, limit);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function tmpFile(name: string, data: Uint8Array | string): string {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'tda-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}
