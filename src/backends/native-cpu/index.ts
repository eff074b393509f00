// The native CPU backend: C++ kernels (AVX2+FMA, persistent thread pool) behind
// N-API, built from native/ by `npm run build:native`. Weights are passed as the
// Float32Arrays themselves; the addon reads their storage in place (no copies).
// Summation orders and why each kernel is fast: native/README.md.
//
// native-cpu-f16 / native-cpu-bf16 store the weight matrices (attention projections,
// FFN gate/up/down, classifier) as IEEE half or bfloat16: each Float32Array is
// converted once, on first use, and the half-precision copy is cached by the array's
// identity (weights are immutable once loaded). A weight loaded from an F16 (BF16) file
// with keepHalf already carries the file's words (storedHalf, src/core/model.ts): they are
// exactly what converting its float32 widening would give, in the same layout (row-major
// out × in, W_down transposed like downT), so the backend uses them and neither converts
// nor holds a second copy. Loading with `keepHalfFor(backend name)` asks for them, and
// `halfLoadFor` as well for no float32 copy of the matrices at all (the kernels declare
// `readsStoredHalf`, so the decoder leaves those arrays unwritten). The kernels load half-precision rows,
// convert them exactly to float32 and accumulate in float32, so they compute what the
// float32 kernels compute on the rounded weights; reading half the bytes is what makes
// the memory-bound decode up to 2× faster. Norm gains, biases and activations stay float32.
//
// The KV cache: native-cpu-f16 keeps it as F16 by default, as llama.cpp does (its default
// cache type); the others keep float32, and each reads and writes either type (a decoder
// option, `--kv-cache`). K/V rows are rounded to nearest even when written and widened
// exactly when attention reads them (src/core/kv-cache.ts): at long contexts without
// grouped-query attention, the cache is as many bytes per token as the weights.
//
// The sliced FFN (TDA / Griffin generation) reads a kept list's rows from a contiguous copy
// made once per list and FFN (kept-rows.ts): kept rows read in place, scattered through the
// full matrices, streamed 16–33 % slower than the copy (one core, TinyLlama and 341 M shapes,
// native/README.md), and the mask is fixed for a whole prompt. The copy is of the stored type (F16 rows for
// native-cpu-f16); results are bit-identical to reading in place
// (test/native-sliced-compact.test.ts). `keptRows: 'in-place'` (or TDA_NATIVE_KEPT_ROWS=in-place)
// turns the copy off.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../../core/package-root.js';
import { type FfnKind, type FfnWeights, fillStoredHalf, type HalfLoad, type KeepHalf, storedHalf } from '../../core/model.js';
import { BackendUnavailableError, registerBackend } from '../registry.js';
import { KeptRowsCache } from './kept-rows.js';
import { KV_TYPES, type KvRows, type KvType } from '../../core/kv-cache.js';
import type { AttentionShape, Backend, Kernels } from '../../core/kernels.js';

/** The small kernels both native addons export with the same signature (they run on the host). */
export interface NativeHostKernels {
  rmsnorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number): void;
  rope(vec: Float32Array, pos: number, headSize: number, theta: number): void;
  attention(
    out: Float32Array, q: Float32Array, keyCache: Float32Array, valueCache: Float32Array,
    pos: number, nHeads: number, nKvHeads: number, headSize: number, kvDim: number,
  ): void;
}

/** native-cpu's attention also reads F16 caches (Uint16Array), widened exactly. */
interface NativeCpuAttention {
  attention(
    out: Float32Array, q: Float32Array, keyCache: KvRows, valueCache: KvRows,
    pos: number, nHeads: number, nKvHeads: number, headSize: number, kvDim: number,
  ): void;
}

