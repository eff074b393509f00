// The kernels on gpu.js: GLSL fragment shaders over float32 textures when headless
// GL is active, otherwise whatever gpu.js falls back to (its webasm or cpu modes).
// The mode reported is the one every kernel really ran in, read from the kernel
// object gpu.js chose — never the mode that was asked for.
//
// What runs where (reported in info().notes):
//  - matvec, ffnActivations, ffnDown and ffnSliced are gpu.js kernels, compiled once
//    per shape and kept; ffnSliced reads gate/up/down rows of kept neurons only,
//    indexing them through the kept list inside the kernel (TDA's sliced FFN);
//  - rmsnorm, rope and attention run on the host (the reference loops).
// In GL mode weight matrices are uploaded once into textures that stay on the GPU.
// Precision: GL mode stores values in float32 textures and accumulates in float32
// (highp); transcendental functions follow the GL driver's precision.

import os from 'node:os';
import * as gpujs from 'gpu.js';
import { attentionStep } from '../../reference/attention.js';
import { rmsnorm, rope } from '../../reference/math.js';
import { isGated, type FfnKind, type FfnWeights } from '../../core/model.js';
import type { Backend, BackendInfo, Kernels } from '../../core/kernels.js';
import { probeHeadlessGl, type GlStatus } from './gl-status.js';
import { activationSource, DOWN, MATVEC, UPLOAD } from './sources.js';

const { GPU, Input, Texture, HeadlessGLKernel, WebGL2Kernel, WebGLKernel, WebAssemblyKernel, CPUKernel } = gpujs;
type KernelFn = gpujs.IKernelRunShortcut;

/** The mode a gpu.js kernel really runs in, from the class of its current kernel object. */
export function kernelMode(k: KernelFn): string {
  const impl = k.kernel as unknown;
  if (impl instanceof HeadlessGLKernel) return 'headlessgl'; // before WebGLKernel: it is a subclass
  if (impl instanceof WebGL2Kernel) return 'webgl2';
  if (impl instanceof WebGLKernel) return 'webgl';
  if (impl instanceof WebAssemblyKernel) return 'webasm';
  if (impl instanceof CPUKernel) return 'cpu';
  return (impl as { constructor?: { name?: string } })?.constructor?.name ?? 'unknown';
}

export const GL_MODES: readonly string[] = ['headlessgl', 'webgl', 'webgl2'];

export interface GpuJsOptions {
  /** Fail (instead of computing elsewhere) if any kernel does not run in headless GL. */
  requireGl: boolean;
  /** The GL context's own description where the caller knows it (a browser's WebGL); default: probe headless GL. */
  gl?: GlStatus;
}

export interface GpuJsBackend extends Backend {
  /** Mode of every kernel run so far, by kernel key (e.g. "matvec 7x13" → "headlessgl"). */
  kernelModes(): ReadonlyMap<string, string>;
}

export class GlRequiredError extends Error {}

