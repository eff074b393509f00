// Per-row peak RSS of the paper suite (src/bench/rss.ts): the high-water mark is reset
// before each row, so a row reports its own peak, not the largest row before it; and the
// f32 rows widen a copy of a words-only model, so the f16 rows run on the words alone.
// Memory figures are compared with wide margins (hundreds of MiB): the machine is shared,
// but RSS is this process's own.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createNativeCpuBackend, halfLoadFor } from '../src/backends/native-cpu/index.js';
import { collectGarbage, processPeakRssMb, runPeakRssMb, startPeakRss, vmHwmKb } from '../src/bench/rss.js';
import { benchSyntheticModel } from '../src/bench/weights.js';
import { fillStoredHalf, isPending, type Model, unfilledTwin } from '../src/core/model.js';
import { syntheticVocab, writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf } from '../src/models/gguf.js';
import { writeSyntheticGguf } from '../src/models/gguf-synthetic.js';

const MiB = 2 ** 20;
const linux = fs.existsSync('/proc/self/clear_refs');

/** Allocates and touches `mb` MiB, then lets it go (unreachable once this returns). */
function touch(mb: number): number {
  const b = new Uint8Array(mb * MiB);
  b.fill(1);
  return b[b.length - 1];
}

/** The weight matrices a wordsOnly load holds as words. */
function matrices(m: Model): Float32Array[] {
  return m.weights.layers.flatMap((l) => [l.wq, l.wk, l.wv, l.wo, l.ffn.gate!, l.ffn.up, l.ffn.downT]);
}

async function wordsOnlyModel(): Promise<Model> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-bench-rss-'));
  const file = path.join(dir, 'tiny-f16.gguf');
  const m = benchSyntheticModel({ dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, vocabSize: 300, seqLen: 64 }, 1);
  writeModelGguf(m, syntheticVocab(300), file, { name: 'tiny', type: 'F16' });
  return (await loadGguf(file, { withTokenizer: false, ...halfLoadFor('native-cpu-f16') })).model;
}

describe.runIf(linux)('peak RSS per window (Linux: /proc/self/clear_refs)', () => {
  it('a window after a large freed buffer reports far less than the window that touched it', async () => {
    const first = startPeakRss();
    touch(256);
    const big = first();
    expect(big.scope).toBe('row');
    expect(await collectGarbage()).toBe(true);
    const second = startPeakRss();
    touch(1);
    const small = second();
    expect(small.scope).toBe('row');
    expect(big.mb - small.mb).toBeGreaterThan(200);
    // The process's own mark was reset too: it now reads the second window's peak, not the first's;
    // the run's peak, kept across resets, still covers the first.
    expect(vmHwmKb()! / 1024).toBeLessThan(big.mb - 200);
    expect(runPeakRssMb()).toBeGreaterThanOrEqual(big.mb);
  });

  it('the paper suite reports each row\'s own peak: a 300 MiB spike before the run shows in no row', async () => {
    const { runPaperSuite } = await import('../src/bench/suite-paper.js');
    const model = await wordsOnlyModel();
    touch(300);
    const spike = vmHwmKb()! / 1024;
    const r = await runPaperSuite(
      { label: 'tiny', model, gguf: {} },
      { promptTokens: 20, newTokens: 7, methods: ['dense', 'tda'], density: 0.5, threads: 2, llamaCpp: false, backends: { f32: createNativeCpuBackend(), f16: createNativeCpuBackend('f16') } },
    );
    expect(r.rows.map((x) => `${x.backend}/${x.method}`)).toEqual(['native-cpu/dense', 'native-cpu/tda', 'native-cpu-f16/dense', 'native-cpu-f16/tda']);
    for (const x of r.rows) {
      expect(x.peak_rss_scope).toBe('row');
      expect(x.peak_rss_mb).toBeGreaterThan(0);
      expect(x.peak_rss_mb).toBeLessThan(spike - 200); // the old figure (process maxRSS) was ≥ spike
    }
    // The f32 rows widened a copy: the model the f16 rows ran on is still words only.
    expect(matrices(model).every(isPending)).toBe(true);
  }, 120_000);

  it('the f16 rows of a words-only model do not carry the float32 values the f32 rows widened (400 MiB here)', async () => {
    const { runPaperSuite } = await import('../src/bench/suite-paper.js');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tda-bench-rss-')), 'f16.gguf');
    // 6 layers × (4 · 1024² + 3 · 1024 · 4096) weights: 100 M, 400 MiB as float32, 200 MiB as words.
    writeSyntheticGguf(file, { dim: 1024, hiddenDim: 4096, nLayers: 6, nHeads: 8, nKvHeads: 8, vocabSize: 512, seqLen: 64 }, 1, 'F16');
    const model = (await loadGguf(file, { withTokenizer: false, ...halfLoadFor('native-cpu-f16') })).model;
    const r = await runPaperSuite(
      { label: 'm', model, gguf: {} },
      { promptTokens: 6, newTokens: 2, methods: ['dense'], density: 0.5, threads: 2, llamaCpp: false, backends: { f32: createNativeCpuBackend(), f16: createNativeCpuBackend('f16') } },
    );
    const [f32, f16] = r.rows;
    expect([f32.weights, f16.weights]).toEqual(['f32', 'f16']);
    expect(f32.peak_rss_mb - f16.peak_rss_mb).toBeGreaterThan(300);
    expect(matrices(model).every(isPending)).toBe(true);
    fs.rmSync(path.dirname(file), { recursive: true });
  }, 300_000);
});

describe('unfilledTwin', () => {
  it('pending matrices get new pending arrays over the same words; filling the twin leaves the model unwritten', async () => {
    const model = await wordsOnlyModel();
    const twin = unfilledTwin(model);
    const [w, t] = [model.weights.layers[1].ffn.downT, twin.weights.layers[1].ffn.downT];
    expect(t).not.toBe(w);
    expect(isPending(t)).toBe(true);
    expect(twin.weights.tokenEmbedding).toBe(model.weights.tokenEmbedding); // widened at load: shared
    expect(twin.weights.layers[0].rmsAtt).toBe(model.weights.layers[0].rmsAtt);
    fillStoredHalf(t);
    expect(isPending(w)).toBe(true);
    expect(new Uint32Array(w.buffer, w.byteOffset, w.length).every((b) => b === 0)).toBe(true);
    expect(Array.from(t)).toEqual(Array.from(fillStoredHalf(model.weights.layers[1].ffn.downT)));
  });
});

describe('without a resettable high-water mark', () => {
  it('falls back to the process\'s peak and says so', async () => {
    const spy = vi.spyOn(fs, 'writeFileSync').mockImplementation(() => {
      throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    });
    try {
      const p = startPeakRss()();
      expect(p.scope).toBe('process');
      expect(p.mb).toBeGreaterThan(0);
      expect(p.mb).toBeLessThanOrEqual(processPeakRssMb());
    } finally {
      spy.mockRestore();
    }
  });
});
