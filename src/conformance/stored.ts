// The model as a reduced-precision backend stores it. An fp16 / bf16 backend
// rounds every weight (to nearest, or by truncation — both honest); the logits of
// two honest bf16 backends then differ from the float32 reference by whole logits,
// far more than a wrong mask moves them. So end to end, a reduced-precision
// backend is compared with the reference run on *its own* stored weights, read
// back through its kernels:
//   matvec(out, W, [1], rows·cols, 1)        out = stored(W)   (one exact product per row)
//   ffnDown(out, [1], {downT: W}, null)      out = stored(W)   (the FFN matrices and biases)
//   rmsnorm(out, 1…1, g, 0)                  out = stored(g)   (scale 1/sqrt(1) = 1)
// Each probe runs on a copy (a fresh array identity), never on the model's own
// arrays, so no device cache keyed by those is touched. The kernel rows bound the
// storage error of every weight (tolerance.ts, weightStorageError), so a backend
// cannot hide a wrong rounding here: this only removes the honest part.

import type { Kernels } from '../core/kernels.js';
import type { FfnWeights, LayerWeights, Model } from '../core/model.js';

/** Largest probe per call: GPU grids have limits in the millions. */
const CHUNK = 1 << 20;

function viaMatvec(K: Kernels, w: Float32Array): Float32Array {
  const out = new Float32Array(w.length);
  const one = Float32Array.of(1);
  for (let off = 0; off < w.length; off += CHUNK) {
    const part = w.slice(off, Math.min(w.length, off + CHUNK));
    const o = new Float32Array(part.length);
    K.matvec(o, part, one, part.length, 1);
    out.set(o, off);
  }
  return out;
}

function viaFfnDown(K: Kernels, w: Float32Array): Float32Array {
  const out = new Float32Array(w.length);
  const one = Float32Array.of(1);
  for (let off = 0; off < w.length; off += CHUNK) {
    const part = w.slice(off, Math.min(w.length, off + CHUNK));
    const o = new Float32Array(part.length);
    const ffn: FfnWeights = { gate: null, up: new Float32Array(part.length), downT: part, upBias: null, downBias: null };
    K.ffnDown(o, one, ffn, null);
    out.set(o, off);
  }
  return out;
}

function viaDownBias(K: Kernels, bias: Float32Array, hidden: number): Float32Array {
  const out = new Float32Array(bias.length);
  const ffn: FfnWeights = { gate: null, up: new Float32Array(hidden * bias.length), downT: new Float32Array(hidden * bias.length), upBias: null, downBias: bias.slice() };
  K.ffnDown(out, new Float32Array(hidden), ffn, null);
  return out;
}

/**
 * The stored up bias: ffnActivations of a ReLU FFN with dim 1, x = [1] and up row i
 * = C_i, a power of two with C_i ≥ |b_i| (exact in every storage format), gives
 * a_i = relu(C_i + b_i) = C_i + b_i ≥ 0 in float32 — exact for a bias stored in half
 * precision, within 2^-24·C_i of a float32 one — so b_i = a_i − C_i.
 */
function viaUpBias(K: Kernels, bias: Float32Array): Float32Array {
  const c = Float32Array.from(bias, (b) => 2 ** Math.max(Math.ceil(Math.log2(Math.abs(b) || 1)), -14));
  const a = new Float32Array(bias.length);
  const ffn: FfnWeights = { gate: null, up: c, downT: new Float32Array(bias.length), upBias: bias.slice(), downBias: null };
  K.ffnActivations(a, Float32Array.of(1), ffn, 'relu');
  return Float32Array.from(a, (ai, i) => ai - c[i]);
}

function viaRmsnorm(K: Kernels, g: Float32Array): Float32Array {
  const out = new Float32Array(g.length);
  K.rmsnorm(out, new Float32Array(g.length).fill(1), g.slice(), 0);
  return out;
}

/**
 * A 64-bit FNV-1a digest (two 32-bit lanes) of the arrays' bits. The stored model's
 * fingerprint must name its values, not just the model it came from: the reference runs
 * are cached by fingerprint (endToEnd.ts), and two reduced-precision backends checked in
 * one process (an fp16 one, then a bf16 one) store different values of the same model.
 */
function digest(arrays: (Float32Array | null)[]): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (const x of arrays) {
    if (!x) continue;
    const u = new Int32Array(x.buffer, x.byteOffset, x.length);
    for (let i = 0; i < u.length; i++) {
      a = Math.imul(a ^ u[i], 0x01000193);
      b = Math.imul(b ^ u[i] ^ (i & 0xffff), 0x01000193);
    }
    a = Math.imul(a ^ x.length, 0x01000193);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

/** The model with every weight replaced by the backend's stored value of it. */
export function storedModel(model: Model, K: Kernels): Model {
  const w = model.weights;
  const ffnOf = (f: FfnWeights): FfnWeights => ({
    gate: f.gate ? viaFfnDown(K, f.gate) : null,
    up: viaFfnDown(K, f.up),
    downT: viaFfnDown(K, f.downT),
    // Biases are vectors, not weight matrices: a backend may keep them in float32 or
    // store them like its weights. The down bias is read back as the bias term of a
    // down projection with zero activations, the up bias through relu(C_i + b_i).
    upBias: f.upBias ? viaUpBias(K, f.upBias) : null,
    downBias: f.downBias ? viaDownBias(K, f.downBias, f.downT.length / f.downBias.length) : null,
  });
  const layers: LayerWeights[] = w.layers.map((l) => ({
    rmsAtt: viaRmsnorm(K, l.rmsAtt),
    wq: viaMatvec(K, l.wq),
    wk: viaMatvec(K, l.wk),
    wv: viaMatvec(K, l.wv),
    wo: viaMatvec(K, l.wo),
    rmsFfn: viaRmsnorm(K, l.rmsFfn),
    ffn: ffnOf(l.ffn),
  }));
  // The decoder copies embedding rows itself (no kernel): those stay as loaded.
  const weights = { ...w, layers, rmsFinal: viaRmsnorm(K, w.rmsFinal), classifier: viaMatvec(K, w.classifier) };
  const values = [
    weights.rmsFinal, weights.classifier,
    ...layers.flatMap((l) => [l.rmsAtt, l.wq, l.wk, l.wv, l.wo, l.rmsFfn, l.ffn.gate, l.ffn.up, l.ffn.downT, l.ffn.upBias, l.ffn.downBias]),
  ];
  return { ...model, weights, fingerprint: `${model.fingerprint}|stored by the backend as ${digest(values)}` };
}