/** The addon's exports (native/src/addon_cpu.cc). */
interface NativeCpuAddon extends Omit<NativeHostKernels, 'attention'>, NativeCpuAttention {
  matvec(out: Float32Array, w: Weights, x: Float32Array, rows: number, cols: number, wt: number): void;
  ffnActivations(
    a: Float32Array, x: Float32Array, gate: Weights | null, up: Weights, downT: Weights,
    upBias: Float32Array | null, downBias: Float32Array | null, kind: number, wt: number,
  ): void;
  ffnDown(
    out: Float32Array, a: Float32Array, gate: Weights | null, up: Weights, downT: Weights,
    upBias: Float32Array | null, downBias: Float32Array | null, kind: number, kept: Int32Array | null, wt: number,
  ): void;
  ffnSliced(
    out: Float32Array, x: Float32Array, gate: Weights | null, up: Weights, downT: Weights,
    upBias: Float32Array | null, downBias: Float32Array | null, kind: number, kept: Int32Array | null, wt: number,
  ): void;
  prefillLayer(
    x: Float32Array, a: Float32Array, rmsAtt: Float32Array, wq: Weights, wk: Weights, wv: Weights,
    wo: Weights, rmsFfn: Float32Array, gate: Weights | null, up: Weights, downT: Weights,
    upBias: Float32Array | null, downBias: Float32Array | null, kind: number, keyCache: KvRows,
    valueCache: KvRows, pos0: number, count: number, nHeads: number, nKvHeads: number, headSize: number,
    kvDim: number, eps: number, theta: number, wt: number,
  ): void;
  /** dst row k = src row kept[k] (rows of rowLen weights of type wt). */
  gatherRows(dst: Weights, src: Weights, kept: Int32Array, rowLen: number, wt: number): void;
  /** Float32 → F16 (wt 1) or BF16 (wt 2) bits, round to nearest even. */
  convertWeights(src: Float32Array, wt: number): Uint16Array;
  info(): { mode: string; simd: boolean; threads: number };
}

/** Weight matrices as the addon reads them: float32, or F16 / BF16 bits. */
type Weights = Float32Array | Uint16Array;

/** How native-cpu stores weight matrices; codes shared with native/src/prims.h (enum WType). */
export type WeightType = 'f32' | 'f16' | 'bf16';
const WEIGHT_TYPE_CODE: Record<WeightType, number> = { f32: 0, f16: 1, bf16: 2 };
const PRECISION = { f32: 'fp32', f16: 'fp16', bf16: 'bf16' } as const;

/** FfnKind codes shared with native/src/kernels.h (enum FfnKind). */
export const FFN_KIND_CODE: Record<FfnKind, number> = { swiglu: 0, geglu: 1, relu: 2, gelu: 3 };

export const NATIVE_CPU_ADDON = 'native/build/Release/tda_native_cpu.node';

const require = createRequire(import.meta.url);

function loadAddon(): NativeCpuAddon {
  const file = pathToFileURL(path.join(packageRoot(), NATIVE_CPU_ADDON));
  try {
    return require(fileURLToPath(file)) as NativeCpuAddon;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'MODULE_NOT_FOUND' ? `${NATIVE_CPU_ADDON} not found` : err.message.split('\n')[0];
    throw new BackendUnavailableError(`native-cpu backend unavailable: ${why}; build it with \`npm run build:native\``);
  }
}

/**
 * The keepHalf loader option that lets backend `name` read an F16 / BF16 file's own words
 * (native-cpu-f16 → 'f16', native-cpu-bf16 → 'bf16'); false for every other backend.
 */
export function keepHalfFor(name: string | undefined): KeepHalf {
  return name === 'native-cpu-f16' ? 'f16' : name === 'native-cpu-bf16' ? 'bf16' : false;
}

/**
 * The loader options for backend `name`: for native-cpu-f16 / -bf16 the file's words of
 * that type, with the weight matrices held as those words only (HalfLoad.wordsOnly: no
 * float32 copy); nothing for every other backend.
 */
export function halfLoadFor(name: string | undefined): HalfLoad {
  const keepHalf = keepHalfFor(name);
  return keepHalf ? { keepHalf, wordsOnly: true } : {};
}

export interface NativeCpuOptions {
  /**
   * How ffnSliced reads a kept list's rows: 'compact' (default) copies them once per
   * list and FFN into contiguous matrices (kept-rows.ts), 'in-place' reads them where
   * they are on every call. Both give bit-identical results; 'in-place' holds no copy.
   * Default: TDA_NATIVE_KEPT_ROWS=in-place in the environment, else 'compact'.
   */
  keptRows?: 'compact' | 'in-place';
  /**
   * The KV cache a decoder on this backend keeps by default (src/core/kv-cache.ts); the
   * other type is accepted too (DecoderOptions.kvCache, `--kv-cache`). Default: 'f16' for
   * native-cpu-f16, as llama.cpp keeps its cache (its default cache type), 'f32' otherwise.
   */
  kvCache?: KvType;
}

