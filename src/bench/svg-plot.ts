// Speed-up vs density, one panel per suite: a line per backend and method (TDA solid,
// Griffin dashed, TT dotted; colour per backend) and the memory-bound ceiling in black
// (gray dashed: TT's ceiling, which only the down projection lowers). Hand-written SVG.

import { escapeXml } from '../proofs/svg.js';
import type { BenchRow, Suite } from './types.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const DASH: Record<string, string> = { tda: '', griffin: '6 3', tt: '2 3' };

export function speedupSvg(rows: BenchRow[], title: string): string {
  const suites = (['ffn', 'layer', 'e2e'] as Suite[]).filter((s) => rows.some((r) => r.suite === s && r.method !== 'dense'));
  const W = 340;
  const H = 260;
  const m = { l: 44, r: 10, t: 28, b: 36 };
  const backends = [...new Set(rows.filter((r) => r.method !== 'dense').map((r) => r.backend))];
  const parts: string[] = [];
  const width = Math.max(1, suites.length) * W;
  const height = H + 40 + 16 * Math.ceil((backends.length * 3 + 2) / 4);
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="14" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`);
  suites.forEach((suite, si) => {
    const sr = rows.filter((r) => r.suite === suite && r.method !== 'dense');
    const yMax = Math.ceil(Math.max(2, ...sr.map((r) => Math.min(r.ceiling, 4)), ...sr.map((r) => r.speedup_vs_dense)) * 2) / 2;
    const ox = si * W;
    const px = (d: number) => ox + m.l + ((d - 0.25) / 0.8) * (W - m.l - m.r);
    const py = (v: number) => 20 + m.t + (1 - v / yMax) * (H - m.t - m.b);
    parts.push(`<text x="${ox + W / 2}" y="${34}" text-anchor="middle" font-weight="bold">${escapeXml(suite)}</text>`);
    // axes and grid
    for (let v = 0; v <= yMax + 1e-9; v += 0.5) {
      parts.push(`<line x1="${px(0.25)}" x2="${px(1.05)}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
      parts.push(`<text x="${px(0.25) - 4}" y="${py(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
    }
    for (let d = 0.3; d <= 1.0001; d += 0.1) {
      parts.push(`<text x="${px(d)}" y="${py(0) + 14}" text-anchor="middle">${d.toFixed(1)}</text>`);
    }
    parts.push(`<text x="${px(0.65)}" y="${py(0) + 28}" text-anchor="middle">density (kept fraction)</text>`);
    parts.push(`<text transform="translate(${ox + 12},${py(yMax / 2)}) rotate(-90)" text-anchor="middle">speed-up vs dense</text>`);
    const line = (pts: [number, number][], attrs: string) => {
      if (pts.length === 0) return;
      const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(Math.min(y, yMax)).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" ${attrs}/>`);
    };
    // ceilings (identical for every backend: bytes only)
    const ceil = (method: string) => {
      const byD = new Map<number, number>();
      for (const r of sr) if (r.method === method) byD.set(r.density, r.ceiling);
      return [...byD].sort((a, b) => a[0] - b[0]);
    };
    line(ceil('tda').length ? ceil('tda') : ceil('griffin'), 'stroke="black" stroke-width="2"');
    line(ceil('tt'), 'stroke="#888" stroke-width="1.5" stroke-dasharray="5 3"');
    backends.forEach((b, bi) => {
      for (const method of ['tda', 'griffin', 'tt']) {
        const pts = sr.filter((r) => r.backend === b && r.method === method).sort((a, z) => a.density - z.density);
        // e2e may hold two models: draw the synthetic one (the one the targets use) if present.
        const shapes = [...new Set(pts.map((r) => r.shape))];
        const shape = shapes.find((s) => s.startsWith('synthetic')) ?? shapes[0];
        const sel = pts.filter((r) => r.shape === shape);
        const colour = COLOURS[bi % COLOURS.length];
        line(sel.map((r) => [r.density, r.speedup_vs_dense]), `stroke="${colour}" stroke-width="1.5" stroke-dasharray="${DASH[method]}"`);
        for (const r of sel) parts.push(`<circle cx="${px(r.density).toFixed(1)}" cy="${py(Math.min(r.speedup_vs_dense, yMax)).toFixed(1)}" r="2.5" fill="${colour}"/>`);
      }
    });
  });
  // legend
  const legend: [string, string, string][] = [
    ['ceiling (TDA/Griffin)', 'black', ''],
    ['ceiling (TT)', '#888', '5 3'],
  ];
  backends.forEach((b, bi) => {
    for (const method of ['tda', 'griffin', 'tt']) legend.push([`${b} ${method}`, COLOURS[bi % COLOURS.length], DASH[method]]);
  });
  legend.forEach(([label, colour, dash], i) => {
    const x = 10 + (i % 4) * 200;
    const y = H + 36 + Math.floor(i / 4) * 16;
    parts.push(`<line x1="${x}" x2="${x + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>`);
    parts.push(`<text x="${x + 30}" y="${y}">${escapeXml(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
