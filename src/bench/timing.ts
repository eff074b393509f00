// Side-by-side timing. Every case is run once per round, rounds repeated: slow
// drift on the shared machine (a neighbour's compile starting, thermal or frequency
// changes) then hits every case alike, and ratios between cases taken from the same
// rounds stay meaningful even when absolute times wander. Warm-up rounds are run
// first and discarded (first-touch page faults, lazy uploads, JIT).

import { type Summary, summarize } from './stats.js';

export interface TimedCase {
  key: string;
  run: () => void;
}

export interface TimingOptions {
  warmup: number;
  runs: number;
  /** Stop adding rounds once this many ms have passed (after at least minRuns). */
  budgetMs?: number;
  minRuns?: number;
  onRound?: () => void;
}

export function timeInterleaved(cases: TimedCase[], o: TimingOptions): Map<string, { summary: Summary; samples: number[] }> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.key, []]));
  for (let w = 0; w < o.warmup; w++) for (const c of cases) c.run();
  const t0 = performance.now();
  const minRuns = Math.min(o.minRuns ?? 3, o.runs);
  for (let r = 0; r < o.runs; r++) {
    if (o.budgetMs !== undefined && r >= minRuns && performance.now() - t0 > o.budgetMs) break;
    // Rotate the starting case each round so no case always runs right after the same neighbour.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length];
      const s = performance.now();
      c.run();
      samples.get(c.key)!.push(performance.now() - s);
    }
    o.onRound?.();
  }
  return new Map([...samples].map(([k, v]) => [k, { summary: summarize(v), samples: v }]));
}
