// Figures as SVG through vega-lite (the grammar) and vega's headless SVG renderer:
// one renderer for the spec and the bench, no hand-written SVG. Without a canvas
// package vega estimates text widths, so every spec built here lifts vega-lite's
// label and title length limits (no ellipsis) and pads the view to the marks'
// bounds ("autosize: pad"), which is what keeps long labels from being cut off.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** Settings shared by every figure: readable fonts, no truncated labels, white background. */
export const BASE_CONFIG = {
  font: 'sans-serif',
  // No per-item ARIA labels: they triple the size of a heatmap's SVG (the figure keeps its title).
  aria: false,
  background: 'white',
  padding: 12,
  autosize: { type: 'pad' },
  axis: { labelLimit: 0, titleLimit: 0, labelFontSize: 11, titleFontSize: 12 },
  legend: { labelLimit: 0, titleLimit: 0, labelFontSize: 11, symbolStrokeWidth: 2 },
  header: { labelLimit: 0, titleLimit: 0, labelFontSize: 12 },
  title: { limit: 0, fontSize: 13, anchor: 'start' },
} as const;

/** Render a vega-lite spec to an SVG string (its config merged over BASE_CONFIG). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // One level deep: a chart's own `axis` settings add to the base ones instead of replacing them.
  const own = (spec.config ?? {}) as Record<string, object>;
  const base = BASE_CONFIG as unknown as Record<string, unknown>;
  const config = { ...base, ...own } as Record<string, unknown>;
  for (const [k, v] of Object.entries(own)) if (v && typeof v === 'object' && base[k] && typeof base[k] === 'object') config[k] = { ...(base[k] as object), ...v };
  const withConfig = { ...spec, config } as TopLevelSpec;
  const compiled = vl.compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Write an SVG string to `path`, creating folders. Returns the path. */
export function writeSvg(path: string, svg: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg.endsWith('\n') ? svg : `${svg}\n`);
  return path;
}
