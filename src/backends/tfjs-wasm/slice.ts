// Copies the rows of kept neurons into one contiguous matrix.
//
// With the row-per-neuron layout (src/core/model.ts) a kept list selects whole
// rows, so slicing is a run of memcpy-like `set` calls. Doing it in plain JS and
// uploading the result once is much cheaper than gathering rows inside tfjs (half
// the rows of an 11008×4096 matrix: tf.gather ~1.2 s, this copy plus upload ~0.15 s).

/** out row k = src row kept[k]; rows have length rowLen. */
export function sliceRows(src: Float32Array, rowLen: number, kept: Int32Array): Float32Array {
  const out = new Float32Array(kept.length * rowLen);
  for (let k = 0; k < kept.length; k++) {
    const start = kept[k] * rowLen;
    out.set(src.subarray(start, start + rowLen), k * rowLen);
  }
  return out;
}

/** out[k] = v[kept[k]]. */
export function gatherValues(v: Float32Array, kept: Int32Array): Float32Array {
  const out = new Float32Array(kept.length);
  for (let k = 0; k < kept.length; k++) out[k] = v[kept[k]];
  return out;
}

export function sameInts(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
