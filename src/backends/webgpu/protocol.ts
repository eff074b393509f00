// What the synchronous kernel side of the webgpu backend (client.ts) and the GPU
// side that owns the WebGPU device (executor.ts, in a worker) say to each other.
//
// Why a worker at all: the kernel contract is synchronous (the decoder calls kernels
// in a loop and reads each result at once), but WebGPU has no synchronous readback —
// GPUBuffer.mapAsync only resolves on a later turn of the event loop of the thread
// that owns the device. So the device lives in a worker; the calling thread posts a
// request and blocks in Atomics.wait on a SharedArrayBuffer until the worker, after
// its own `await mapAsync`, has copied the result into shared memory and called
// Atomics.notify. That is a real wait for the GPU, not a spin on stale data, and it
// works the same in Node (worker_threads) and in a browser's dedicated workers
// (where Atomics.wait is allowed and the page is cross-origin isolated).
//
// Requests travel as ordinary messages (ordered, with transferred copies of the
// inputs); only the reply goes through shared memory. Weights are uploaded once and
// named by an integer id afterwards; id 0 means "absent" (no gate, no bias).

import type { LayerShape } from '../../core/kernels.js';
import type { FfnKind } from '../../core/model.js';

export interface FfnIds {
  gate: number;
  up: number;
  downT: number;
  upBias: number;
  downBias: number;
}

/** The weights of one decoder layer that the fused entries read (norm gains, projections, the FFN). */
export interface LayerIds {
  rmsAtt: number;
  wq: number;
  wk: number;
  wv: number;
  wo: number;
  rmsFfn: number;
  ffn: FfnIds;
}

export type Request =
  | { op: 'upload'; id: number; data: Float32Array }
  | { op: 'release'; id: number }
  | { op: 'matvec'; w: number; x: Float32Array; rows: number; cols: number }
  | { op: 'rmsnorm'; x: Float32Array; weight: number; eps: number }
  | { op: 'rope'; vec: Float32Array; pos: number; headSize: number; theta: number }
  | {
      op: 'attention';
      q: Float32Array;
      k: Float32Array; // rows 0..T-1 of the key cache only
      v: Float32Array;
      T: number;
      nHeads: number;
      headSize: number;
      kvDim: number;
      group: number;
    }
  | { op: 'ffnActivations'; x: Float32Array; ffn: FfnIds; kind: FfnKind; hidden: number }
  | { op: 'ffnDown'; a: Float32Array; ffn: FfnIds; kept: Int32Array | null; dim: number; hidden: number }
  | { op: 'ffnSliced'; x: Float32Array; ffn: FfnIds; kind: FfnKind; kept: Int32Array | null; hidden: number }
  // The fused entries (Kernels.attentionBlock, Kernels.prefillLayer): many kernels in one
  // command buffer, one readback. kRows / vRows: cache rows 0..pos−1 (pos0−1) only; the
  // reply is x, then (prefillLayer) the activations, then the new K rows, then the new V rows.
  | { op: 'attentionBlock'; x: Float32Array; layer: LayerIds; kRows: Float32Array; vRows: Float32Array; pos: number; shape: LayerShape }
  | { op: 'prefillLayer'; x: Float32Array; layer: LayerIds; kRows: Float32Array; vRows: Float32Array; pos0: number; count: number; shape: LayerShape };

/** Shared memory the worker replies through. */
export interface ReplyBuffers {
  /** Int32 [state, float count, error bytes]. */
  signal: SharedArrayBuffer;
  /** UTF-8 error text. */
  error: SharedArrayBuffer;
  /** The result floats. */
  result: SharedArrayBuffer;
}

/** One message to the worker: a request, and the reply buffers when they are new. */
export interface Envelope {
  req: Request;
  reply?: ReplyBuffers;
}

export const STATE_PENDING = 0;
export const STATE_DONE = 1;
export const STATE_ERROR = 2;
export const ERROR_BYTES = 4096;

/** The adapter the worker found, as WebGPU's GPUAdapterInfo reports it. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** What provides WebGPU: "dawn.node <version>" or the browser. */
  runtime: string;
  maxBufferBytes: number;
}

/** The worker's first message: an adapter, or why there is none. */
export type Hello = { type: 'ready'; adapter: AdapterSummary } | { type: 'unavailable'; reason: string };
