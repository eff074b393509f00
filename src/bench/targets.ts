// The performance targets of issue 5, evaluated on one run's rows. Each says what
// was measured, the goal, met or missed, and by how much (measured − goal, in the
// target's unit); a target whose inputs did not run is reported as not measured.

import type { Method } from '../reference/policies/types.js';
import type { BenchReport, BenchRow, PrefillOverhead, Suite, Target } from './types.js';

type Find = (backend: string, suite: Suite, method: Method, density: number, shape?: (s: string) => boolean) => BenchRow | undefined;

export function rowFinder(rows: BenchRow[]): Find {
  return (backend, suite, method, density, shape) =>
    rows.find((r) => r.backend === backend && r.suite === suite && r.method === method && Math.abs(r.density - density) < 1e-9 && (!shape || shape(r.shape)));
}

function target(name: string, goal: number, measured: number | undefined | null, unit: string, note?: string, atMost = false): Target {
  if (measured === undefined || measured === null || !Number.isFinite(measured)) {
    return { target: name, goal, measured: null, unit, met: null, by: null, note: note ?? 'not measured in this run' };
  }
  const by = atMost ? goal - measured : measured - goal;
  return { target: name, goal, measured, unit, met: by >= 0, by, note };
}

export function evaluateTargets(r: Pick<BenchReport, 'rows' | 'copy_bandwidth_gbs'> & { prefill_overhead: PrefillOverhead | null }): Target[] {
  const find = rowFinder(r.rows);
  const synth = (s: string) => s.startsWith('synthetic');
  const nFfnDense = find('native-cpu', 'ffn', 'dense', 1);
  const wFfnDense = find('tfjs-wasm', 'ffn', 'dense', 1);
  const nE2eDense = find('native-cpu', 'e2e', 'dense', 1, synth);
  const nE2eTda = find('native-cpu', 'e2e', 'tda', 0.5, synth);
  const llama = find('llama.cpp', 'e2e', 'dense', 1, synth);
  const ttFfn = find('native-cpu', 'ffn', 'tt', 0.5);
  const po = r.prefill_overhead;
  return [
    target('native-cpu ffn: TDA 0.5 vs dense', 1.9, find('native-cpu', 'ffn', 'tda', 0.5)?.speedup_vs_dense, '×'),
    target('native-cpu layer ctx: TDA 0.5 vs dense', 1.4, find('native-cpu', 'layer', 'tda', 0.5)?.speedup_vs_dense, '×'),
    target('native-cpu dense FFN: fraction of copy bandwidth', 0.85, nFfnDense ? nFfnDense.effective_gbs / r.copy_bandwidth_gbs : undefined, 'of copy'),
    target('native-cpu dense FFN vs tfjs-wasm dense FFN', 3, nFfnDense && wFfnDense ? wFfnDense.median_ms / nFfnDense.median_ms : undefined, '×'),
    target('tfjs-wasm ffn: TDA 0.5 vs dense', 1.8, find('tfjs-wasm', 'ffn', 'tda', 0.5)?.speedup_vs_dense, '×'),
    target('e2e synthetic: native-cpu TDA 0.5 vs llama.cpp dense F32 (tokens/s)', 1.3, nE2eTda && llama ? llama.median_ms / nE2eTda.median_ms : undefined, '×'),
    target('e2e synthetic: native-cpu dense vs llama.cpp dense F32 (tokens/s)', 0.9, nE2eDense && llama ? llama.median_ms / nE2eDense.median_ms : undefined, '×'),
    target('TDA prefill overhead vs 1024-token prefill (kit decoder)', 0.05, po?.fraction, 'of prefill', po ? `stats ${po.statisticsMs.toFixed(0)} ms + mask ${po.maskMs.toFixed(1)} ms + slicing ${po.slicingMs.toFixed(0)} ms vs prefill ${(po.prefillMs / 1000).toFixed(1)} s on ${po.backend}` : undefined, true),
    {
      ...target('native-cpu ffn: TT 0.5 vs dense (informational: gate/up stay dense)', ttFfn?.ceiling ?? 1.2, ttFfn?.speedup_vs_dense, '×', ttFfn ? `TT ceiling ${ttFfn.ceiling.toFixed(2)}×; goal shown is that ceiling` : undefined),
      met: null,
    },
  ];
}
