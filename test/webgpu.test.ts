// The webgpu backend's own behaviour, beside the conformance run (conformance-webgpu.test.ts
// judges `tda conformance --backend webgpu --quick`): exact results on integer grids
// (where every float32 summation order gives the exact value, so the reference is an
// outside check with tolerance 0), the paths the random cases rarely reach (empty
// kept lists, exp overflow, large RoPE angles), weights cached by identity only, and the one-line reason without an
// adapter. On a machine without a GPU driver the backend needs Debian's chromium
// package (its SwiftShader Vulkan driver): without it these tests fail, saying so.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/backends/all.js';
import { loadBackend } from '../src/backends/registry.js';
import type { Backend, Kernels } from '../src/core/kernels.js';
import type { FfnWeights } from '../src/core/model.js';
import { referenceKernels as R } from '../src/reference/kernels.js';
import { ropeBound } from '../src/conformance/tolerance.js';
import { Rng } from '../src/reference/random.js';
import { ROOT } from './helpers.js';

let backend: Backend;
let K: Kernels;

beforeAll(async () => {
  try {
    backend = await loadBackend('webgpu');
  } catch (e) {
    throw new Error(
      `${(e as Error).message} — without a GPU driver the webgpu backend runs on SwiftShader from Debian's chromium package (apt-get install chromium)`,
    );
  }
  K = backend.kernels;
});
afterAll(() => backend?.dispose?.());

/** Small integers × 2^-3: products and partial sums are exact in float32. */
function grid(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.nextInt(17) - 8) / 8);
}

function ffnOf(rng: Rng, hidden: number, dim: number, gated: boolean, biased: boolean): FfnWeights {
  return {
    gate: gated ? grid(rng, hidden * dim) : null,
    up: grid(rng, hidden * dim),
    downT: grid(rng, hidden * dim),
    upBias: biased ? grid(rng, hidden) : null,
    downBias: biased ? grid(rng, dim) : null,
  };
}

describe('webgpu backend', () => {
  it('reports the adapter it runs on', () => {
    const info = backend.info();
    expect(info.engine).toBe('webgpu');
    expect(info.precision).toBe('fp32');
    expect(info.notes).toMatch(/adapter: vendor "[^"]*", architecture "[^"]*", description "[^"]*"/);
    expect(info.device.length).toBeGreaterThan(0);
  });

  it('matvec is exact on integer grids, at awkward shapes and beyond 4096 rows', () => {
    const rng = new Rng(1);
    for (const [rows, cols] of [[1, 1], [7, 300], [257, 63], [4099, 5]]) {
      const w = grid(rng, rows * cols);
      const x = grid(rng, cols);
      const out = new Float32Array(rows).fill(NaN);
      const ref = new Float32Array(rows);
      K.matvec(out, w, x, rows, cols);
      R.matvec(ref, w, x, rows, cols);
      expect(out).toEqual(ref);
    }
  });

  it('the FFN kernels are exact on grids: every kind, with and without biases, kept lists empty to full', () => {
    const rng = new Rng(2);
    const dim = 37;
    const hidden = 101;
    for (const [kind, gated, biased] of [['relu', false, true], ['swiglu', true, false]] as const) {
      const ffn = ffnOf(rng, hidden, dim, gated, biased);
      const x = grid(rng, dim);
      const a = new Float32Array(hidden);
      const aRef = new Float32Array(hidden);
      K.ffnActivations(a, x, ffn, kind);
      R.ffnActivations(aRef, x, ffn, kind);
      if (kind === 'relu') expect(a).toEqual(aRef); // relu of an exact sum is exact
      for (const kept of [null, new Int32Array(0), Int32Array.of(0), Int32Array.of(3, 50, 100), Int32Array.from({ length: hidden }, (_, i) => i)]) {
        const out = new Float32Array(dim).fill(NaN);
        const ref = new Float32Array(dim);
        // Down projection of grid activations: exact.
        K.ffnDown(out, aRef.map((v) => Math.round(v * 8) / 8), ffn, kept);
        R.ffnDown(ref, aRef.map((v) => Math.round(v * 8) / 8), ffn, kept);
        expect(out).toEqual(ref);
        if (kind === 'relu') {
          K.ffnSliced(out, x, ffn, kind, kept);
          R.ffnSliced(ref, x, ffn, kind, kept);
          expect(out).toEqual(ref);
        }
      }
    }
  });

  it('weights are cached by array identity: new arrays of the same shape are used, not stale copies', () => {
    const w1 = Float32Array.of(1, 2, 3, 4);
    const w2 = Float32Array.of(-1, 0, 0, -1);
    const x = Float32Array.of(1, 1);
    const out = new Float32Array(2);
    K.matvec(out, w1, x, 2, 2);
    expect([...out]).toEqual([3, 7]);
    K.matvec(out, w2, x, 2, 2);
    expect([...out]).toEqual([-1, -1]);
    K.matvec(out, w1, x, 2, 2);
    expect([...out]).toEqual([3, 7]);
  });

  it('SiLU saturates where e^-z overflows float32, to the reference value', () => {
    const ffn: FfnWeights = { gate: Float32Array.of(1, 1, 1), up: Float32Array.of(1, 1, 1), downT: Float32Array.of(1, 1, 1), upBias: null, downBias: null };
    const a = new Float32Array(3);
    for (const z of [-100, -88.5, 95]) {
      K.ffnActivations(a, Float32Array.of(z), ffn, 'swiglu');
      const ref = new Float32Array(3);
      R.ffnActivations(ref, Float32Array.of(z), ffn, 'swiglu');
      // silu(z)·z: at z = -100 the exact value is ~-4e-40 (subnormal, may flush), at 95 it is 95².
      expect(Math.abs(a[0] - ref[0])).toBeLessThanOrEqual(Math.abs(ref[0]) * 8 * 2 ** -24 + 2 ** -126);
    }
  });

  it('RoPE stays within its bound at large positions (range reduction of sin/cos)', () => {
    const rng = new Rng(3);
    const headSize = 128;
    for (const pos of [0, 1, 4095, 8191, 65535]) {
      const v = Float32Array.from({ length: 2 * headSize }, () => rng.nextNormal());
      const out = v.slice();
      const ref = v.slice();
      K.rope(out, pos, headSize, 10000);
      R.rope(ref, pos, headSize, 10000);
      for (let i = 0; i < v.length; i += 2) {
        const j = i % headSize;
        const angle = pos * (1 / Math.pow(10000, j / headSize));
        const bound = ropeBound(v[i], v[i + 1], angle, j, headSize, 10000);
        expect(Math.abs(out[i] - ref[i])).toBeLessThanOrEqual(bound);
        expect(Math.abs(out[i + 1] - ref[i + 1])).toBeLessThanOrEqual(bound);
      }
    }
  });
});

/** Runs the CLI in a child process without blocking the test worker. */
function tda(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/tda.js'), ...args], { cwd: ROOT, env: { ...process.env, TDA_CLI_FROM: 'dist', ...env } });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('webgpu without an adapter', () => {
  it('is unavailable with a one-line reason, and conformance checks nothing in its place (exit 2)', async () => {
    const r = await tda(['conformance', '--backend', 'webgpu', '--quick'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('tda:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tda: webgpu backend unavailable: .*no WebGPU adapter.*nothing was checked/);
  }, 60_000);
});
