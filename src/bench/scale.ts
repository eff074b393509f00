// The scale rows (issue: "a synthetic GGUF F16 with TinyLlama-1.1B's shape loads in
// ≤ 60 s with peak RSS ≤ 6 GB and generates on native-cpu; tda bench reports load
// time, peak RSS and tokens/s for it beside llama.cpp on the same file"). Each engine
// loads the file in a child process of its own (src/bench/scale-probe.ts), so the peak
// RSS is that engine's alone.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type SyntheticGgufShape, writeSyntheticGguf } from '../models/gguf-synthetic.js';
import type { ScaleRow } from './types.js';

const run = promisify(execFile);

/** The synthetic F16 GGUF of a shape, written once into the temp folder (2.2 GB at TinyLlama's shape). */
export function syntheticGgufFile(s: SyntheticGgufShape, seed: number): string {
  const dir = path.join(os.tmpdir(), 'tda-bench');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `synthetic-${s.dim}x${s.hiddenDim}-L${s.nLayers}-H${s.nHeads}-${s.nKvHeads}-V${s.vocabSize}-s${seed}-f16.gguf`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.part`;
    writeSyntheticGguf(tmp, s, seed);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** Loads `file` with `engine` (a kit backend or "llama.cpp") in a child process and decodes `steps` tokens. */
export async function scaleRow(file: string, label: string, engine: string, steps: number, threads: number): Promise<ScaleRow> {
  const here = fileURLToPath(import.meta.url);
  const probe = path.join(path.dirname(here), `scale-probe${path.extname(here)}`);
  // A source checkout runs TypeScript through tsx; an installed package runs dist/.
  const args = path.extname(here) === '.ts' ? ['--import', 'tsx', probe] : [probe];
  const { stdout } = await run(process.execPath, [...args, file, engine, String(steps), String(threads)], { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout) as { load_ms: number; load_rss_mb: number | null; peak_rss_mb: number; tokens_per_s: number; note?: string };
  const bytes = fs.statSync(file).size;
  return {
    suite: 'scale', model: label, file, file_mb: bytes / 2 ** 20, engine, load_ms: r.load_ms,
    load_rss_mb: Number.isFinite(r.load_rss_mb) ? r.load_rss_mb : null, peak_rss_mb: r.peak_rss_mb, tokens_per_s: r.tokens_per_s, steps,
    ...(r.note ? { note: r.note } : {}),
  };
}
