// Loader for llama2.c checkpoints (the "legacy" export of run.c):
//
//   header: 7 × int32  dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//           vocab_size > 0: the classifier is the token embedding (shared)
//           vocab_size < 0: a separate classifier follows at the end of the file
//   then float32 tensors, each layer-major:
//     token_embedding [vocab][dim], rms_att [L][dim], wq [L][dim][dim],
//     wk [L][kvDim][dim], wv [L][kvDim][dim], wo [L][dim][dim], rms_ffn [L][dim],
//     w1 (gate) [L][hidden][dim], w2 (down) [L][dim][hidden], w3 (up) [L][hidden][dim],
//     rms_final [dim], two old RoPE tables of seq_len·head_size/2 floats (skipped),
//     and, if unshared, wcls [vocab][dim].
//
// Every header field and the file size are checked before any allocation, and the
// weights are checked for NaN/Inf, so a malformed file ends in one clear UserError.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { UserError, describeError } from '../errors.js';
import type { LayerWeights, Model, ModelConfig } from '../core/model.js';

const HEADER_BYTES = 7 * 4;
/** Bounds that keep a corrupted header from asking for absurd allocations. */
const LIMITS = { dim: 1 << 16, hiddenDim: 1 << 18, nLayers: 1024, nHeads: 1024, vocabSize: 1 << 22, seqLen: 1 << 20 };

export function loadCheckpoint(file: string): Model {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${file}: ${describeError(e)}`);
  }
  return parseCheckpoint(bytes, file);
}

export function parseCheckpoint(bytes: Uint8Array, name = 'checkpoint'): Model {
  if (bytes.length < HEADER_BYTES) {
    throw new UserError(`${name}: ${bytes.length} bytes is too short for a llama2.c header (28 bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, signedVocab, seqLen] = h;
  const sharedClassifier = signedVocab > 0;
  const vocabSize = Math.abs(signedVocab);
  const bad = (field: string, value: number, why: string) =>
    new UserError(`${name}: impossible header value ${field}=${value} (${why})`);
  const checkRange = (field: keyof typeof LIMITS, value: number) => {
    if (!(value >= 1 && value <= LIMITS[field])) throw bad(field, value, `must be in 1..${LIMITS[field]}`);
  };
  checkRange('dim', dim);
  checkRange('hiddenDim', hiddenDim);
  checkRange('nLayers', nLayers);
  checkRange('nHeads', nHeads);
  if (!(nKvHeads >= 1 && nKvHeads <= nHeads)) throw bad('nKvHeads', nKvHeads, `must be in 1..nHeads=${nHeads}`);
  checkRange('vocabSize', vocabSize);
  checkRange('seqLen', seqLen);
  if (dim % nHeads !== 0) throw bad('dim', dim, `not divisible by nHeads=${nHeads}`);
  if (nHeads % nKvHeads !== 0) throw bad('nKvHeads', nKvHeads, `nHeads=${nHeads} is not a multiple of it`);
  const headSize = dim / nHeads;
  if (headSize % 2 !== 0) throw bad('dim', dim, `head size ${headSize} must be even for RoPE`);
  const kvDim = (dim * nKvHeads) / nHeads;

  const config: ModelConfig = {
    dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen,
    ffnKind: 'swiglu', normEps: 1e-5, ropeTheta: 10000,
  };

  // Count floats before allocating anything.
  const L = nLayers;
  const counts = {
    tokenEmbedding: vocabSize * dim,
    rmsAtt: L * dim,
    wq: L * dim * dim,
    wk: L * kvDim * dim,
    wv: L * kvDim * dim,
    wo: L * dim * dim,
    rmsFfn: L * dim,
    w1: L * hiddenDim * dim,
    w2: L * dim * hiddenDim,
    w3: L * hiddenDim * dim,
    rmsFinal: dim,
    ropeTables: seqLen * headSize, // two tables of seqLen·headSize/2
    classifier: sharedClassifier ? 0 : vocabSize * dim,
  };
  const totalFloats = Object.values(counts).reduce((a, b) => a + b, 0);
  const expectedBytes = HEADER_BYTES + 4 * totalFloats;
  if (bytes.length !== expectedBytes) {
    throw new UserError(
      `${name}: file is ${bytes.length} bytes but its header (dim ${dim}, hidden ${hiddenDim}, layers ${nLayers}, ` +
        `heads ${nHeads}/${nKvHeads}, vocab ${signedVocab}, seq_len ${seqLen}) needs ${expectedBytes} bytes`,
    );
  }

  // One aligned copy of the float payload; tensors are views into it.
  const floats = new Float32Array(totalFloats);
  new Uint8Array(floats.buffer).set(bytes.subarray(HEADER_BYTES, expectedBytes));
  let offset = 0;
  const take = (tensor: string, n: number): Float32Array => {
    const t = floats.subarray(offset, offset + n);
    offset += n;
    for (let i = 0; i < t.length; i++) {
      if (!Number.isFinite(t[i])) throw new UserError(`${name}: tensor ${tensor} has a non-finite value (${t[i]}) at index ${i}`);
    }
    return t;
  };
  const perLayer = (tensor: string, total: number) => {
    const all = take(tensor, total);
    const n = total / L;
    return Array.from({ length: L }, (_, l) => all.subarray(l * n, (l + 1) * n));
  };

  const tokenEmbedding = take('token_embedding', counts.tokenEmbedding);
  const rmsAtt = perLayer('rms_att', counts.rmsAtt);
  const wq = perLayer('wq', counts.wq);
  const wk = perLayer('wk', counts.wk);
  const wv = perLayer('wv', counts.wv);
  const wo = perLayer('wo', counts.wo);
  const rmsFfn = perLayer('rms_ffn', counts.rmsFfn);
  const w1 = perLayer('w1', counts.w1);
  const w2 = perLayer('w2', counts.w2);
  const w3 = perLayer('w3', counts.w3);
  const rmsFinal = take('rms_final', counts.rmsFinal);
  offset += counts.ropeTables; // old RoPE tables: recomputed on the fly, not read
  const classifier = sharedClassifier ? tokenEmbedding : take('wcls', counts.classifier);

  const layers: LayerWeights[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({
      rmsAtt: rmsAtt[l], wq: wq[l], wk: wk[l], wv: wv[l], wo: wo[l], rmsFfn: rmsFfn[l],
      ffn: { gate: w1[l], up: w3[l], downT: transpose(w2[l], dim, hiddenDim), upBias: null, downBias: null },
    });
  }
  const fingerprint = createHash('sha256').update(bytes).digest('hex');
  return { config, weights: { tokenEmbedding, layers, rmsFinal, classifier }, fingerprint, source: name };
}

/** [rows][cols] → [cols][rows]: W_down's column i becomes downT's row i. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}
