// The performance targets of issue 5, evaluated on one run's rows. Each says what
// was measured, the goal, met or missed, and by how much (measured − goal, in the
// target's unit); a target whose inputs did not run is reported as not measured.

import type { Method } from '../reference/policies/types.js';
import type { BenchReport, BenchRow, PaperRow, PrefillOverhead, ScaleRow, Suite, Target } from './types.js';

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

export function evaluateTargets(
  r: Pick<BenchReport, 'rows' | 'copy_bandwidth_gbs'> & { prefill_overhead: PrefillOverhead | null; paper_rows?: PaperRow[]; scale_rows?: ScaleRow[]; contended?: boolean },
): Target[] {
  const find = rowFinder(r.rows);
  const synth = (s: string) => s.startsWith('synthetic');
  const nFfnDense = find('native-cpu', 'ffn', 'dense', 1);
  const wFfnDense = find('tfjs-wasm', 'ffn', 'dense', 1);
  const nE2eDense = find('native-cpu', 'e2e', 'dense', 1, synth);
  const nE2eTda = find('native-cpu', 'e2e', 'tda', 0.5, synth);
  const llama = find('llama.cpp', 'e2e', 'dense', 1, synth);
  const ttFfn = find('native-cpu', 'ffn', 'tt', 0.5);
  const po = r.prefill_overhead;
  const storiesNative = find('native-cpu', 'e2e', 'dense', 1, (x) => x === 'stories260K');
  const storiesRef = find('reference', 'e2e', 'dense', 1, (x) => x === 'stories260K');
  return [
    ...paperTargets(r.paper_rows ?? []),
    ...scaleTargets(r.scale_rows ?? []),
    target(
      `e2e stories260K: native-cpu dense vs reference dense (tokens/s${r.contended ? ', two CPU hogs running' : ''})`,
      1,
      storiesNative && storiesRef ? storiesRef.median_ms / storiesNative.median_ms : undefined,
      '×',
    ),
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

/** The paper suite's targets (issue 10), on the first model that has the rows (the 341 M one by default). */
function paperTargets(rows: PaperRow[]): Target[] {
  const models = [...new Set(rows.map((x) => x.model))];
  const pick = (model: string, backend: string, method: string, weights: string) =>
    rows.find((x) => x.model === model && x.backend === backend && x.method === method && x.weights === weights);
  const model = models.find((m) => pick(m, 'native-cpu', 'dense', 'f32')) ?? models[0];
  const kitDense = model ? pick(model, 'native-cpu', 'dense', 'f32') : undefined;
  const llamaF32 = model ? pick(model, 'llama.cpp', 'dense', 'f32') : undefined;
  const llamaF16 = model ? pick(model, 'llama.cpp', 'dense', 'f16') : undefined;
  const tdaF16 = model ? pick(model, 'native-cpu-f16', 'tda', 'f16') : undefined;
  const tdaF32 = model ? pick(model, 'native-cpu', 'tda', 'f32') : undefined;
  const out: Target[] = [
    target(
      'paper: dense batched prefill vs llama.cpp batched prefill (same F32 weights and threads)',
      1.5,
      kitDense && llamaF32 ? kitDense.prefill_ms / llamaF32.prefill_ms : undefined,
      '× time',
      kitDense && llamaF32 ? `${kitDense.prompt_tokens} tokens on ${model}: kit ${(kitDense.prefill_ms / 1000).toFixed(2)} s, llama.cpp ${(llamaF32.prefill_ms / 1000).toFixed(2)} s` : undefined,
      true,
    ),
    target(
      'paper: TDA 0.5 total (prompt + generation) vs llama.cpp dense, F16 weights',
      1.25,
      tdaF16 && llamaF16 ? llamaF16.total_ms / tdaF16.total_ms : undefined,
      '×',
      tdaF16 && llamaF16
        ? `${tdaF16.prompt_tokens} + ${tdaF16.new_tokens} tokens on ${model}: kit native-cpu-f16 TDA ${(tdaF16.total_ms / 1000).toFixed(2)} s, llama.cpp F16 dense ${(llamaF16.total_ms / 1000).toFixed(2)} s`
        : 'not measured: no llama.cpp F16 GGUF row in this run (see skipped); the F32 comparison below is the nearest measured',
    ),
    {
      ...target(
        'paper: TDA 0.5 total vs llama.cpp dense, F32 weights (informational)',
        1.25,
        tdaF32 && llamaF32 ? llamaF32.total_ms / tdaF32.total_ms : undefined,
        '×',
      ),
      met: null,
    },
  ];
  // The paper's ordering (Table 4): Dense ≈ TT < TDA ≈ Griffin in speed. "≈": totals within 10 %.
  for (const weights of ['f32', 'f16'] as const) {
    const backend = weights === 'f32' ? 'native-cpu' : 'native-cpu-f16';
    const t = (method: string) => (model ? pick(model, backend, method, weights)?.total_ms : undefined);
    const [d, tt, g, tda] = [t('dense'), t('tt'), t('griffin'), t('tda')];
    if (d === undefined || tt === undefined || g === undefined || tda === undefined) continue;
    const near = (a: number, b: number) => Math.abs(a / b - 1) <= 0.1;
    const met = near(d, tt) && near(tda, g) && Math.max(tda, g) < Math.min(d, tt);
    out.push({
      target: `paper: ordering Dense ≈ TT < TDA ≈ Griffin (${weights}; total time, ≈ within 10 %)`,
      goal: 1,
      measured: met ? 1 : 0,
      unit: 'ordering',
      met,
      by: null,
      note: `totals s: dense ${(d / 1000).toFixed(2)}, TT ${(tt / 1000).toFixed(2)}, Griffin ${(g / 1000).toFixed(2)}, TDA ${(tda / 1000).toFixed(2)}`,
    });
  }
  return out;
}

/** Issue 11 "Scale": the TinyLlama-shape F16 GGUF loads in ≤ 60 s with peak RSS ≤ 6 GB, on the kit. */
function scaleTargets(rows: ScaleRow[]): Target[] {
  const kit = rows.find((x) => x.model.includes('TinyLlama') && x.engine !== 'llama.cpp');
  const note = kit ? `${kit.engine}, ${kit.file_mb.toFixed(0)} MiB file; peak RSS with ${kit.steps} decode steps after the load: ${kit.peak_rss_mb.toFixed(0)} MiB` : undefined;
  return [
    target('scale: TinyLlama-1.1B-shape F16 GGUF load time (kit)', 60, kit ? kit.load_ms / 1000 : undefined, 's', note, true),
    target('scale: TinyLlama-1.1B-shape F16 GGUF peak RSS after load (kit)', 6144, kit?.load_rss_mb ?? undefined, 'MiB', note, true),
  ];
}
