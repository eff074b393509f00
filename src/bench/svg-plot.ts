// Speed-up vs density, one panel per suite: a line per backend and method (colour per
// backend, dash per method: TDA solid, Griffin dashed, TT dotted) and the memory-bound
// ceilings in black (TDA/Griffin) and grey (TT: only the down projection lowers it).
// A vega-lite spec rendered by src/plot.

import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../plot/index.js';
import type { BenchRow, Suite } from './types.js';

const DASH: Record<string, number[]> = { tda: [1, 0], griffin: [6, 3], tt: [2, 3] };

export async function speedupSvg(rows: BenchRow[], title: string): Promise<string> {
  const suites = (['ffn', 'layer', 'e2e'] as Suite[]).filter((s) => rows.some((r) => r.suite === s && r.method !== 'dense'));
  const values: { suite: string; line: string; backend: string; method: string; density: number; speedup: number }[] = [];
  for (const suite of suites) {
    const sr = rows.filter((r) => r.suite === suite && r.method !== 'dense');
    // e2e may hold two models: draw the synthetic one (the one the targets use) if present.
    const shapes = [...new Set(sr.map((r) => r.shape))];
    const shape = shapes.find((s) => s.startsWith('synthetic')) ?? shapes[0];
    for (const r of sr.filter((x) => x.shape === shape)) {
      values.push({ suite, line: `${r.backend} ${r.method}`, backend: r.backend, method: r.method, density: r.density, speedup: Math.min(r.speedup_vs_dense, 4) });
    }
    // ceilings (identical for every backend: bytes only)
    for (const [method, label] of [['tda', 'ceiling (TDA/Griffin)'], ['tt', 'ceiling (TT)']] as const) {
      const byD = new Map<number, number>();
      for (const r of sr) if (r.method === method || (method === 'tda' && r.method === 'griffin' && !sr.some((x) => x.method === 'tda'))) byD.set(r.density, r.ceiling);
      for (const [density, c] of byD) values.push({ suite, line: label, backend: label, method: method === 'tt' ? 'tt' : 'tda', density, speedup: Math.min(c, 4) });
    }
  }
  const lines = [...new Set(values.map((v) => v.line))];
  const backends = [...new Set(values.filter((v) => !v.line.startsWith('ceiling')).map((v) => v.backend))];
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const colour = (line: string) => (line === 'ceiling (TDA/Griffin)' ? 'black' : line === 'ceiling (TT)' ? '#888' : palette[backends.indexOf(line.split(' ')[0]) % palette.length]);
  const spec = {
    title,
    data: { values },
    facet: { column: { field: 'suite', type: 'nominal', title: null, sort: suites } },
    spec: {
      width: 260,
      height: 200,
      mark: { type: 'line', point: { size: 20 }, strokeWidth: 1.6 },
      encoding: {
        x: { field: 'density', type: 'quantitative', title: 'density (kept fraction)', scale: { domain: [0.25, 1.05] } },
        y: { field: 'speedup', type: 'quantitative', title: 'speed-up vs dense (capped at 4)', scale: { zero: true, nice: true } },
        color: { field: 'line', type: 'nominal', title: null, scale: { domain: lines, range: lines.map(colour) } },
        strokeDash: { field: 'line', type: 'nominal', title: null, scale: { domain: lines, range: lines.map((l) => (l === 'ceiling (TT)' ? [5, 3] : DASH[l.split(' ').pop()!] ?? [1, 0])) } },
      },
    },
    resolve: { scale: { y: 'independent' }, axis: { y: 'independent' } },
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}
