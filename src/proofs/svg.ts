// A small hand-written SVG writer for the spec figures: a heatmap (one <rect> per
// cell) and a line plot (one <polyline> per series, with axes, ticks and a legend).
// No dependencies; output is plain, well-formed XML.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** Short human tick label. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

/** Sequential colour map (dark blue → yellow) for t in [0, 1]; NaN is grey. */
export function colour(t: number): string {
  if (!Number.isFinite(t)) return '#bbbbbb';
  const c = Math.min(1, Math.max(0, t));
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = c * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const ch = (k: number) => Math.round(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
  return `rgb(${ch(0)},${ch(1)},${ch(2)})`;
}

export interface HeatmapOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  /** Colour range; defaults to the data's min and max. */
  min?: number;
  max?: number;
  cellSize?: number;
  rowLabels?: string[];
  colLabels?: string[];
}

/** Heatmap of `rows` (each an array of equal length): exactly rows·cols cell <rect>s with class "cell". */
export function heatmapSvg(rows: ArrayLike<number>[], opts: HeatmapOptions): string {
  const nr = rows.length;
  const nc = nr > 0 ? rows[0].length : 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    if (r.length !== nc) throw new Error('heatmapSvg: ragged rows');
    for (let j = 0; j < nc; j++) if (Number.isFinite(r[j])) (lo = Math.min(lo, r[j])), (hi = Math.max(hi, r[j]));
  }
  const min = opts.min ?? (Number.isFinite(lo) ? lo : 0);
  const max = opts.max ?? (Number.isFinite(hi) ? hi : 1);
  const span = max > min ? max - min : 1;
  const cs = opts.cellSize ?? Math.max(4, Math.min(40, Math.floor(640 / Math.max(nc, 1))));
  const left = opts.rowLabels ? 110 : 50;
  const top = 40;
  const w = left + nc * cs + 90;
  const h = top + nr * cs + 60;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<text x="${left}" y="20" font-size="13">${escapeXml(opts.title)}</text>`);
  for (let i = 0; i < nr; i++) {
    for (let j = 0; j < nc; j++) {
      const v = rows[i][j];
      out.push(
        `<rect class="cell" x="${left + j * cs}" y="${top + i * cs}" width="${cs}" height="${cs}" fill="${colour((v - min) / span)}"><title>(${i},${j}) ${escapeXml(tickLabel(v))}</title></rect>`,
      );
    }
  }
  if (opts.rowLabels) {
    opts.rowLabels.forEach((l, i) =>
      out.push(`<text x="${left - 4}" y="${top + i * cs + cs / 2 + 4}" text-anchor="end">${escapeXml(l)}</text>`),
    );
  }
  if (opts.colLabels) {
    opts.colLabels.forEach((l, j) =>
      out.push(`<text x="${left + j * cs + cs / 2}" y="${top + nr * cs + 14}" text-anchor="middle">${escapeXml(l)}</text>`),
    );
  }
  if (opts.xLabel) out.push(`<text x="${left + (nc * cs) / 2}" y="${h - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel)
    out.push(`<text x="14" y="${top + (nr * cs) / 2}" transform="rotate(-90 14 ${top + (nr * cs) / 2})" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  // colour bar
  const bx = left + nc * cs + 20;
  for (let k = 0; k < 20; k++) {
    out.push(`<rect class="bar" x="${bx}" y="${top + (19 - k) * 8}" width="14" height="8" fill="${colour(k / 19)}"/>`);
  }
  out.push(`<text x="${bx + 18}" y="${top + 8}">${escapeXml(tickLabel(max))}</text>`);
  out.push(`<text x="${bx + 18}" y="${top + 160}">${escapeXml(tickLabel(min))}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface Series {
  name: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** Optional lower/upper band (e.g. a confidence interval), drawn as thin dashed lines. */
  lo?: ArrayLike<number>;
  hi?: ArrayLike<number>;
}

export interface LinePlotOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Horizontal reference line (e.g. y = 0). */
  hline?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Line plot: one <polyline class="series"> per series, axes with 5 ticks each, legend. */
export function linePlotSvg(series: Series[], opts: LinePlotOptions): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 400;
  const L = 70;
  const R = 170;
  const T = 40;
  const B = 50;
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  const see = (arr: ArrayLike<number> | undefined, isX: boolean) => {
    if (!arr) return;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (!Number.isFinite(v)) continue;
      if (isX) (x0 = Math.min(x0, v)), (x1 = Math.max(x1, v));
      else (y0 = Math.min(y0, v)), (y1 = Math.max(y1, v));
    }
  };
  for (const s of series) {
    if (s.xs.length !== s.ys.length) throw new Error(`linePlotSvg: series ${s.name} has ${s.xs.length} xs, ${s.ys.length} ys`);
    see(s.xs, true);
    see(s.ys, false);
    see(s.lo, false);
    see(s.hi, false);
  }
  if (opts.hline !== undefined) (y0 = Math.min(y0, opts.hline)), (y1 = Math.max(y1, opts.hline));
  if (!Number.isFinite(x0)) (x0 = 0), (x1 = 1);
  if (!Number.isFinite(y0)) (y0 = 0), (y1 = 1);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<text x="${L}" y="20" font-size="13">${escapeXml(opts.title)}</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#444"/>`);
  for (let k = 0; k <= 4; k++) {
    const xv = x0 + ((x1 - x0) * k) / 4;
    const yv = y0 + ((y1 - y0) * k) / 4;
    out.push(`<line x1="${fmt(px(xv))}" y1="${H - B}" x2="${fmt(px(xv))}" y2="${H - B + 4}" stroke="#444"/>`);
    out.push(`<text x="${fmt(px(xv))}" y="${H - B + 16}" text-anchor="middle">${escapeXml(tickLabel(xv))}</text>`);
    out.push(`<line x1="${L - 4}" y1="${fmt(py(yv))}" x2="${L}" y2="${fmt(py(yv))}" stroke="#444"/>`);
    out.push(`<text x="${L - 6}" y="${fmt(py(yv) + 4)}" text-anchor="end">${escapeXml(tickLabel(yv))}</text>`);
  }
  if (opts.hline !== undefined)
    out.push(`<line x1="${L}" y1="${fmt(py(opts.hline))}" x2="${W - R}" y2="${fmt(py(opts.hline))}" stroke="#999" stroke-dasharray="4 3"/>`);
  const pts = (xs: ArrayLike<number>, ys: ArrayLike<number>) => {
    const p: string[] = [];
    for (let i = 0; i < xs.length; i++) if (Number.isFinite(ys[i])) p.push(`${fmt(px(xs[i]))},${fmt(py(ys[i]))}`);
    return p.join(' ');
  };
  series.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length];
    out.push(`<polyline class="series" fill="none" stroke="${c}" stroke-width="2" points="${pts(s.xs, s.ys)}"><title>${escapeXml(s.name)}</title></polyline>`);
    if (s.lo) out.push(`<polyline class="band" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="3 2" points="${pts(s.xs, s.lo)}"/>`);
    if (s.hi) out.push(`<polyline class="band" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="3 2" points="${pts(s.xs, s.hi)}"/>`);
    out.push(`<line x1="${W - R + 12}" y1="${T + 10 + 16 * k}" x2="${W - R + 32}" y2="${T + 10 + 16 * k}" stroke="${c}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 36}" y="${T + 14 + 16 * k}">${escapeXml(s.name)}</text>`);
  });
  if (opts.xLabel) out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel)
    out.push(`<text x="16" y="${(T + H - B) / 2}" transform="rotate(-90 16 ${(T + H - B) / 2})" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Write an SVG string to `path`, creating folders. Returns the path. */
export function writeSvg(path: string, svg: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return path;
}
