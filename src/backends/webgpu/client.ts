// The synchronous side of the webgpu backend: the seven kernels of the contract as
// requests to the worker that owns the GPU (protocol.ts explains why a worker, and
// why Atomics.wait is the honest way to wait for it).
//
// Weights (matvec's w, rmsnorm's weight, every FFN matrix and bias) are uploaded
// once, on first use, and named by an id afterwards — a WeakMap keyed by the array's
// identity, as the kernel contract allows (src/core/kernels.ts); the GPU copy is
// released when the array is garbage-collected, or when more than 1 GiB of weights
// is resident (least recently used first). Everything else (x, q, the rows
// 0..pos of the KV cache, activations, kept lists) is sent fresh on every call, so
// no state survives from one call to the next.

import { f32Kv } from '../../core/kv-cache.js';
import type { FfnWeights, LayerWeights } from '../../core/model.js';
import type { AttentionShape, Backend, BackendInfo, Kernels, LayerShape } from '../../core/kernels.js';
import {
  type AdapterSummary,
  ERROR_BYTES,
  type Envelope,
  type FfnIds,
  type LayerIds,
  type ReplyBuffers,
  type Request,
  STATE_ERROR,
  STATE_PENDING,
} from './protocol.js';

/** What the client needs of a worker: Node's worker_threads.Worker and the browser's Worker both fit. */
export interface GpuWorkerHandle {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): unknown;
}

/** Longest a single kernel may take before the worker is presumed dead (LLaMA-size FFNs on a software GPU take seconds). */
const REPLY_TIMEOUT_MS = Number(process.env.TDA_WEBGPU_TIMEOUT ?? 300_000);

export function adapterName(a: AdapterSummary): string {
  const name = a.description || a.device || a.architecture || 'unknown adapter';
  return `${name} (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'})`;
}

/** Most bytes of weights kept on the device at once (four LLaMA-7B FFN matrices fit). */
const WEIGHT_CACHE_BYTES = 1 << 30;

