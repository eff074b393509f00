// The native backends are optional: building them must never fail an install,
// and a backend that is present must report what it really runs on.
import { runNode } from './helpers.js';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../src/backends/all.js';
import { BackendUnavailableError, loadBackend } from '../src/backends/registry.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cpuAddon = path.join(root, 'native/build/Release/tda_native_cpu.node');

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

describe('scripts/build-native.mjs', () => {
  it('exits 0 with a one-line reason when the build fails', async () => {
    // A node-gyp that does not exist and no nvcc: both builds fail, nothing is touched.
    const res = await runNode([path.join(root, 'scripts/build-native.mjs')], { TDA_NODE_GYP: path.join(root, 'no-such-dir/node-gyp.js'), TDA_NVCC: 'none' });
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    const cpu = lines.filter((l) => l.startsWith('native-cpu backend not built: '));
    expect(cpu).toHaveLength(1);
    expect(cpu[0]).toMatch(/; other backends unaffected$/);
    expect(lines.some((l) => /^native-cuda backend not built: nvcc not found; other backends unaffected$/.test(l))).toBe(true);
  });

  it('skips the minutes-long CUDA build where no NVIDIA GPU is visible, and says how to force it', async () => {
    const gpu = ['/dev/nvidiactl', '/dev/nvidia0', '/dev/dxg'].some((f) => existsSync(f));
    // A node-gyp that does not exist (the CPU build fails at once) and an nvcc that does.
    const res = await runNode([path.join(root, 'scripts/build-native.mjs')], { TDA_NODE_GYP: path.join(root, 'no-such-dir/node-gyp.js'), TDA_NVCC: process.execPath, TDA_BUILD_CUDA: '' });
    expect(res.code).toBe(0);
    const cuda = res.stdout.split('\n').filter((l) => l.startsWith('native-cuda backend'));
    expect(cuda).toHaveLength(1);
    if (!gpu) expect(cuda[0]).toBe('native-cuda backend not built: no NVIDIA GPU found (TDA_BUILD_CUDA=1 npm run build:native builds it anyway); other backends unaffected');
    else expect(cuda[0]).not.toMatch(/no NVIDIA GPU found/);
  });
});

describe('native-cpu', () => {
  it('is built where CI builds it, or is unavailable with a one-line reason that says how to build it', async () => {
    if (process.env.CI) expect(existsSync(cpuAddon)).toBe(true); // .ci/run builds it: a missing addon there is a failure
    if (existsSync(cpuAddon)) {
      expect((await loadBackend('native-cpu')).name).toBe('native-cpu');
      return;
    }
    const err = await loadBackend('native-cpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toContain('npm run build:native');
  });

  it('reports its SIMD mode and thread count truthfully (when built)', async () => {
    if (!existsSync(cpuAddon)) return; // covered by the test above
    const info = (await loadBackend('native-cpu')).info();
    expect(info.engine).toBe('n-api c++');
    expect(info.precision).toBe('fp32');
    expect(info.device).toBe(os.cpus()[0]?.model.trim());
    const flags = cpuFlags();
    if (info.mode === 'avx2+fma') {
      expect(info.simd).toBe(true);
      if (flags.size > 0) expect(flags.has('avx2') && flags.has('fma')).toBe(true);
    } else {
      expect(info.mode).toBe('scalar');
      expect(info.simd).toBe(false);
      if (process.env.TDA_NATIVE_ISA !== 'scalar' && flags.size > 0) {
        expect(flags.has('avx2') && flags.has('fma')).toBe(false);
      }
    }
    const want = Number(process.env.TDA_NATIVE_THREADS) || Math.min(os.cpus().length, 64);
    expect(info.threads).toBe(want);
  });

  it('throws (does not crash) on arrays too short for the shape (when built)', async () => {
    if (!existsSync(cpuAddon)) return;
    const b = await loadBackend('native-cpu');
    expect(() => b.kernels.matvec(new Float32Array(2), new Float32Array(3), new Float32Array(2), 2, 2)).toThrow(
      /needs 4/,
    );
  });
});

describe('native-cuda', () => {
  it('loads, or is unavailable with a one-line reason', async () => {
    for (const name of ['native-cuda', 'native-cuda-fp16']) {
      const res = await loadBackend(name).then((b) => b, (e: unknown) => e);
      if (res instanceof Error) {
        expect(res).toBeInstanceOf(BackendUnavailableError);
        expect(res.message).not.toContain('\n');
        expect(res.message.startsWith(`${name} backend unavailable: `)).toBe(true);
      } else {
        expect((res as { info(): { engine: string } }).info().engine).toBe('cuda');
      }
    }
  });
});
