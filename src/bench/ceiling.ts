// Bytes a decode step must read, per method — the memory-bound ceiling on speed-up.
//
// Decode at batch 1 reads every weight once per token and does two flops per weight,
// far below what the cores could compute from the bytes they get, so time is set
// by bytes moved. A method that reads fewer bytes can be at most
//   ceiling = bytes(dense) / bytes(method)
// faster. Activation vectors (a few KiB) are left out: they stay in cache.

import type { Method } from '../reference/policies/types.js';

export const F32 = 4;

export interface FfnShape {
  dim: number;
  hiddenDim: number;
  /** 2 for gated FFNs (gate + up), 1 otherwise. */
  gateUp?: number;
}

/** Weight bytes of one FFN block under `method` with `kept` neurons (of hiddenDim). */
export function ffnBytes(s: FfnShape, method: Method, kept: number): number {
  const g = s.gateUp ?? 2;
  const rowBytes = s.dim * F32;
  switch (method) {
    case 'dense':
      return (g + 1) * s.hiddenDim * rowBytes;
    case 'tt':
      // TT needs every activation to decide, so gate/up are read in full; only the
      // down projection shrinks.
      return (g * s.hiddenDim + kept) * rowBytes;
    case 'griffin':
    case 'tda':
      // A fixed kept list: gate, up and down rows of kept neurons only.
      return (g + 1) * kept * rowBytes;
  }
}

export interface AttentionBytesShape {
  dim: number;
  kvDim: number;
}

/** Wq, Wk, Wv, Wo: read in full by every method (the FFN is the only thing TDA slices). */
export function attentionWeightBytes(s: AttentionBytesShape): number {
  return (2 * s.dim * s.dim + 2 * s.kvDim * s.dim) * F32;
}

/** K and V rows of `ctx` cached tokens read by one attention step. */
export function kvBytes(kvDim: number, ctx: number): number {
  return 2 * ctx * kvDim * F32;
}

/** One decoder layer at context `ctx`: attention weights + KV cache + FFN. */
export function layerBytes(s: FfnShape & AttentionBytesShape, method: Method, kept: number, ctx: number): number {
  return attentionWeightBytes(s) + kvBytes(s.kvDim, ctx) + ffnBytes(s, method, kept);
}

export interface ModelBytesShape extends FfnShape, AttentionBytesShape {
  nLayers: number;
  vocabSize: number;
}

/** A whole decode step: every layer plus the classifier (the embedding row read is negligible). */
export function modelBytes(s: ModelBytesShape, method: Method, kept: number, ctx: number): number {
  return s.nLayers * layerBytes(s, method, kept, ctx) + s.vocabSize * s.dim * F32;
}

/** bytes(dense) / bytes(method): how much faster a purely memory-bound kernel could get. */
export function ceiling(denseBytes: number, methodBytes: number): number {
  return methodBytes > 0 ? denseBytes / methodBytes : Infinity;
}