export function createWebGpuBackend(worker: GpuWorkerHandle, adapter: AdapterSummary, extraNotes: string[] = []): Backend {
  const weightCacheBytes = Math.min(WEIGHT_CACHE_BYTES, adapter.maxBufferBytes * 4);
  const signal = new Int32Array(new SharedArrayBuffer(12));
  const errorBytes = new Uint8Array(new SharedArrayBuffer(ERROR_BYTES));
  let result = new Float32Array(new SharedArrayBuffer(4 * 4096));
  let freshReply = true;

  /** Posts one request and blocks until the worker has answered; the result floats (a view, copy at once). */
  function call(req: Request, transfer: ArrayBuffer[], outFloats: number): Float32Array {
    if (outFloats > result.length) {
      result = new Float32Array(new SharedArrayBuffer(4 * 2 ** Math.ceil(Math.log2(outFloats))));
      freshReply = true;
    }
    const env: Envelope = { req };
    if (freshReply) {
      env.reply = { signal: signal.buffer, error: errorBytes.buffer, result: result.buffer } as ReplyBuffers;
      freshReply = false;
    }
    Atomics.store(signal, 0, STATE_PENDING);
    worker.postMessage(env, transfer);
    // Wait until the state itself says the reply is in. Waking up is not enough: the
    // worker stores the state and then notifies, and if it is descheduled between the
    // two, this thread sees the previous reply without waiting, posts the next request
    // and is then woken by the previous reply's late notify.
    const deadline = performance.now() + REPLY_TIMEOUT_MS;
    while (Atomics.load(signal, 0) === STATE_PENDING) {
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(signal, 0, STATE_PENDING, left) === 'timed-out') {
        throw new Error(`webgpu: no answer from the GPU worker in ${REPLY_TIMEOUT_MS / 1000} s (${req.op})`);
      }
    }
    if (Atomics.load(signal, 0) === STATE_ERROR) {
      const text = new TextDecoder().decode(errorBytes.slice(0, Atomics.load(signal, 2)));
      throw new Error(`webgpu ${req.op}: ${text}`);
    }
    return result.subarray(0, Atomics.load(signal, 1));
  }

  /** A compact copy of `a` whose buffer can be transferred (a view would carry its whole buffer). */
  function copy(a: Float32Array): Float32Array<ArrayBuffer>;
  function copy(a: Int32Array): Int32Array<ArrayBuffer>;
  function copy(a: Float32Array | Int32Array) {
    return a instanceof Float32Array ? new Float32Array(a) : new Int32Array(a);
  }

  // Device copies of weights, least recently used first. The harness and the
  // decoder drop weight arrays all the time, but FinalizationRegistry callbacks only
  // run when the calling thread's event loop turns — which a synchronous harness run
  // may not do for a minute — so the cache is also capped in bytes: beyond
  // WEIGHT_CACHE_BYTES the least recently used copies are released, to be uploaded
  // again if their array comes back.
  let nextId = 1;
  const ids = new WeakMap<Float32Array, number>();
  const resident = new Map<number, { bytes: number; array: WeakRef<Float32Array> }>();
  let residentBytes = 0;
  const release = (id: number) => {
    const r = resident.get(id);
    if (!r) return;
    resident.delete(id);
    residentBytes -= r.bytes;
    const a = r.array.deref();
    if (a && ids.get(a) === id) ids.delete(a);
    worker.postMessage({ req: { op: 'release', id } } satisfies Envelope, []);
  };
  const released = new FinalizationRegistry<number>(release);
  function weightId(w: Float32Array | null): number {
    if (!w) return 0;
    let id = ids.get(w);
    if (id !== undefined) {
      const r = resident.get(id)!;
      resident.delete(id); // most recently used goes last
      resident.set(id, r);
      return id;
    }
    for (const [old] of resident) {
      if (residentBytes + w.byteLength <= weightCacheBytes) break;
      release(old);
    }
    id = nextId++;
    const data = copy(w);
    call({ op: 'upload', id, data }, [data.buffer], 0);
    ids.set(w, id);
    resident.set(id, { bytes: w.byteLength, array: new WeakRef(w) });
    residentBytes += w.byteLength;
    released.register(w, id);
    return id;
  }
  const ffnIds = (f: FfnWeights): FfnIds => ({
    gate: weightId(f.gate),
    up: weightId(f.up),
    downT: weightId(f.downT),
    upBias: weightId(f.upBias),
    downBias: weightId(f.downBias),
  });

  const layerIds = (L: LayerWeights): LayerIds => ({
    rmsAtt: weightId(L.rmsAtt),
    wq: weightId(L.wq),
    wk: weightId(L.wk),
    wv: weightId(L.wv),
    wo: weightId(L.wo),
    rmsFfn: weightId(L.rmsFfn),
    ffn: ffnIds(L.ffn),
  });
  /** Plain copies of the shape's fields (the caller's object may carry more). */
  const shapeOf = (s: LayerShape): LayerShape => ({
    nHeads: s.nHeads, nKvHeads: s.nKvHeads, headSize: s.headSize, kvDim: s.kvDim, dim: s.dim,
    hiddenDim: s.hiddenDim, ffnKind: s.ffnKind, normEps: s.normEps, ropeTheta: s.ropeTheta,
  });

  const kernels: Kernels = {
    matvec(out, w, x, rows, cols) {
      const xs = copy(x.subarray(0, cols));
      out.set(call({ op: 'matvec', w: weightId(w), x: xs, rows, cols }, [xs.buffer], rows));
    },
    rmsnorm(out, x, weight, eps) {
      const xs = copy(x);
      out.set(call({ op: 'rmsnorm', x: xs, weight: weightId(weight), eps }, [xs.buffer], x.length));
    },
    rope(vec, pos, headSize, theta) {
      const v = copy(vec);
      vec.set(call({ op: 'rope', vec: v, pos, headSize, theta }, [v.buffer], vec.length));
    },
    attention(out, q, kc, vc, pos, s: AttentionShape) {
      const T = pos + 1;
      const [keyCache, valueCache] = [f32Kv(kc, 'webgpu'), f32Kv(vc, 'webgpu')];
      const qs = copy(q.subarray(0, s.nHeads * s.headSize));
      const k = copy(keyCache.subarray(0, T * s.kvDim));
      const v = copy(valueCache.subarray(0, T * s.kvDim));
      const req: Request = {
        op: 'attention', q: qs, k, v, T,
        nHeads: s.nHeads, headSize: s.headSize, kvDim: s.kvDim, group: s.nHeads / s.nKvHeads,
      };
      out.set(call(req, [qs.buffer, k.buffer, v.buffer], s.nHeads * s.headSize));
    },
    ffnActivations(a, x, ffn, kind) {
      const xs = copy(x);
      a.set(call({ op: 'ffnActivations', x: xs, ffn: ffnIds(ffn), kind, hidden: a.length }, [xs.buffer], a.length));
    },
    ffnDown(out, a, ffn, kept) {
      const as = copy(a);
      const ks = kept && copy(kept);
      const req: Request = { op: 'ffnDown', a: as, ffn: ffnIds(ffn), kept: ks, dim: out.length, hidden: a.length };
      out.set(call(req, ks ? [as.buffer, ks.buffer] : [as.buffer], out.length));
    },
    ffnSliced(out, x, ffn, kind, kept) {
      const xs = copy(x);
      const ks = kept && copy(kept);
      const req: Request = { op: 'ffnSliced', x: xs, ffn: ffnIds(ffn), kind, kept: ks, hidden: ffn.up.length / x.length };
      out.set(call(req, ks ? [xs.buffer, ks.buffer] : [xs.buffer], out.length));
    },
    // The fused entries: the same shaders as the kernels above, chained on the device in
    // one command buffer, so one round trip replaces eight (attentionBlock) or about
    // fifteen per prompt token (prefillLayer). On a software GPU the round trip, not the
    // arithmetic, is what a small model's token costs.
    attentionBlock(x, layer, kc, vc, pos, s) {
      const kv = s.kvDim;
      const [keyCache, valueCache] = [f32Kv(kc, 'webgpu'), f32Kv(vc, 'webgpu')];
      const xs = copy(x.subarray(0, s.dim));
      const kRows = copy(keyCache.subarray(0, pos * kv));
      const vRows = copy(valueCache.subarray(0, pos * kv));
      const req: Request = { op: 'attentionBlock', x: xs, layer: layerIds(layer), kRows, vRows, pos, shape: shapeOf(s) };
      const r = call(req, [xs.buffer, kRows.buffer, vRows.buffer], s.dim + 2 * kv);
      x.set(r.subarray(0, s.dim));
      keyCache.set(r.subarray(s.dim, s.dim + kv), pos * kv);
      valueCache.set(r.subarray(s.dim + kv, s.dim + 2 * kv), pos * kv);
    },
    prefillLayer(x, a, layer, kc, vc, pos0, count, s) {
      const kv = s.kvDim;
      const [keyCache, valueCache] = [f32Kv(kc, 'webgpu'), f32Kv(vc, 'webgpu')];
      const nx = count * s.dim;
      const na = count * s.hiddenDim;
      const xs = copy(x.subarray(0, nx));
      const kRows = copy(keyCache.subarray(0, pos0 * kv));
      const vRows = copy(valueCache.subarray(0, pos0 * kv));
      const req: Request = { op: 'prefillLayer', x: xs, layer: layerIds(layer), kRows, vRows, pos0, count, shape: shapeOf(s) };
      const r = call(req, [xs.buffer, kRows.buffer, vRows.buffer], nx + na + 2 * count * kv);
      x.set(r.subarray(0, nx));
      a.set(r.subarray(nx, nx + na));
      keyCache.set(r.subarray(nx + na, nx + na + count * kv), pos0 * kv);
      valueCache.set(r.subarray(nx + na + count * kv, nx + na + 2 * count * kv), pos0 * kv);
    },
  };

  const info = (): BackendInfo => ({
    engine: 'webgpu',
    mode: `wgsl on ${adapter.runtime}`,
    device: adapterName(adapter),
    threads: 1,
    simd: false,
    precision: 'fp32',
    notes: [
      `adapter: vendor "${adapter.vendor}", architecture "${adapter.architecture}", description "${adapter.description}"`,
      'all seven kernels are WGSL compute shaders, float32 storage and accumulation; exp, sin and cos written out (≤ ~1 ulp)',
      'attentionBlock and prefillLayer chain those shaders in one command buffer (one readback per layer)',
      'weights uploaded once per array; ffnSliced reads kept gate/up/down rows in place through the kept list',
      'results read back synchronously: the device lives in a worker, the caller blocks in Atomics.wait',
      ...extraNotes,
    ].join('; '),
  });

  return {
    name: 'webgpu',
    kernels,
    info,
    dispose: () => {
      void worker.terminate();
    },
  };
}
