// Weights as tfjs tensors in the WASM heap, uploaded once and found again by the
// identity of the Float32Array they came from (the decoder passes the same weight
// arrays on every call; see src/core/kernels.ts).
//
// Two caches:
//  - dense matrices and bias vectors, one tensor per (array, shape);
//  - per FFN, the gate/up/down rows of one kept-neuron list (TDA fixes the list
//    once per prompt in its prefill, Section 4 of the paper), sliced in plain JS and uploaded once.
//    Only the latest list is kept per FFN: a new list disposes the previous slice,
//    so memory stays bounded however many prompts are run.
//
// Tensors whose source array has been garbage-collected are disposed through a
// FinalizationRegistry, so short-lived weights (tests, synthetic models) do not
// leak WASM memory.

import * as tf from '@tensorflow/tfjs-core';
import type { FfnWeights } from '../../core/model.js';
import { gatherValues, sameInts, sliceRows } from './slice.js';

/** One FFN restricted to one kept list: row k of each matrix is neuron kept[k]. */
export interface FfnSlice {
  /** Contents of the kept list the tensors were built for. */
  readonly kept: Int32Array;
  gate: tf.Tensor2D | null; // n × dim
  up: tf.Tensor2D | null; // n × dim
  downT: tf.Tensor2D | null; // n × dim
  upBias: tf.Tensor2D | null; // n × 1
  /** The host arrays each tensor was sliced from (an FFN object may be rebuilt around other arrays). */
  readonly from: Map<tf.Tensor, Float32Array>;
}

export class DeviceWeights {
  private readonly dense = new WeakMap<Float32Array, Map<string, tf.Tensor>>();
  private readonly slices = new WeakMap<Float32Array, FfnSlice>(); // keyed by ffn.downT
  private readonly live = new Set<tf.Tensor>();
  private readonly finalizer = new FinalizationRegistry<tf.Tensor>((t) => {
    this.live.delete(t);
    t.dispose();
  });
  /** Milliseconds spent building slices (row copies + uploads), for reports. */
  sliceMs = 0;
  slicesBuilt = 0;

  /** `w` viewed as a rows × cols matrix. */
  matrix(w: Float32Array, rows: number, cols: number): tf.Tensor2D {
    return this.cached(w, `m${rows}x${cols}`, () => tf.tensor2d(w.subarray(0, rows * cols), [rows, cols])) as tf.Tensor2D;
  }

  /** `v` as an n × 1 column. */
  column(v: Float32Array): tf.Tensor2D {
    return this.cached(v, 'c', () => tf.tensor2d(v, [v.length, 1])) as tf.Tensor2D;
  }

  /** `v` as a 1 × n row. */
  row(v: Float32Array): tf.Tensor2D {
    return this.cached(v, 'r', () => tf.tensor2d(v, [1, v.length])) as tf.Tensor2D;
  }

  /**
   * The slice of `ffn` for `kept` (gate, up, down rows and up bias). A list equal in
   * contents to the previous one reuses its tensors (checked in O(n), so a list
   * edited in place is never served stale rows).
   */
  slice(ffn: FfnWeights, kept: Int32Array, dim: number): FfnSlice {
    let s = this.slices.get(ffn.downT);
    if (s && !sameInts(s.kept, kept)) {
      this.releaseSlice(s);
      s = undefined;
    }
    if (!s) {
      s = { kept: kept.slice(), gate: null, up: null, downT: null, upBias: null, from: new Map() };
      this.slices.set(ffn.downT, s);
    }
    const t0 = performance.now();
    let built = false;
    const rows = (src: Float32Array, have: tf.Tensor2D | null): tf.Tensor2D => {
      if (have && !have.isDisposed && s!.from.get(have) === src) return have;
      if (have) this.release(have);
      const t = tf.tensor2d(sliceRows(src, dim, kept), [kept.length, dim]);
      this.track(ffn.downT, t);
      s!.from.set(t, src);
      built = true;
      return t;
    };
    s.up = rows(ffn.up, s.up);
    if (!ffn.gate && s.gate) this.release(s.gate);
    s.gate = ffn.gate ? rows(ffn.gate, s.gate) : null;
    s.downT = rows(ffn.downT, s.downT);
    if (!ffn.upBias && s.upBias) {
      this.release(s.upBias);
      s.upBias = null;
    }
    if (ffn.upBias && (!s.upBias || s.upBias.isDisposed || s.from.get(s.upBias) !== ffn.upBias)) {
      if (s.upBias) this.release(s.upBias);
      s.upBias = tf.tensor2d(gatherValues(ffn.upBias, kept), [kept.length, 1]);
      this.track(ffn.downT, s.upBias);
      s.from.set(s.upBias, ffn.upBias);
      built = true;
    }
    if (built) {
      this.sliceMs += performance.now() - t0;
      this.slicesBuilt++;
    }
    return s;
  }

  /** Disposes every tensor this cache uploaded. */
  disposeAll(): void {
    for (const t of this.live) {
      this.finalizer.unregister(t);
      t.dispose();
    }
    this.live.clear();
  }

  private cached(src: Float32Array, key: string, make: () => tf.Tensor): tf.Tensor {
    let byShape = this.dense.get(src);
    if (!byShape) {
      byShape = new Map();
      this.dense.set(src, byShape);
    }
    let t = byShape.get(key);
    if (!t || t.isDisposed) {
      t = make();
      byShape.set(key, t);
      this.track(src, t);
    }
    return t;
  }

  private track(owner: Float32Array, t: tf.Tensor): void {
    this.live.add(t);
    this.finalizer.register(owner, t, t);
  }

  private release(t: tf.Tensor): void {
    this.finalizer.unregister(t);
    this.live.delete(t);
    t.dispose();
  }

  private releaseSlice(s: FfnSlice): void {
    for (const t of [s.gate, s.up, s.downT, s.upBias]) if (t) this.release(t);
    s.from.clear();
  }
}
