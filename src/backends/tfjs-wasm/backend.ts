// The kernels on TensorFlow.js with its WebAssembly backend (XNNPACK inside).
//
// What runs where (reported in info().notes):
//  - matvec, attention and all FFN kernels run as tfjs ops on the 'wasm' backend;
//  - rmsnorm and rope run on the host (the reference loops): a few thousand flops,
//    less than the cost of one tfjs op dispatch.
//
// Layouts (measured with tfjs 4.22, wasm-simd, one thread, d = 4096, d_ff = 11008):
//  - gate/up projections are W·x with the weight as the left operand: ~26 ms per
//    11008×4096 matrix and nothing else to prepare. Putting the weight on the right
//    (x·Wᵀ) is ~14 ms but needs a transposed copy plus a one-off XNNPACK packing of
//    ~0.6 s per matrix — per prompt for sliced weights — and twice the memory.
//  - the down projection is a·downT with downT (d_ff × d, one row per neuron) on the
//    right: XNNPACK packs it once on first use (~0.9 s dense, ~0.3 s at density 0.5,
//    once per prompt for a slice) and then runs in ~13 ms dense.
//  - the sliced FFN of TDA/Griffin uses kept rows copied once per kept list
//    (DeviceWeights.slice), so every generated token reads only kept rows;
//  - ffnDown over a kept list (TT's per-token choice) zeroes dropped activations
//    and uses the dense down matrix: a new list every token rules out slicing.

import { f32Kv } from '../../core/kv-cache.js';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { rmsnorm, rope } from '../../reference/math.js';
import { isGated, type FfnKind, type FfnWeights } from '../../core/model.js';
import type { AttentionShape, Backend, BackendInfo, Kernels } from '../../core/kernels.js';
import { DeviceWeights } from './device-weights.js';

/** Activation of the gated/non-gated FFN families, as tfjs ops on float32. */
function activate(kind: FfnKind, pre: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'swiglu':
      return tf.mul(pre, tf.sigmoid(pre)); // silu
    case 'geglu':
    case 'gelu': {
      // tanh-approximated GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const cube = tf.mul(tf.mul(pre, pre), pre);
      const inner = tf.mul(tf.add(pre, tf.mul(cube, 0.044715)), 0.7978845608028654);
      return tf.mul(tf.mul(pre, 0.5), tf.add(tf.tanh(inner), 1));
    }
    case 'relu':
      return tf.relu(pre);
  }
}

/**
 * Activations a (n × 1) of the neurons whose rows are in `up`/`gate` (Eq 17, inner
 * part): act(gate·x) ⊙ (up·x), or act(up·x + b) for non-gated kinds.
 */
function activations(
  kind: FfnKind,
  xCol: tf.Tensor2D,
  gate: tf.Tensor2D | null,
  up: tf.Tensor2D,
  upBias: tf.Tensor2D | null,
): tf.Tensor2D {
  const u = tf.matMul(up, xCol);
  if (isGated(kind)) return tf.mul(activate(kind, tf.matMul(gate!, xCol)), u) as tf.Tensor2D;
  return activate(kind, upBias ? tf.add(u, upBias) : u) as tf.Tensor2D;
}

/** a with every neuron outside `kept` set to 0. */
function maskedCopy(a: Float32Array, kept: Int32Array): Float32Array {
  const m = new Float32Array(a.length);
  for (let k = 0; k < kept.length; k++) m[kept[k]] = a[kept[k]];
  return m;
}

/** out = bias, or zeros: the FFN over an empty kept list. */
function biasOnly(out: Float32Array, ffn: FfnWeights): void {
  if (ffn.downBias) out.set(ffn.downBias.subarray(0, out.length));
  else out.fill(0);
}

