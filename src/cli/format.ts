// Human-readable output of the commands.

import type { Backend } from '../core/kernels.js';
import type { TextGeneration } from '../api/run-method.js';
import type { GenerationResult } from '../reference/generate.js';
import type { MethodSummary } from '../reference/methods.js';

export function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function layerTable(result: GenerationResult): string {
  return result.layers
    .map((l, i) => `  layer ${i}: ${l.kept.toFixed(l.kept % 1 ? 1 : 0)}/${l.total} neurons (${percent(l.kept / l.total)})`)
    .join('\n');
}

/** The statistics of one generation (stderr of `tda generate`). */
export function formatGeneration(g: TextGeneration, backend: Backend): string {
  const info = backend.info();
  const r = g.result;
  const c = r.cost;
  return [
    `method ${r.method} on ${backend.name} (${info.engine}, ${info.mode}, ${info.threads} thread${info.threads > 1 ? 's' : ''}, ${r.kvCache.toUpperCase()} KV cache)`,
    ...methodLines(g.summary),
    `prompt ${r.promptTokens.length} tokens, generated ${r.tokens.length}; FFN neurons used per generated token (mean ${percent(g.density)}):`,
    layerTable(r),
    `per generated token: FFN ${fmt(c.ffnMacs)} MACs (${percent(c.ffnMacs / c.denseFfnMacs)} of dense), ` +
      `FFN weights ${fmt(c.ffnWeightBytes)} B, all weights ${fmt(c.totalWeightBytes)} B` +
      (c.decisionOps ? `, plus ${fmt(c.decisionOps)} ops to choose neurons` : ''),
    `prefill ${r.timing.prefillMs.toFixed(1)} ms, decode ${r.timing.decodeTokensPerSecond.toFixed(1)} tokens/s`,
    '',
  ].join('\n');
}

/** The method's setting and, for TT/TDA, the per-layer thresholds and where they came from. */
export function methodLines(s: MethodSummary): string[] {
  const setting = Object.entries(s.setting)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [`setting: ${setting || 'none'}`];
  if (s.thresholds) {
    lines.push(`thresholds per layer: ${s.thresholds.map((t) => t.toPrecision(4)).join(' ')}`, `thresholds from: ${s.thresholds_source}`);
  }
  return lines;
}

export function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
