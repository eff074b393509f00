// The gpu.js backends never pass one mode off as another.
//
// - `gpujs` must report, in info().mode, the mode gpu.js really ran its kernels in:
//   headless GL where the `gl` package is built and a display exists, otherwise
//   gpu.js's fallback (webasm or cpu), with the fallback said in info().notes.
// - `gpujs-gl` either really runs GLSL kernels (its info().mode is a GL mode and a
//   kernel result matches the reference) or refuses to load with
//   BackendUnavailableError. Set TDA_REQUIRE_GL=1 (CI under `xvfb-run -a`) to make
//   the refusal a failure.

import { describe, expect, it } from 'vitest';
import '../src/backends/all.js';
import { GL_MODES, type GpuJsBackend } from '../src/backends/gpujs/backend.js';
import { probeHeadlessGl } from '../src/backends/gpujs/gl-status.js';
import { referenceKernels as ref } from '../src/backends/reference/index.js';
import { BackendUnavailableError, loadBackend } from '../src/backends/registry.js';
import type { Backend } from '../src/core/kernels.js';
import type { FfnWeights } from '../src/core/model.js';

function lcg(seed: number): (n: number) => Float32Array {
  let s = seed;
  return (n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      a[i] = s / 2147483648 - 0.5;
    }
    return a;
  };
}

/** Runs matvec and a sliced SwiGLU FFN on `b`; returns the max relative error against the reference. */
function maxRelError(b: Backend): number {
  const rand = lcg(7);
  const dim = 19;
  const hidden = 45;
  const ffn: FfnWeights = { gate: rand(hidden * dim), up: rand(hidden * dim), downT: rand(hidden * dim), upBias: null, downBias: null };
  const x = rand(dim);
  const kept = Int32Array.from({ length: hidden }, (_, i) => i).filter((i) => i % 3 !== 1);
  const cases: [Float32Array, Float32Array][] = [];
  const want = new Float32Array(dim);
  const got = new Float32Array(dim);
  ref.ffnSliced(want, x, ffn, 'swiglu', kept);
  b.kernels.ffnSliced(got, x, ffn, 'swiglu', kept);
  cases.push([got, want]);
  const w = rand(hidden * dim);
  const mvWant = new Float32Array(hidden);
  const mvGot = new Float32Array(hidden);
  ref.matvec(mvWant, w, x, hidden, dim);
  b.kernels.matvec(mvGot, w, x, hidden, dim);
  cases.push([mvGot, mvWant]);
  let worst = 0;
  for (const [g, r] of cases) {
    const scale = Math.max(...r.map(Math.abs));
    for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(g[i] - r[i]) / scale);
  }
  return worst;
}

/** The mode gpu.js itself picks by default here, from a kernel created outside the backend. */
async function gpuJsDefaultMode(): Promise<string> {
  const { GPU } = await import('gpu.js');
  const gpu = new GPU();
  const k = gpu.createKernel('function (a) { return a[this.thread.x] * 2; }', { output: [2] });
  k(Float32Array.of(1, 2));
  const cls = (k.kernel as object).constructor.name;
  gpu.destroy();
  const byClass: Record<string, string> = { HeadlessGLKernel: 'headlessgl', WebAssemblyKernel: 'webasm', CPUKernel: 'cpu' };
  return byClass[cls] ?? cls;
}

describe('gpu.js backends report the mode they really run in', () => {
  it('gpujs: info().mode is the mode gpu.js used, and says when it fell back', async () => {
    const b = (await loadBackend('gpujs')) as GpuJsBackend;
    try {
      expect(maxRelError(b)).toBeLessThan(1e-4);
      const info = b.info();
      const used = [...new Set(b.kernelModes().values())];
      expect(info.mode).toBe(used.join('+'));
      expect(info.mode).toBe(await gpuJsDefaultMode());
      const gl = probeHeadlessGl();
      if (gl.available) {
        expect(GL_MODES).toContain(info.mode);
      } else {
        expect(GL_MODES).not.toContain(info.mode);
        expect(info.notes).toContain('fell back');
        expect(info.notes).toContain(gl.detail);
      }
    } finally {
      b.dispose?.();
    }
  });

  it('gpujs-gl: runs GLSL kernels for real, or is unavailable with a one-line reason', async () => {
    let b: GpuJsBackend;
    try {
      b = (await loadBackend('gpujs-gl')) as GpuJsBackend;
    } catch (e) {
      expect(e).toBeInstanceOf(BackendUnavailableError);
      const message = (e as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain(probeHeadlessGl().detail);
      if (process.env.TDA_REQUIRE_GL === '1') throw new Error(`TDA_REQUIRE_GL=1 but ${message}`);
      return;
    }
    try {
      expect(GL_MODES).toContain(b.info().mode);
      expect(maxRelError(b)).toBeLessThan(1e-4);
      for (const mode of b.kernelModes().values()) expect(GL_MODES).toContain(mode);
      expect(b.info().mode).toBe('headlessgl');
    } finally {
      b.dispose?.();
    }
  });
});
