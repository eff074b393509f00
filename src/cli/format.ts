// Human-readable output of the commands.

import type { Backend } from '../core/kernels.js';
import type { GenerationResult } from '../reference/generate.js';

export function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function layerTable(result: GenerationResult): string {
  return result.layers
    .map((l, i) => `  layer ${i}: ${l.kept.toFixed(l.kept % 1 ? 1 : 0)}/${l.total} neurons (${percent(l.kept / l.total)})`)
    .join('\n');
}

export function formatGeneration(prompt: string, text: string, r: GenerationResult, backend: Backend): string {
  const info = backend.info();
  const c = r.cost;
  return [
    `${prompt}${text}`,
    '',
    `method ${r.method} on ${backend.name} (${info.engine}, ${info.mode}, ${info.threads} thread${info.threads > 1 ? 's' : ''})`,
    `prompt ${r.promptTokens.length} tokens, generated ${r.tokens.length}; FFN neurons used per generated token:`,
    layerTable(r),
    `per generated token: FFN ${fmt(c.ffnMacs)} MACs (${percent(c.ffnMacs / c.denseFfnMacs)} of dense), ` +
      `FFN weights ${fmt(c.ffnWeightBytes)} B, all weights ${fmt(c.totalWeightBytes)} B` +
      (c.decisionOps ? `, plus ${fmt(c.decisionOps)} ops to choose neurons` : ''),
    `prefill ${r.timing.prefillMs.toFixed(1)} ms, decode ${r.timing.decodeTokensPerSecond.toFixed(1)} tokens/s`,
    '',
  ].join('\n');
}

export function fmt(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