export function createNativeCpuBackend(weightType: WeightType = 'f32', options: NativeCpuOptions = {}): Backend {
  const n = loadAddon();
  const meta = n.info();
  const wt = WEIGHT_TYPE_CODE[weightType];
  const copies = new WeakMap<Float32Array, Uint16Array>();
  const W = (w: Float32Array): Weights => {
    if (wt === 0) return w;
    let h = copies.get(w);
    if (!h) {
      const s = storedHalf(w);
      // Words of the other type are converted from the float32 values, so those must be there.
      h = s && s.type === weightType ? s.bits : n.convertWeights(fillStoredHalf(w), wt);
      copies.set(w, h);
    }
    return h;
  };
  const ffnArgs = (f: FfnWeights) => [f.gate && W(f.gate), W(f.up), W(f.downT), f.upBias, f.downBias] as const;
  const inPlace = (options.keptRows ?? (process.env.TDA_NATIVE_KEPT_ROWS === 'in-place' ? 'in-place' : 'compact')) === 'in-place';
  const keptRows = inPlace ? null : new KeptRowsCache((dst, src, kept, rowLen) => n.gatherRows(dst, src, kept, rowLen, wt));
  const ffnSliced: Kernels['ffnSliced'] = (out, x, f, kind, kept) => {
    const [gate, up, downT, upBias, downBias] = ffnArgs(f);
    const src = { gate, up, downT, upBias };
    const dim = out.length; // the addon's dim
    const rows = kept && keptRows?.rowsFor(f.downT, src, kept, dim);
    if (rows) {
      n.ffnSliced(out, x, rows.gate, rows.up, rows.downT, rows.upBias, downBias, FFN_KIND_CODE[kind], null, wt);
      return;
    }
    n.ffnSliced(out, x, gate, up, downT, upBias, downBias, FFN_KIND_CODE[kind], kept, wt);
    if (kept) keptRows?.remember(f.downT, src, kept, dim);
  };
  const kvCache = options.kvCache ?? (weightType === 'f16' ? 'f16' : 'f32');
  const kernels: Kernels = {
    // Every weight matrix reaches the addon through W, which takes stored words of this type as they are.
    readsStoredHalf: weightType === 'f32' ? undefined : weightType,
    // attention and prefillLayer read and write either cache type (native/src/kernels.h).
    kvCacheTypes: [kvCache, ...KV_TYPES.filter((t) => t !== kvCache)],
    matvec: (out, w, x, rows, cols) => n.matvec(out, W(w), x, rows, cols, wt),
    rmsnorm: (out, x, weight, eps) => n.rmsnorm(out, x, weight, eps),
    rope: (vec, pos, headSize, theta) => n.rope(vec, pos, headSize, theta),
    attention: (out, q, kc, vc, pos, s: AttentionShape) =>
      n.attention(out, q, kc, vc, pos, s.nHeads, s.nKvHeads, s.headSize, s.kvDim),
    ffnActivations: (a, x, f, kind) => n.ffnActivations(a, x, ...ffnArgs(f), FFN_KIND_CODE[kind], wt),
    // The down projection does not depend on the FFN kind; the code only tells the
    // addon whether a gate matrix is present.
    ffnDown: (out, a, f, kept) => n.ffnDown(out, a, ...ffnArgs(f), f.gate ? 0 : 2, kept, wt),
    ffnSliced,
  };
  // One call per layer and block of prompt tokens: GEMMs in the single-token kernels'
  // summation order over the same stored weights (float32, or the same F16/BF16 copy
  // the per-token kernels read), so the result equals token-by-token prefill bit for
  // bit for every weight type (conformance row `kernel prefillLayer`, exact).
  kernels.prefillLayer = (x, a, L, kc, vc, pos0, count, s) =>
    n.prefillLayer(
      x, a, L.rmsAtt, W(L.wq), W(L.wk), W(L.wv), W(L.wo), L.rmsFfn, ...ffnArgs(L.ffn), FFN_KIND_CODE[s.ffnKind],
      kc, vc, pos0, count, s.nHeads, s.nKvHeads, s.headSize, s.kvDim, s.normEps, s.ropeTheta, wt,
    );
  return {
    name: weightType === 'f32' ? 'native-cpu' : `native-cpu-${weightType}`,
    kernels,
    info: () => ({
      engine: 'n-api c++',
      mode: meta.mode,
      device: os.cpus()[0]?.model.trim() ?? 'cpu',
      threads: meta.threads,
      simd: meta.simd,
      precision: PRECISION[weightType],
      notes:
        (weightType === 'f32' ? '' : `${weightType.toUpperCase()} weight matrices (the file's own words when loaded with keepHalf, else converted once on first use), `) +
        `${kvCache.toUpperCase()} KV cache by default, ` +
        (keptRows ? 'ffnSliced reads a copy of the kept rows made once per kept list, ' : '') +
        'float32 accumulation: dot products in 32 partial sums (8 lanes × 4), ' +
        'row sums (down projection, attention values) in groups of 64 terms; see native/README.md',
    }),
  };
}

registerBackend('native-cpu', async () => createNativeCpuBackend());
registerBackend('native-cpu-f16', async () => createNativeCpuBackend('f16'));
registerBackend('native-cpu-bf16', async () => createNativeCpuBackend('bf16'));
