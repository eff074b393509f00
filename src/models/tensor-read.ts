// Reading a tensor from a file straight into its final float32 array, for GGUF and
// safetensors alike. A multi-GB model is dominated by this step, so it does no more
// work than the bytes need:
// - the file is read in chunks through one small reused buffer (no file-sized
//   allocation, no intermediate float32 copy), each chunk decoded into place
//   (src/models/dtypes.ts: F16 by table lookup, BF16 by a shift, F32 as bytes), with the
//   finite check done in the same pass;
// - a matrix the kit keeps transposed (W_down, stored one row per neuron: see
//   src/core/model.ts) is read in bands of a few rows, each band decoded once and written
//   transposed from the cache, instead of transposing the whole matrix afterwards.
// With `wordsOnly` (StoredHalf.pending in src/core/model.ts) an F16/BF16 matrix is read as
// its words alone, checked finite on the words, and its float32 array is left unwritten.

import fs from 'node:fs';
import { type KeepHalf, rememberStoredHalf } from '../core/model.js';
import { UserError } from '../errors.js';
import { type DType, bf16ToF32, blockValues, byteSize, decodeInto, f16ToF32, nonFiniteWord } from './dtypes.js';

/** One tensor's bytes in an open file. */
export interface TensorExtent {
  fd: number;
  /** Absolute byte offset of the first element. */
  start: number;
  type: DType;
  /** For errors: "FILE: tensor NAME". */
  what: string;
  /** Also keep an F16/BF16 tensor's raw words (see StoredHalf in src/core/model.ts). */
  keepHalf?: KeepHalf;
  /** Keep only those words: the float32 array is allocated, not written (StoredHalf.pending). */
  wordsOnly?: boolean;
}

/** Elements decoded per read: 1 Mi values (2 MiB of F16): one small buffer, few system calls. */
const CHUNK_VALUES = 1 << 20;
/** Rows per band of a transposed read: a band of a 5632-wide F32 row set is 704 KiB. */
const BAND_ROWS = 32;

let scratch = new Uint8Array(0);
/** The reused read buffer (its own ArrayBuffer, so offset 0: 16-bit views are aligned). */
function scratchBytes(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(new ArrayBuffer(Math.max(n, 1 << 16)));
  return scratch.subarray(0, n);
}

function readFully(ext: TensorExtent, into: Uint8Array, position: number): void {
  for (let done = 0; done < into.length; ) {
    const got = fs.readSync(ext.fd, into, done, into.length - done, position + done);
    if (got <= 0) throw new UserError(`${ext.what}: the file ends inside the tensor's data (truncated)`);
    done += got;
  }
}

function nonFinite(ext: TensorExtent, value: number, index: number): UserError {
  return new UserError(`${ext.what} has a non-finite value (${value}) at index ${index}`);
}

/** Decodes elements [from, from + n) of the tensor into out[at …]; a non-finite value is an error at its tensor index. */
function decodeRange(ext: TensorExtent, from: number, n: number, out: Float32Array, at: number): void {
  const bytes = scratchBytes(byteSize(ext.type, n));
  readFully(ext, bytes, ext.start + byteSize(ext.type, from));
  const bad = decodeInto(ext.type, bytes, out, at, n);
  if (bad >= 0) throw nonFinite(ext, out[at + bad], from + bad);
}

/** Values per chunk: whole quantisation blocks, and whole rows when rows are short. */
function chunkValues(type: DType): number {
  return CHUNK_VALUES - (CHUNK_VALUES % blockValues(type));
}

/** The raw words are kept only for half-precision tensors, and only when asked. */
function halfType(ext: TensorExtent): 'f16' | 'bf16' | null {
  const t = ext.type === 'F16' ? 'f16' : ext.type === 'BF16' ? 'bf16' : null;
  return ext.keepHalf === true || ext.keepHalf === t ? t : null;
}

/** The 16-bit words the last decodeRange read (still in the scratch buffer). */
function scratchWords(n: number): Uint16Array {
  return new Uint16Array(scratch.buffer, 0, n);
}

/** Words [from, from + n) of a half-precision tensor, checked finite, in the scratch buffer (not decoded). */
function readWordsRange(ext: TensorExtent, from: number, n: number): Uint16Array {
  readFully(ext, scratchBytes(2 * n), ext.start + 2 * from);
  const words = scratchWords(n);
  const bad = nonFiniteWord(ext.type as 'F16' | 'BF16', words, 0, n);
  if (bad >= 0) throw nonFinite(ext, (ext.type === 'F16' ? f16ToF32 : bf16ToF32)(words[bad]), from + bad);
  return words;
}

/** The tensor's `n` values as float32 (finite, or a UserError naming the tensor and index). */
export function readTensor(ext: TensorExtent, n: number): Float32Array {
  const out = new Float32Array(n);
  const half = halfType(ext);
  if (half && ext.wordsOnly) {
    const words = new Uint16Array(n);
    for (let from = 0; from < n; from += CHUNK_VALUES) {
      const m = Math.min(CHUNK_VALUES, n - from);
      words.set(readWordsRange(ext, from, m), from);
    }
    rememberStoredHalf(out, { type: half, bits: words, pending: true });
    return out;
  }
  const bits = half ? new Uint16Array(n) : null;
  const step = chunkValues(ext.type);
  for (let from = 0; from < n; from += step) {
    const m = Math.min(step, n - from);
    decodeRange(ext, from, m, out, from);
    bits?.set(scratchWords(m), from);
  }
  if (half) rememberStoredHalf(out, { type: half, bits: bits! });
  return out;
}

/**
 * A row-major rows × cols tensor returned as its cols × rows transpose. Rows of a
 * block-quantised tensor are whole blocks (the loaders check it), so every band starts
 * on a block.
 */
export function readTensorTransposed(ext: TensorExtent, rows: number, cols: number): Float32Array {
  const half = halfType(ext);
  const bandRows = Math.max(1, Math.min(BAND_ROWS, Math.floor(chunkValues(ext.type) / cols)));
  if (half && ext.wordsOnly) {
    const wordsT = new Uint16Array(rows * cols);
    for (let r0 = 0; r0 < rows; r0 += bandRows) {
      const h = Math.min(bandRows, rows - r0);
      const words = readWordsRange(ext, r0 * cols, h * cols);
      for (let c = 0; c < cols; c++) {
        const o = c * rows + r0;
        for (let r = 0; r < h; r++) wordsT[o + r] = words[r * cols + c];
      }
    }
    const values = new Float32Array(rows * cols);
    rememberStoredHalf(values, { type: half, bits: wordsT, pending: true });
    return values;
  }
  const out = new Uint32Array(rows * cols);
  const bitsT = half ? new Uint16Array(rows * cols) : null;
  const band = new Float32Array(bandRows * cols);
  const bandBits = new Uint32Array(band.buffer);
  for (let r0 = 0; r0 < rows; r0 += bandRows) {
    const h = Math.min(bandRows, rows - r0);
    decodeRange(ext, r0 * cols, h * cols, band, 0);
    // Bits, not values, are moved: the copy is exact by construction.
    for (let c = 0; c < cols; c++) {
      const o = c * rows + r0;
      for (let r = 0; r < h; r++) out[o + r] = bandBits[r * cols + c];
    }
    if (bitsT) {
      const words = scratchWords(h * cols);
      for (let c = 0; c < cols; c++) {
        const o = c * rows + r0;
        for (let r = 0; r < h; r++) bitsT[o + r] = words[r * cols + c];
      }
    }
  }
  const values = new Float32Array(out.buffer);
  if (half) rememberStoredHalf(values, { type: half, bits: bitsT! });
  return values;
}
