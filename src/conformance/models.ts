// Where the conformance run finds stories260K and its golden file: $TDA_MODEL_DIR
// (the folder holding stories260K.bin), else ../shared/models beside the project.
// The golden file is looked up as $TDA_GOLDEN, else ../golden/ next to the models.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { loadCheckpoint } from '../reference/checkpoint.js';
import type { Model } from '../reference/model.js';

export interface GoldenCase {
  prompt: string;
  prompt_tokens: number[];
  steps: number;
  greedy_tokens: number[];
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function modelDir(dir?: string): string {
  return path.resolve(dir ?? process.env.TDA_MODEL_DIR ?? path.join(projectRoot, '..', 'shared', 'models'));
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
  const goldenFile = process.env.TDA_GOLDEN ?? path.join(d, '..', 'golden', 'stories260K-greedy.json');
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
