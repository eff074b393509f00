// Compact copies of an FFN's kept rows for the sliced FFN (TDA / Griffin generation).
//
// Why: the mask is fixed once per prompt (TDA, Section 4; Griffin likewise), and every
// generated token then reads the same kept rows of gate, up and downT. Read in place,
// those rows are scattered through the full matrices, and one core streamed them at
// 14.7 (every other neuron) to 16.9 GB/s (a random half) against 19.9 GB/s for a
// contiguous half (TinyLlama shape, F16; docs/bench.md), so half the bytes took well over
// half the time. Copied once into contiguous matrices — the smaller weight matrices the
// TDA and Griffin implementations build per prompt — they stream like a dense FFN of
// `count` neurons (20.9 GB/s); the copy costs about what 5–14 calls then save.
//
// Bit-identity: the addon is called on the copies with kept = null, i.e. neuron k of
// the copy is kept[k] of the original. It computes the same dot products (same rows,
// same x), shares the list among threads at the same positions, and sums the down rows
// of the nonzero activations in the same order (kept-list order), so the result equals
// the in-place ffnSliced bit for bit. A non-gated FFN's up bias is gathered with its rows.
//
// Correctness of the cache (src/core/kernels.ts: weights are immutable once loaded; the
// kept list is any Int32Array, which a caller may reuse or edit in place):
//  - keyed by the identity of the FFN's downT array, and each entry remembers the exact
//    source arrays it copied (an FFN object may be rebuilt around other arrays);
//  - the kept list's *contents* are compared on every call (O(count), against
//    O(count · dim) for the FFN itself), never its length or its identity;
//  - rows are copied only when the same list comes a second time in a row, after the
//    first call read it in place successfully (so the addon has checked the ids and the
//    arrays' lengths); a list that changes every call costs one O(count) copy of the
//    list per call, never a copy of rows;
//  - one entry per FFN: a new list replaces the previous one, and its rows overwrite the
//    previous rows' buffers where they fit. Memory: one copy of kept rows per layer, as
//    large as the longest list seen for that layer — count / hidden of the FFN's weight
//    bytes (+0.5× at density 0.5), in the stored weight type (F16 copies of F16 rows).
//  - a list that is one run of adjacent ids (start, start+1, …) is already contiguous
//    in memory and is never copied.
// Copies live as long as the backend and the FFN's weights. Two FFNs sharing one downT
// array with different lists would replace each other's entry on every call: both are
// then read in place, correct but without the gain.

/** Weight matrices as the addon reads them: float32, or F16 / BF16 bits. */
export type StoredRows = Float32Array | Uint16Array;

/** The arrays the sliced FFN reads, as passed to the addon (gate, up, downT, upBias). */
export interface FfnSources {
  gate: StoredRows | null;
  up: StoredRows;
  downT: StoredRows;
  upBias: Float32Array | null;
}

interface Entry {
  /** Contents of the kept list this entry is for. */
  readonly kept: Int32Array;
  /** Row length the list was read with. */
  readonly dim: number;
  /** The arrays the rows were (or will be) copied from. */
  readonly from: FfnSources;
  /** The kept rows, contiguous (row k = neuron kept[k]); null until the list is seen again. */
  rows: FfnSources | null;
  /** Buffers the rows are copied into, kept across lists of this FFN (see gatherRows). */
  store: Store;
}

/** Per matrix, the buffer its kept rows were last copied into. */
interface Store {
  gate: StoredRows | null;
  up: StoredRows | null;
  downT: StoredRows | null;
}

