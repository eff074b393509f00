// The native CUDA backends: 'native-cuda' (fp32 weights) and 'native-cuda-fp16'
// (fp16 weights, fp32 accumulation), built from native/cuda/ by
// `npm run build:native` when nvcc is installed.
//
// Each weight Float32Array is uploaded once, on first use, and named by a device
// handle afterwards (a WeakMap keyed by the array's identity, as types.ts allows);
// the device copy is freed when the array is garbage-collected or on dispose().
// So weights must not be modified in place after a backend has used them.
// matvec and the three FFN kernels run on the GPU; rmsnorm, rope and attention run
// on the host with the native CPU kernels (they are compiled into the same addon).

import { f32Kv } from '../../core/kv-cache.js';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import type { FfnWeights } from '../../core/model.js';
import { FFN_KIND_CODE, type NativeHostKernels } from '../native-cpu/index.js';
import { BackendUnavailableError, registerBackend } from '../registry.js';
import type { AttentionShape, Backend, Kernels } from '../../core/kernels.js';

type FfnHandles = [gate: number, up: number, downT: number, upBias: number, downBias: number];

/** The addon's exports (native/cuda/addon_cuda.cc). Handle 0 means "absent". */
interface NativeCudaAddon extends NativeHostKernels {
  init():
    | { ok: true; device: string; sm: string; hostThreads: number; hostMode: string }
    | { ok: false; reason: string };
  upload(a: Float32Array, fp16: boolean): number;
  release(handle: number): void;
  matvec(out: Float32Array, w: number, x: Float32Array, rows: number, cols: number): void;
  ffnActivations(a: Float32Array, x: Float32Array, ...rest: [...FfnHandles, kind: number, dim: number, hidden: number]): void;
  ffnDown(out: Float32Array, a: Float32Array, ...rest: [...FfnHandles, kind: number, dim: number, hidden: number, kept: Int32Array | null]): void;
  ffnSliced(out: Float32Array, x: Float32Array, ...rest: [...FfnHandles, kind: number, dim: number, hidden: number, kept: Int32Array | null]): void;
}

export const NATIVE_CUDA_ADDON = 'native/build/Release/tda_native_cuda.node';

const require = createRequire(import.meta.url);
let addon: NativeCudaAddon | undefined;

function loadAddon(name: string): NativeCudaAddon {
  if (!addon) {
    const file = path.join(packageRoot(), NATIVE_CUDA_ADDON);
    try {
      addon = require(file) as NativeCudaAddon;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'MODULE_NOT_FOUND'
        ? `${NATIVE_CUDA_ADDON} not found (it is built only where nvcc is installed)`
        : err.message.split('\n')[0];
      throw new BackendUnavailableError(`${name} backend unavailable: ${why}; build it with \`npm run build:native\``);
    }
  }
  return addon;
}

export function createNativeCudaBackend(fp16: boolean): Backend {
  const name = fp16 ? 'native-cuda-fp16' : 'native-cuda';
  const n = loadAddon(name);
  const dev = n.init();
  if (!dev.ok) throw new BackendUnavailableError(`${name} backend unavailable: ${dev.reason}`);

  let handles = new WeakMap<Float32Array, number>();
  const live = new Set<number>();
  const freed = new FinalizationRegistry<number>((h) => {
    if (live.delete(h)) n.release(h);
  });
  // Weight matrices in the backend's precision; biases always fp32.
  const handle = (a: Float32Array | null, half = fp16): number => {
    if (!a) return 0;
    let h = handles.get(a);
    if (h === undefined) {
      h = n.upload(a, half);
      handles.set(a, h);
      live.add(h);
      freed.register(a, h);
    }
    return h;
  };
  const ffn = (f: FfnWeights): FfnHandles => [
    handle(f.gate), handle(f.up), handle(f.downT), handle(f.upBias, false), handle(f.downBias, false),
  ];

  const kernels: Kernels = {
    matvec: (out, w, x, rows, cols) => n.matvec(out, handle(w), x, rows, cols),
    rmsnorm: (out, x, weight, eps) => n.rmsnorm(out, x, weight, eps),
    rope: (vec, pos, headSize, theta) => n.rope(vec, pos, headSize, theta),
    attention: (out, q, kc, vc, pos, s: AttentionShape) =>
      n.attention(out, q, f32Kv(kc, 'native-cuda'), f32Kv(vc, 'native-cuda'), pos, s.nHeads, s.nKvHeads, s.headSize, s.kvDim),
    ffnActivations: (a, x, f, kind) =>
      n.ffnActivations(a, x, ...ffn(f), FFN_KIND_CODE[kind], x.length, f.up.length / x.length),
    ffnDown: (out, a, f, kept) =>
      n.ffnDown(out, a, ...ffn(f), f.gate ? 0 : 2, out.length, f.downT.length / out.length, kept),
    ffnSliced: (out, x, f, kind, kept) =>
      n.ffnSliced(out, x, ...ffn(f), FFN_KIND_CODE[kind], out.length, f.up.length / out.length, kept),
  };
  return {
    name,
    kernels,
    info: () => ({
      engine: 'cuda',
      mode: dev.sm,
      device: dev.device,
      threads: dev.hostThreads,
      simd: false,
      precision: fp16 ? 'fp16' : 'fp32',
      notes:
        (fp16 ? 'fp16 weights (biases fp32), fp32 activations and accumulation; ' : 'fp32 weights and accumulation; ') +
        `matvec and FFN kernels on the GPU; rmsnorm, rope and attention on the host (n-api c++, ${dev.hostMode})`,
    }),
    dispose: () => {
      for (const h of live) n.release(h);
      live.clear();
      handles = new WeakMap();
    },
  };
}

registerBackend('native-cuda', async () => createNativeCudaBackend(false));
registerBackend('native-cuda-fp16', async () => createNativeCudaBackend(true));