function makeKernels(weights: DeviceWeights): Kernels {
  /** out = aRow (1 × n) · downT (n × dim) (+ downBias). */
  const down = (out: Float32Array, aRow: tf.Tensor2D, downT: tf.Tensor2D, ffn: FfnWeights): void => {
    let y: tf.Tensor = tf.matMul(aRow, downT);
    if (ffn.downBias) y = tf.add(y, weights.row(ffn.downBias));
    out.set(y.dataSync());
  };

  return {
    matvec(out, w, x, rows, cols) {
      const W = weights.matrix(w, rows, cols);
      tf.tidy(() => {
        const y = tf.matMul(W, tf.tensor2d(x.subarray(0, cols), [cols, 1]));
        out.set(y.dataSync());
      });
    },

    rmsnorm(out, x, weight, eps) {
      rmsnorm(out, x, weight, eps);
    },

    rope(vec, pos, headSize, theta) {
      rope(vec, pos, headSize, theta);
    },

    attention(out: Float32Array, q, kc, vc, pos, shape: AttentionShape) {
      const { nHeads, nKvHeads, headSize, kvDim } = shape;
      const keyCache = f32Kv(kc, 'tfjs-wasm');
      const valueCache = f32Kv(vc, 'tfjs-wasm');
      const group = nHeads / nKvHeads; // query heads sharing one KV head
      const T = pos + 1;
      tf.tidy(() => {
        // [nKv, group, hs] · [nKv, T, hs]ᵀ → scores [nKv, group, T]
        const qT = tf.tensor3d(q.subarray(0, nHeads * headSize), [nKvHeads, group, headSize]);
        const kT = tf.transpose(tf.tensor3d(keyCache.subarray(0, T * kvDim), [T, nKvHeads, headSize]), [1, 0, 2]);
        const vT = tf.transpose(tf.tensor3d(valueCache.subarray(0, T * kvDim), [T, nKvHeads, headSize]), [1, 0, 2]);
        const scores = tf.mul(tf.matMul(qT, kT, false, true), 1 / Math.sqrt(headSize));
        const o = tf.matMul(tf.softmax(scores), vT); // [nKv, group, hs] = head h at g·group + j
        out.set(o.dataSync());
      });
    },

    ffnActivations(a, x, ffn, kind) {
      const hidden = a.length;
      const dim = x.length;
      const up = weights.matrix(ffn.up, hidden, dim);
      const gate = ffn.gate ? weights.matrix(ffn.gate, hidden, dim) : null;
      const upBias = ffn.upBias ? weights.column(ffn.upBias) : null;
      tf.tidy(() => {
        a.set(activations(kind, tf.tensor2d(x, [dim, 1]), gate, up, upBias).dataSync());
      });
    },

    ffnDown(out, a, ffn, kept) {
      const dim = out.length;
      if (kept !== null && kept.length === 0) return biasOnly(out, ffn);
      // A per-token kept list (TT) changes every call, so slicing rows for it would
      // cost more than it saves; the activations of dropped neurons are zeroed
      // instead and the dense, already packed down matrix is used.
      const aKept = kept === null ? a : maskedCopy(a, kept);
      const downT = weights.matrix(ffn.downT, a.length, dim);
      tf.tidy(() => down(out, tf.tensor2d(aKept, [1, a.length]), downT, ffn));
    },

    ffnSliced(out, x, ffn, kind, kept) {
      const dim = x.length;
      let gate: tf.Tensor2D | null, up: tf.Tensor2D, downT: tf.Tensor2D, upBias: tf.Tensor2D | null;
      if (kept === null) {
        const hidden = ffn.up.length / dim;
        up = weights.matrix(ffn.up, hidden, dim);
        gate = ffn.gate ? weights.matrix(ffn.gate, hidden, dim) : null;
        downT = weights.matrix(ffn.downT, hidden, dim);
        upBias = ffn.upBias ? weights.column(ffn.upBias) : null;
      } else {
        if (kept.length === 0) return biasOnly(out, ffn);
        const s = weights.slice(ffn, kept, dim);
        gate = s.gate;
        up = s.up!;
        downT = s.downT!;
        upBias = s.upBias;
      }
      tf.tidy(() => {
        const a = activations(kind, tf.tensor2d(x, [dim, 1]), gate, up, upBias);
        down(out, tf.reshape(a, [1, a.shape[0]]), downT, ffn);
      });
    },
  };
}

export interface TfjsWasmBackend extends Backend {
  /** Slicing cost so far (row copies + uploads), for benchmarks. */
  sliceStats(): { slices: number; ms: number };
}

/** Starts tfjs on its 'wasm' backend (binaries load from node_modules) and builds the backend. */
export async function createTfjsWasmBackend(): Promise<TfjsWasmBackend> {
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'wasm') throw new Error(`tfjs could not start its wasm backend (active: ${tf.getBackend()})`);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const threads = multithread ? wasmBackend.getThreadsCount() : 1;
  const weights = new DeviceWeights();
  const info: BackendInfo = {
    engine: 'tfjs-wasm',
    mode: simd ? 'wasm-simd' : 'wasm',
    device: os.cpus()[0]?.model.trim() ?? 'cpu',
    threads,
    simd,
    precision: 'fp32',
    notes:
      `@tensorflow/tfjs-core ${tf.version_core}, tfjs-backend-wasm ${wasmBackend.version_wasm}` +
      `${multithread ? '' : ', single-threaded (no WASM threads in this runtime)'}; ` +
      'matvec, attention and FFN kernels run as tfjs ops (XNNPACK, float32 accumulation); ' +
      'rmsnorm and rope run on the host; ffnSliced copies kept rows once per kept list; ' +
      'ffnDown over a kept list zeroes dropped activations and uses the dense down matrix',
  };
  return {
    name: 'tfjs-wasm',
    info: () => ({ ...info }),
    kernels: makeKernels(weights),
    sliceStats: () => ({ slices: weights.slicesBuilt, ms: weights.sliceMs }),
    dispose: () => weights.disposeAll(),
  };
}
