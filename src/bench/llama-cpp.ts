// The llama.cpp baseline, through node-llama-cpp (prebuilt CPU binary, no GPU):
// the engine a user would otherwise pick to run the same GGUF on this machine.
// Same weights (F32 export, llama-export.ts), same thread count, greedy decoding.
//
// node-llama-cpp is installed apart, in .bench-deps/ (`npm run bench:setup`, see
// scripts/install-llama-cpp.mjs), and imported lazily: the rest of the bench works
// when it is missing or cannot load, and the row then says why in one line.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../core/package-root.js';

/** Where `npm run bench:setup` puts node-llama-cpp. */
export const BENCH_DEPS = path.join(packageRoot(), '.bench-deps');
const PACKAGE_DIR = path.join(BENCH_DEPS, 'node_modules', 'node-llama-cpp');

/**
 * The slice of node-llama-cpp's API used here. Its own type declarations live with
 * the package in .bench-deps/, outside the project's compilation.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LlamaCppLib = { getLlama(options: object): Promise<any>; LlamaLogLevel: { error: unknown } };

async function importLlamaCpp(): Promise<LlamaCppLib> {
  const entry = path.join(PACKAGE_DIR, 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error('node-llama-cpp is not installed; it adds the llama.cpp baseline: run `npm run bench:setup` in the kit\'s folder');
  return (await import(pathToFileURL(entry).href)) as LlamaCppLib;
}

export interface LlamaCppRun {
  /** Milliseconds per generated token (the first token after the prompt excluded: it includes prompt processing). */
  perTokenMs: number[];
  /** Greedy tokens generated after the prompt. */
  tokens: number[];
  /** llama.loadModel's wall time (the file is memory-mapped). */
  loadMs?: number;
  /** Batched prefill of `prefillTokens` tokens, if asked. */
  prefillMs?: number;
  systemInfo: string;
  threads: number;
  version: string;
}

export interface LlamaCppOptions {
  modelPath: string;
  prompt: number[];
  /** Tokens to generate (including the first, untimed one). */
  generate: number;
  threads: number;
  contextSize: number;
  /** Also time a batched prefill of this many tokens in a fresh sequence. */
  prefillTokens?: number;
  /** Stop the generation when one of these tokens is produced (after recording it). */
  stopAt?: number[];
}

/** node-llama-cpp's version, read from its package.json beside the resolved entry point. */
function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function runLlamaCpp(o: LlamaCppOptions): Promise<LlamaCppRun> {
  const lib = await importLlamaCpp();
  const llama = await lib.getLlama({
    gpu: false,
    build: 'never',
    logLevel: lib.LlamaLogLevel.error,
    maxThreads: o.threads,
    progressLogs: false,
  });
  try {
    const tLoad = performance.now();
    const model = await llama.loadModel({ modelPath: o.modelPath, gpuLayers: 0 });
    const loadMs = performance.now() - tLoad;
    try {
      const run: LlamaCppRun = { perTokenMs: [], tokens: [], systemInfo: llama.systemInfo, threads: o.threads, version: '', loadMs };
      run.version = packageVersion();
      {
        const ctx = await model.createContext({ contextSize: o.contextSize, threads: o.threads, sequences: 1 });
        try {
          const seq = ctx.getSequence();
          // temperature 0: argmax, as the kit's greedy sampler.
          const it = seq.evaluate(o.prompt as never[], { temperature: 0 });
          let t = performance.now();
          for (let i = 0; i < o.generate; i++) {
            const r = await it.next();
            const now = performance.now();
            if (r.done) break;
            if (i > 0) run.perTokenMs.push(now - t);
            t = now;
            run.tokens.push(Number(r.value));
            if (o.stopAt?.includes(Number(r.value))) break;
          }
          await it.return();
        } finally {
          await ctx.dispose();
        }
      }
      if (o.prefillTokens) {
        const ctx = await model.createContext({
          contextSize: o.prefillTokens + 8,
          threads: o.threads,
          batchSize: 512,
          sequences: 1,
        });
        try {
          const seq = ctx.getSequence();
          const tokens = Array.from({ length: o.prefillTokens }, (_, i) => (i === 0 ? 1 : 300 + (i % 200)));
          const t0 = performance.now();
          await seq.evaluateWithoutGeneratingNewTokens(tokens as never[]);
          run.prefillMs = performance.now() - t0;
        } finally {
          await ctx.dispose();
        }
      }
      return run;
    } finally {
      await model.dispose();
    }
  } finally {
    await llama.dispose();
  }
}
