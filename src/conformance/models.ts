// Where the conformance run finds stories260K and its golden file: the folder given,
// else $TDA_MODEL_DIR, else the embedded default (src/models/discovery.ts).

import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { defaultModelDir, goldenFile as findGoldenFile } from '../models/discovery.js';
import { loadCheckpoint } from '../models/llama2c.js';
import type { Model } from '../core/model.js';

export interface GoldenCase {
  prompt: string;
  prompt_tokens: number[];
  steps: number;
  greedy_tokens: number[];
}

export function modelDir(dir?: string): string {
  return path.resolve(dir ?? defaultModelDir());
}

export interface Stories {
  model: Model;
  golden: GoldenCase[];
}

const cache = new Map<string, Stories>();

/** stories260K and its golden cases; a clear UserError (exit 2) when they are missing. */
export function loadStories(dir?: string): Stories {
  const d = modelDir(dir);
  const hit = cache.get(d);
  if (hit) return hit;
  const bin = path.join(d, 'stories260K.bin');
  if (!fs.existsSync(bin)) {
    throw new UserError(`stories260K.bin not found in ${d} (set TDA_MODEL_DIR to the folder that holds it)`);
  }
  const goldenFile = findGoldenFile(d);
  let golden: GoldenCase[];
  try {
    golden = (JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as { cases: GoldenCase[] }).cases;
  } catch (e) {
    throw new UserError(`cannot read the golden file ${goldenFile} (set TDA_GOLDEN): ${(e as Error).message.split('\n')[0]}`);
  }
  const s = { model: loadCheckpoint(bin), golden };
  cache.set(d, s);
  return s;
}
