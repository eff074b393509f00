// Messages between the page (page.ts) and the harness worker (harness-worker.ts).

import type { ConformanceReport, ReportRow } from '../conformance/index.js';

export interface RunRequest {
  backend: string;
  quick: boolean;
  seed: number;
  /** Only the checks whose name contains one of these (the CLI's --only); all when absent. */
  only?: string[];
}

export type HarnessMessage =
  | { type: 'status'; text: string }
  | { type: 'rows'; rows: ReportRow[] }
  | { type: 'report'; report: ConformanceReport; json: string; text: string }
  | { type: 'unavailable'; reason: string }
  | { type: 'error'; message: string };

/** Files of the embedded model the page mounts, served by `tda serve` under /assets/stories260K/. */
export const MODEL_DIR = '/assets/stories260K';
export const MODEL_FILES = ['stories260K.bin', 'stories260K-greedy.json'];
