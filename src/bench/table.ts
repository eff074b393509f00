// The human-readable report: machine, copy bandwidth, one table of rows, the
// targets, the prefill overhead and anything that could not run.

import type { BenchReport } from './types.js';

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((v, c) => (c < 4 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  out.push(`tda bench${r.quick ? ' --quick' : ''} — ${r.date}`);
  out.push(`machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memory_gib} GiB, node ${r.machine.node} (${r.machine.platform})`);
  out.push(
    `copy bandwidth (read+written): ${f(r.copy_bandwidth_gbs)} GB/s median, IQR ${f(r.copy_bandwidth.q1)}–${f(r.copy_bandwidth.q3)} over ${r.copy_bandwidth.runs} copies of ${(r.copy_bandwidth.buffer_bytes / 2 ** 20).toFixed(0)} MiB ` +
      `(1 thread ${f(r.copy_bandwidth.single_thread_gbs, 1)}, ${r.copy_bandwidth.threads} threads ${f(r.copy_bandwidth.multi_thread_gbs ?? undefined, 1)})`,
  );
  for (const b of r.backends) out.push(`backend ${b.name}: ${b.info.engine}, ${b.info.mode}, ${b.info.threads} threads${b.info.simd ? ', simd' : ''}`);
  out.push('');
  const head = ['suite', 'backend', 'shape', 'method', 'density', 'kept', 'median ms', 'IQR ms', 'speedup', 'ceiling', '% ceil', 'GB/s', 'tok/s'];
  const cells = [head];
  for (const row of r.rows) {
    cells.push([
      row.suite,
      row.backend,
      row.shape,
      row.method,
      f(row.density, 2),
      String(row.kept),
      f(row.median_ms, row.median_ms < 10 ? 3 : 1),
      `${f(row.q1_ms, row.q1_ms < 10 ? 3 : 1)}–${f(row.q3_ms, row.q3_ms < 10 ? 3 : 1)}`,
      `${f(row.speedup_vs_dense)}×`,
      `${f(row.ceiling)}×`,
      // undefined where the ceiling grants (almost) no gain: the ratio would divide by ~0
      row.method === 'dense' || row.ceiling < 1.02 ? '' : `${f((100 * (row.speedup_vs_dense - 1)) / (row.ceiling - 1), 0)}%`,
      f(row.effective_gbs, 1),
      row.tokens_per_s !== undefined ? f(row.tokens_per_s, 1) : '',
    ]);
  }
  out.push(pad(cells));
  out.push('(% ceil: share of the ceiling\'s gain reached, (speedup−1)/(ceiling−1); GB/s: bytes the method must read / median time)');
  for (const row of r.rows) if (row.note) out.push(`note ${row.backend} ${row.suite} ${row.shape}: ${row.note}`);
  if (r.paper_rows?.length) {
    out.push('');
    out.push('paper scenario (prompt + generation end to end):');
    const pc = [['model', 'backend', 'method', 'weights', 'KV cache', 'density', 'prompt', 'new', 'prefill s', 'decode s', 'total s', 'decode tok/s', 'peak RSS MiB']];
    for (const p of r.paper_rows) {
      pc.push([p.model, p.backend, p.method, p.weights, p.kv_cache ?? '', f(p.density, 2), String(p.prompt_tokens), String(p.new_tokens), f(p.prefill_ms / 1000), f(p.decode_ms / 1000), f(p.total_ms / 1000), f(p.decode_tokens_per_s, 1), f(p.peak_rss_mb, 0)]);
    }
    out.push(pad(pc));
    out.push(
      r.paper_rows.some((p) => p.peak_rss_scope === 'process')
        ? '(peak RSS: the process\'s high-water mark when the row ended, monotonic over the run: this system cannot reset it per row)'
        : '(peak RSS: each row\'s own peak during its timed run, including what was resident when it began)',
    );
    for (const p of r.paper_rows) if (p.note) out.push(`note ${p.backend} paper ${p.model} ${p.weights}: ${p.note}`);
  }
  if (r.scale_rows?.length) {
    out.push('');
    out.push('loading the GGUF files (each engine in a process of its own):');
    const sc = [['model', 'engine', 'file MiB', 'load s', 'RSS after load MiB', 'peak RSS MiB', 'decode tok/s', 'steps']];
    for (const x of r.scale_rows) {
      sc.push([x.model, x.engine, f(x.file_mb, 0), f(x.load_ms / 1000, 2), x.load_rss_mb === null ? '-' : f(x.load_rss_mb, 0), f(x.peak_rss_mb, 0), f(x.tokens_per_s, 1), String(x.steps)]);
    }
    out.push(pad(sc));
    for (const x of r.scale_rows) if (x.note) out.push(`note ${x.engine} ${x.model}: ${x.note}`);
  }
  if (r.prefill_overhead) {
    const p = r.prefill_overhead;
    out.push('');
    out.push(
      `TDA prefill overhead (${p.backend}, ${p.model}, ${p.promptTokens}-token prompt): statistics ${f(p.statisticsMs, 1)} ms + mask ${f(p.maskMs, 1)} ms + slicing ${f(p.slicingMs, 1)} ms = ${f(p.overheadMs, 1)} ms vs prefill ${f(p.prefillMs / 1000, 1)} s → ${f(100 * p.fraction, 2)}%`,
    );
    out.push(`  prefill: ${p.prefillHow}`);
    if (p.llamaCppPrefillMs !== undefined) {
      out.push(`  vs llama.cpp batched prefill of ${p.promptTokens} tokens (${f(p.llamaCppPrefillMs / 1000, 2)} s): ${f(100 * (p.fractionOfLlamaCpp ?? NaN), 1)}%`);
    }
  }
  out.push('');
  out.push('targets:');
  const tc = [['target', 'goal', 'measured', 'met', 'by']];
  for (const t of r.targets) {
    tc.push([
      t.target,
      `${f(t.goal)} ${t.unit}`,
      t.measured === null ? 'not measured' : `${f(t.measured, 3)} ${t.unit}`,
      t.met === null ? (t.measured === null ? '-' : 'info') : t.met ? 'met' : 'MISSED',
      t.by === null ? '' : `${t.by >= 0 ? '+' : ''}${f(t.by, 3)}`,
    ]);
  }
  out.push(pad(tc.map((r) => [r[0], r[1], r[2], r[3], r[4]])));
  for (const t of r.targets) if (t.note && t.measured !== null) out.push(`  ${t.target}: ${t.note}`);
  if (r.skipped.length) {
    out.push('');
    out.push('not run:');
    for (const s of r.skipped) out.push(`  ${s.backend} (${s.suite}): ${s.reason}`);
  }
  if (r.notes.length) {
    out.push('');
    for (const n of r.notes) out.push(`note: ${n}`);
  }
  out.push(`wall time ${f(r.wall_s, 1)} s`);
  return out.join('\n') + '\n';
}