export function createGpuJsBackend(name: string, options: GpuJsOptions): GpuJsBackend {
  const gl: GlStatus = options.gl ?? probeHeadlessGl();
  if (options.requireGl && !gl.available) throw new GlRequiredError(gl.detail);
  const gpu = new GPU(options.requireGl ? { mode: 'headlessgl' } : {});

  const compiled = new Map<string, KernelFn>();
  const modes = new Map<string, string>();
  const fallbacks = new Set<string>();

  /** Runs the kernel `key`, compiling it on first use; records the mode it ran in. */
  function run(key: string, make: () => KernelFn, args: unknown[]): Float32Array {
    let k = compiled.get(key);
    if (!k) {
      k = make();
      compiled.set(key, k);
    }
    const result = (k as unknown as (...a: unknown[]) => Float32Array)(...args);
    const mode = kernelMode(k);
    modes.set(key, mode);
    const reason = (k.kernel as { fallbackReason?: string | null }).fallbackReason;
    if (reason) fallbacks.add(`${key}: ${reason}`);
    if (options.requireGl && !GL_MODES.includes(mode)) {
      throw new GlRequiredError(`${name}: kernel ${key} ran in ${mode} mode, not headless GL${reason ? ` (${reason})` : ''}`);
    }
    return result;
  }

  const settings = (output: number, constants: Record<string, number>) =>
    ({ output: [output], constants, precision: 'single', tactic: 'precision' }) as gpujs.IGPUKernelSettings;

  const zeros = new Map<number, Float32Array>();
  const zerosOf = (n: number) => {
    let z = zeros.get(n);
    if (!z) zeros.set(n, (z = new Float32Array(n)));
    return z;
  };

  /** A kept list as the float array the kernels index, padded to d_ff (null: all neurons). */
  function keptArg(kept: Int32Array | null, hidden: number): Float32Array {
    const ids = new Float32Array(hidden);
    if (kept) ids.set(kept);
    else for (let i = 0; i < hidden; i++) ids[i] = i;
    return ids;
  }

  // Weight matrices. In GL mode each is copied once into a float32 texture that
  // stays on the GPU, found again by the identity of its Float32Array and deleted
  // when that array is garbage-collected; kernels then only compute. Other modes
  // take the array itself on every call.
  const useTextures = gpu.Kernel === HeadlessGLKernel;
  const textures = new WeakMap<Float32Array, Map<string, gpujs.Texture>>();
  const liveTextures = new Set<gpujs.Texture>();
  const finalizer = new FinalizationRegistry<gpujs.Texture>((t) => {
    liveTextures.delete(t);
    t.delete();
  });
  const asInput = (w: Float32Array, rows: number, cols: number) =>
    new Input(w.subarray(0, rows * cols) as unknown as number[], [cols, rows]); // gpu.js reads typed arrays too
  function rowsOf(w: Float32Array, rows: number, cols: number): gpujs.Input | gpujs.Texture {
    if (!useTextures) return asInput(w, rows, cols);
    const shape = `${rows}x${cols}`;
    let byShape = textures.get(w);
    const have = byShape?.get(shape);
    if (have) return have;
    const make = () =>
      gpu.createKernel(UPLOAD, {
        output: [cols, rows],
        pipeline: true, // the result stays on the GPU as a texture
        immutable: true, // a new texture per call, not one reused output
        optimizeFloatMemory: true, // four floats per texel: large matrices fit the texture size limit
        precision: 'single',
        tactic: 'precision',
      });
    const t = run(`upload ${shape}`, make, [asInput(w, rows, cols)]) as unknown;
    if (!(t instanceof Texture)) return asInput(w, rows, cols); // the upload kernel left GL
    if (!byShape) textures.set(w, (byShape = new Map()));
    byShape.set(shape, t);
    liveTextures.add(t);
    finalizer.register(w, t, t);
    return t;
  }

  /** Compact activations of kept neurons: a[k] = a_{kept[k]} for k < n, 0 beyond. */
  function activations(x: Float32Array, ffn: FfnWeights, kind: FfnKind, ids: Float32Array, n: number): Float32Array {
    const dim = x.length;
    const hidden = ids.length;
    const key = `act-${kind} ${hidden}x${dim}`;
    const make = () => gpu.createKernel(activationSource(kind), settings(hidden, { dim }));
    const up = rowsOf(ffn.up, hidden, dim);
    const args = isGated(kind)
      ? [x, rowsOf(ffn.gate!, hidden, dim), up, ids, n]
      : [x, up, ffn.upBias ?? zerosOf(hidden), ids, n];
    return run(key, make, args);
  }

  /** out = Σ_{k<n} a[k] · downT[ids[k]] + downBias. */
  function down(out: Float32Array, a: Float32Array, ffn: FfnWeights, ids: Float32Array, n: number): void {
    const dim = out.length;
    const hidden = ids.length;
    const key = `down ${hidden}x${dim}`;
    const make = () => gpu.createKernel(DOWN, settings(dim, { hidden }));
    out.set(run(key, make, [a, rowsOf(ffn.downT, hidden, dim), ids, n, ffn.downBias ?? zerosOf(dim)]));
  }

  function biasOnly(out: Float32Array, ffn: FfnWeights): void {
    if (ffn.downBias) out.set(ffn.downBias.subarray(0, out.length));
    else out.fill(0);
  }

  const kernels: Kernels = {
    matvec(out, w, x, rows, cols) {
      const key = `matvec ${rows}x${cols}`;
      const make = () => gpu.createKernel(MATVEC, settings(rows, { cols }));
      out.set(run(key, make, [rowsOf(w, rows, cols), x.subarray(0, cols)]));
    },
    rmsnorm,
    rope,
    attention: attentionStep,
    ffnActivations(a, x, ffn, kind) {
      a.set(activations(x, ffn, kind, keptArg(null, a.length), a.length));
    },
    ffnDown(out, a, ffn, kept) {
      const hidden = a.length;
      if (kept && kept.length === 0) return biasOnly(out, ffn);
      let compact = a;
      if (kept) {
        compact = new Float32Array(hidden);
        for (let k = 0; k < kept.length; k++) compact[k] = a[kept[k]];
      }
      down(out, compact, ffn, keptArg(kept, hidden), kept ? kept.length : hidden);
    },
    ffnSliced(out, x, ffn, kind, kept) {
      const hidden = ffn.up.length / x.length;
      if (kept && kept.length === 0) return biasOnly(out, ffn);
      const ids = keptArg(kept, hidden);
      const n = kept ? kept.length : hidden;
      down(out, activations(x, ffn, kind, ids, n), ffn, ids, n);
    },
  };

  // A probe kernel, so the reported mode is the one gpu.js really chose, known
  // before the first real call.
  const probe = new Float32Array(2);
  try {
    kernels.matvec(probe, Float32Array.of(1, 2, 3, 4), Float32Array.of(1, -1), 2, 2);
    if (probe[0] !== -1 || probe[1] !== -1) {
      throw new GlRequiredError(`${name}: probe kernel returned [${[...probe]}] instead of [-1, -1]`);
    }
  } catch (e) {
    gpu.destroy();
    throw e;
  }

  const info = (): BackendInfo => {
    const seen = [...new Set(modes.values())];
    const gpuMode = seen.join('+');
    const onGl = seen.every((m) => GL_MODES.includes(m));
    const notes = [
      onGl
        ? `headless GL: ${gl.detail}; weights kept in float32 textures, float32 (highp) accumulation`
        : `headless GL not active (${gl.detail}); gpu.js fell back to ${gpuMode} mode`,
      'matvec and FFN kernels run in gpu.js; rmsnorm, rope and attention on the host',
      'ffnSliced reads kept rows only, through the kept list inside the kernel',
      ...[...fallbacks].map((f) => `fallback ${f}`),
    ];
    return {
      engine: 'gpu.js',
      mode: gpuMode,
      device: onGl ? gl.detail : (os.cpus()[0]?.model.trim() ?? 'cpu'),
      threads: 1,
      simd: false,
      precision: 'fp32',
      notes: notes.join('; '),
    };
  };

  return {
    name,
    info,
    kernels,
    kernelModes: () => modes,
    dispose: () => {
      for (const t of liveTextures) {
        finalizer.unregister(t);
        t.delete();
      }
      liveTextures.clear();
      compiled.clear();
      gpu.destroy();
    },
  };
}