function sameInts(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSources(a: FfnSources, b: FfnSources): boolean {
  return a.gate === b.gate && a.up === b.up && a.downT === b.downT && a.upBias === b.upBias;
}

/** One run of adjacent ids: its rows are adjacent already. */
function isRun(kept: Int32Array): boolean {
  for (let k = 1; k < kept.length; k++) if (kept[k] !== kept[0] + k) return false;
  return true;
}

/** Copies rows: dst row k = src row kept[k], rows of rowLen elements (dst and src of one type). */
export type CopyRows = (dst: StoredRows, src: StoredRows, kept: Int32Array, rowLen: number) => void;

/** CopyRows in plain JS (one `set` per row). */
export const copyRowsJs: CopyRows = (dst, src, kept, rowLen) => {
  for (let k = 0; k < kept.length; k++) {
    const start = kept[k] * rowLen;
    dst.set(src.subarray(start, start + rowLen), k * rowLen);
  }
};

/**
 * out row k = src row kept[k]; rows of length rowLen. `out` is the front of `buffer`
 * when that is large enough and of src's type: a new list for an FFN (the next prompt)
 * overwrites the previous list's buffer instead of allocating a fresh one, which halved
 * the copy's CPU time (a fresh buffer's pages are faulted in and zeroed first).
 */
function gatherRows<T extends StoredRows>(copy: CopyRows, src: T, rowLen: number, kept: Int32Array, buffer: StoredRows | null): T {
  const n = kept.length * rowLen;
  const out =
    buffer && buffer.constructor === src.constructor && buffer.length >= n
      ? (buffer.subarray(0, n) as T)
      : new (src.constructor as new (n: number) => T)(n);
  copy(out, src, kept, rowLen);
  return out;
}

/** The whole buffer a gathered matrix is a view of. */
function bufferOf(rows: StoredRows | null): StoredRows | null {
  return rows && new (rows.constructor as new (b: ArrayBufferLike) => StoredRows)(rows.buffer);
}

function gatherValues(v: Float32Array, kept: Int32Array): Float32Array {
  const out = new Float32Array(kept.length);
  for (let k = 0; k < kept.length; k++) out[k] = v[kept[k]];
  return out;
}

export class KeptRowsCache {
  private readonly entries = new WeakMap<object, Entry>();
  /** Row copies made (for tests and reports). */
  builds = 0;

  /** `copy` copies the rows (the addon's gatherRows in the backend). */
  constructor(private readonly copy: CopyRows = copyRowsJs) {}

  /**
   * The compact rows of `src` for `kept` (rows of `dim` elements), or null when the
   * kernel should read the rows in place: a list not yet read in place for this FFN
   * (with these arrays and this dim; see `remember`), an empty list, or one run of
   * adjacent ids. `key` identifies the FFN (its downT).
   */
  rowsFor(key: object, src: FfnSources, kept: Int32Array, dim: number): FfnSources | null {
    if (kept.length === 0 || isRun(kept)) return null;
    const e = this.entries.get(key);
    if (!e || e.dim !== dim || !sameSources(e.from, src) || !sameInts(e.kept, kept)) return null;
    if (!e.rows) {
      const gate = src.gate && gatherRows(this.copy, src.gate, dim, e.kept, e.store.gate);
      const up = gatherRows(this.copy, src.up, dim, e.kept, e.store.up);
      const downT = gatherRows(this.copy, src.downT, dim, e.kept, e.store.downT);
      e.rows = { gate, up, downT, upBias: src.upBias && gatherValues(src.upBias, e.kept) };
      e.store = { gate: bufferOf(gate), up: bufferOf(up), downT: bufferOf(downT) };
      this.builds++;
    }
    return e.rows;
  }

  /**
   * Records that the kernel read `kept` in place for this FFN and succeeded, so the
   * next call with the same list copies its rows. Only after success: the addon's
   * checks of the list and the arrays' lengths have then passed for exactly these
   * inputs, and the copy (same arrays, same ids) needs no checks of its own.
   */
  remember(key: object, src: FfnSources, kept: Int32Array, dim: number): void {
    if (kept.length === 0 || isRun(kept)) return;
    const e = this.entries.get(key);
    // A new list (or new arrays) for this FFN replaces the previous one; its rows will
    // go into the previous list's buffers where they fit.
    const store = e ? e.store : { gate: null, up: null, downT: null };
    this.entries.set(key, { kept: kept.slice(), from: { ...src }, dim, rows: null, store });
  }
}
