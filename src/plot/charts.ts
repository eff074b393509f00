// The chart kinds the spec uses, as vega-lite specs: line plots with error bars
// and heatmaps. Inputs are plain arrays; outputs are SVG strings (src/plot/render.ts).

import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './render.js';

/** One line: points (xs[i], ys[i]); lo/hi, when given, the ends of each point's interval (drawn as error bars). */
export interface LineSeries {
  name: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  lo?: ArrayLike<number>;
  hi?: ArrayLike<number>;
}

/** A series from per-point estimates with intervals (e.g. MeanCI). */
export function withCI(name: string, xs: ArrayLike<number>, estimates: { mean: number; lo: number; hi: number }[]): LineSeries {
  return { name, xs, ys: estimates.map((e) => e.mean), lo: estimates.map((e) => e.lo), hi: estimates.map((e) => e.hi) };
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** What the error bars are, stated under the title (required when any point has lo/hi). */
  intervals?: string;
  /** Horizontal reference line (e.g. y = 0). */
  hline?: number;
  xLog?: boolean;
  /** The x values are integers (layers, steps): ticks at whole numbers only. */
  xInteger?: boolean;
  width?: number;
  height?: number;
}

/** Line plot, one coloured line with points per series, error bars where points carry lo/hi. */
export async function linePlotSvg(series: LineSeries[], opts: LinePlotOptions): Promise<string> {
  const values = series.flatMap((s) => {
    if (s.xs.length !== s.ys.length) throw new Error(`linePlotSvg: series ${s.name} has ${s.xs.length} xs, ${s.ys.length} ys`);
    return Array.from({ length: s.xs.length }, (_, i) => ({ series: s.name, x: s.xs[i], y: s.ys[i], lo: s.lo?.[i] ?? null, hi: s.hi?.[i] ?? null })).filter(
      (v) => Number.isFinite(v.y),
    );
  });
  const withBars = values.some((v) => v.lo !== null && v.hi !== null);
  if (withBars && !opts.intervals) throw new Error(`linePlotSvg(${opts.title}): error bars need an "intervals" caption`);
  const x = {
    field: 'x',
    type: 'quantitative',
    title: opts.xLabel,
    scale: { zero: false, ...(opts.xLog ? { type: 'log' } : {}) },
    ...(opts.xInteger ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
  } as const;
  const y = { field: 'y', type: 'quantitative', title: opts.yLabel, scale: { zero: false } } as const;
  const color = { field: 'series', type: 'nominal', title: null, sort: series.map((s) => s.name) } as const;
  const layers: object[] = [{ mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { x, y, color } }];
  if (withBars) {
    layers.push({
      transform: [{ filter: 'datum.lo !== null && datum.hi !== null' }],
      mark: { type: 'errorbar', ticks: { size: 6 }, thickness: 1.5 },
      encoding: { x, y: { field: 'lo', type: 'quantitative', title: opts.yLabel }, y2: { field: 'hi' }, color },
    });
  }
  if (opts.hline !== undefined) {
    layers.push({ data: { values: [{ h: opts.hline }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { field: 'h', type: 'quantitative' } } });
  }
  const spec = {
    title: { text: opts.title, ...(withBars ? { subtitle: `error bars: ${opts.intervals}` } : {}) },
    width: opts.width ?? 420,
    height: opts.height ?? 260,
    data: { values },
    layer: layers,
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}

export interface HeatmapOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  /** Colour range; defaults to the data's min and max. */
  min?: number;
  max?: number;
  /** Title of the colour legend. */
  valueLabel?: string;
  /** Tick labels of rows / columns (row and column indices when absent). */
  rowLabels?: string[];
  colLabels?: string[];
  /** Pixel size of one cell; default fits about 640 px across. */
  cellSize?: number;
  /** Cell height when it differs from the width (e.g. many narrow neuron columns, rows tall enough for their labels). */
  cellHeight?: number;
  /** A diverging colour scheme centred on 0 (for signed values). */
  diverging?: boolean;
}

/** Heatmap of `rows` (equal-length arrays): one rect per cell, row 0 at the top, NaN grey. */
export async function heatmapSvg(rows: ArrayLike<number>[], opts: HeatmapOptions): Promise<string> {
  const nr = rows.length;
  const nc = nr ? rows[0].length : 0;
  const values: { r: number; c: number; v: number | null }[] = [];
  for (let i = 0; i < nr; i++) {
    if (rows[i].length !== nc) throw new Error(`heatmapSvg(${opts.title}): ragged rows`);
    for (let j = 0; j < nc; j++) values.push({ r: i, c: j, v: Number.isFinite(rows[i][j]) ? rows[i][j] : null });
  }
  const cs = opts.cellSize ?? Math.max(2, Math.min(36, Math.floor(640 / Math.max(nc, 1))));
  const labelAxis = (labels: string[] | undefined, n: number, title: string | undefined) => {
    // At most ~24 labelled ticks so labels never overlap.
    const step = Math.max(1, Math.ceil(n / 24));
    const ticks = Array.from({ length: n }, (_, i) => i).filter((i) => i % step === 0);
    const names = labels ?? ticks.map(String);
    return {
      title: title ?? null,
      values: labels && labels.length <= 40 ? Array.from({ length: n }, (_, i) => i) : ticks,
      labelExpr: `${JSON.stringify(labels ?? Array.from({ length: n }, (_, i) => String(i)))}[datum.value]`,
      labelOverlap: false,
      ...(labels ? {} : { tickCount: names.length }),
    };
  };
  const scale = {
    ...(opts.diverging ? { scheme: 'redblue', reverse: true, domainMid: 0 } : { scheme: 'viridis' }),
    ...(opts.min !== undefined && opts.max !== undefined ? { domain: [opts.min, opts.max] } : {}),
  };
  const spec = {
    title: opts.title,
    width: nc * cs,
    height: nr * (opts.cellHeight ?? cs),
    data: { values },
    // Missing values (NaN) are drawn grey rather than dropped.
    mark: { type: 'rect', invalid: null },
    encoding: {
      x: { field: 'c', type: 'ordinal', axis: labelAxis(opts.colLabels, nc, opts.xLabel), scale: { paddingInner: 0 } },
      y: { field: 'r', type: 'ordinal', axis: labelAxis(opts.rowLabels, nr, opts.yLabel), scale: { paddingInner: 0 } },
      color: { condition: { test: 'datum.v === null', value: '#bbbbbb' }, field: 'v', type: 'quantitative', title: opts.valueLabel ?? 'value', scale },
    },
    // Column labels are turned when the longest would not fit its cell (≈ 6.5 px per character at 11 px).
    config: { axisX: { labelAngle: Math.max(...(opts.colLabels ?? [String(nc)]).map((l) => l.length)) * 6.5 > cs ? -45 : 0 }, axis: { domain: false, ticks: true } },
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}

export interface IntervalRow {
  label: string;
  mean: number;
  lo: number;
  hi: number;
}

/** One row per estimate: a point and its interval, labels on the y axis, a rule at `reference` (default 0). */
export async function intervalPlotSvg(rows: IntervalRow[], opts: { title: string; xLabel: string; intervals: string; reference?: number; width?: number }): Promise<string> {
  const y = { field: 'label', type: 'nominal', title: null, sort: rows.map((r) => r.label) } as const;
  const x = { field: 'mean', type: 'quantitative', title: opts.xLabel, scale: { zero: false } } as const;
  const spec = {
    title: { text: opts.title, subtitle: `error bars: ${opts.intervals}` },
    width: opts.width ?? 380,
    height: { step: 26 },
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { field: 'lo', type: 'quantitative', title: opts.xLabel }, x2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { y, x } },
      { data: { values: [{ r: opts.reference ?? 0 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'r', type: 'quantitative' } } },
    ],
  } as unknown as TopLevelSpec;
  return renderSvg(spec);
}
