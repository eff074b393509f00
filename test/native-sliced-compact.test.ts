// native-cpu ffnSliced over compact copies of the kept rows (src/backends/native-cpu/kept-rows.ts)
// must equal the in-place sliced FFN, and ffnActivations + ffnDown over the same list, bit for
// bit, for every FFN kind, weight type and kind of kept list — on every call, including after
// the caller edits its kept list in place or passes another list of the same length.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_CPU_ADDON, createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import { KeptRowsCache, copyRowsJs } from '../src/backends/native-cpu/kept-rows.js';
import type { FfnKind, FfnWeights } from '../src/core/model.js';
import { Rng } from '../src/reference/random.js';
import { ROOT } from './helpers.js';

it('the native addon is built (npm ci compiles it)', () => {
  const addon = path.join(ROOT, 'native/build/Release/tda_native_cpu.node');
  expect(existsSync(addon), `${addon} is missing: run npm run build:native`).toBe(true);
});

function normals(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextNormal() * scale;
  return a;
}

function ffnOf(rng: Rng, dim: number, hidden: number, kind: FfnKind): FfnWeights {
  const gated = kind === 'swiglu' || kind === 'geglu';
  const s = 1 / Math.sqrt(dim);
  return {
    gate: gated ? normals(rng, hidden * dim, s) : null,
    up: normals(rng, hidden * dim, s),
    downT: normals(rng, hidden * dim, s),
    upBias: gated ? null : normals(rng, hidden, 0.5),
    downBias: normals(rng, dim, 0.1),
  };
}

function ascendingSample(rng: Rng, hidden: number, count: number): Int32Array {
  const ids = Array.from({ length: hidden }, (_, i) => i);
  for (let i = hidden - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return Int32Array.from(ids.slice(0, count).sort((a, b) => a - b));
}

/** The kept lists a caller may pass: the contract's ascending lists, and unsorted ones (the addon accepts them). */
function keptLists(rng: Rng, hidden: number): [string, Int32Array][] {
  const half = ascendingSample(rng, hidden, hidden >> 1);
  const unsorted = half.slice().reverse();
  return [
    ['random half', half],
    ['random 10 %', ascendingSample(rng, hidden, Math.max(1, Math.floor(hidden / 10)))],
    ['random 90 %', ascendingSample(rng, hidden, Math.floor((hidden * 9) / 10))],
    ['every other', Int32Array.from({ length: hidden >> 1 }, (_, k) => 2 * k)],
    ['blocks of 8', Int32Array.from({ length: hidden }, (_, i) => i).filter((i) => (i >> 3) % 2 === 0)],
    ['contiguous half', Int32Array.from({ length: hidden >> 1 }, (_, k) => k + (hidden >> 2))],
    ['one neuron', Int32Array.of(hidden - 1)],
    ['all', Int32Array.from({ length: hidden }, (_, i) => i)],
    ['all but the first', Int32Array.from({ length: hidden - 1 }, (_, i) => i + 1)],
    ['empty', new Int32Array(0)],
    ['unsorted', unsorted],
  ];
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// Small shapes with odd tails (dot-product and row-sum remainders), and one above the
// addon's threading threshold (so the kept list is split among threads).
const SHAPES: [number, number][] = [
  [8, 24],
  [37, 53],
  [256, 700],
];
const KINDS: FfnKind[] = ['swiglu', 'geglu', 'relu', 'gelu'];
const TYPES: WeightType[] = ['f32', 'f16', 'bf16'];

describe('native-cpu ffnSliced over compact kept rows', () => {
  for (const type of TYPES) {
    const compact = createNativeCpuBackend(type);
    const inPlace = createNativeCpuBackend(type, { keptRows: 'in-place' });
    for (const [dim, hidden] of SHAPES) {
      it(`${type}, dim ${dim}, hidden ${hidden}: equal to the in-place path and to ffnActivations + ffnDown`, () => {
        const rng = new Rng(dim * 1000 + hidden);
        for (const kind of KINDS) {
          const ffn = ffnOf(rng, dim, hidden, kind);
          const x = normals(rng, dim, 1);
          const a = new Float32Array(hidden);
          const want = new Float32Array(dim);
          const got = new Float32Array(dim);
          const composed = new Float32Array(dim);
          compact.kernels.ffnActivations(a, x, ffn, kind);
          for (const [name, kept] of keptLists(rng, hidden)) {
            inPlace.kernels.ffnSliced(want, x, ffn, kind, kept);
            compact.kernels.ffnDown(composed, a, ffn, kept);
            expect(bits(composed), `${kind} ${name}: ffnDown`).toEqual(bits(want));
            // Calls 1 (in place, list remembered), 2 (rows copied) and 3 (copy reused).
            for (let call = 1; call <= 3; call++) {
              got.fill(NaN);
              compact.kernels.ffnSliced(got, x, ffn, kind, kept);
              expect(bits(got), `${kind} ${name}, call ${call}`).toEqual(bits(want));
            }
            // A new input with the same list reads the same copy.
            const x2 = normals(rng, dim, 1);
            inPlace.kernels.ffnSliced(want, x2, ffn, kind, kept);
            compact.kernels.ffnSliced(got, x2, ffn, kind, kept);
            expect(bits(got), `${kind} ${name}, new x`).toEqual(bits(want));
          }
        }
      });
    }

    it(`${type}: a kept list edited in place or replaced by one of the same length is never served stale rows`, () => {
      const rng = new Rng(77);
      const [dim, hidden] = [64, 200];
      for (const kind of ['swiglu', 'relu'] as const) {
        const ffn = ffnOf(rng, dim, hidden, kind);
        const x = normals(rng, dim, 1);
        const want = new Float32Array(dim);
        const got = new Float32Array(dim);
        const check = (kept: Int32Array, what: string) => {
          inPlace.kernels.ffnSliced(want, x, ffn, kind, kept);
          compact.kernels.ffnSliced(got, x, ffn, kind, kept);
          expect(bits(got), `${kind}: ${what}`).toEqual(bits(want));
        };
        const kept = ascendingSample(rng, hidden, 80);
        check(kept, 'first call');
        check(kept, 'second call (copy built)');
        // Edit the same Int32Array in place: one id moves to a neuron not in the list.
        const missing = Array.from({ length: hidden }, (_, i) => i).find((i) => !kept.includes(i))!;
        kept[40] = missing;
        kept.sort();
        check(kept, 'edited in place');
        check(kept, 'edited in place, again');
        // Another list of the same length (Griffin's top-k on the next prompt).
        const other = ascendingSample(rng, hidden, 80);
        check(other, 'same length, other ids');
        check(other, 'same length, other ids, again');
        check(kept, 'back to the edited list');
        // Another FFN object around the same downT but other gate/up rows.
        const rebuilt: FfnWeights = { ...ffn, up: normals(rng, hidden * dim, 0.1), gate: ffn.gate && normals(rng, hidden * dim, 0.1) };
        inPlace.kernels.ffnSliced(want, x, rebuilt, kind, other);
        compact.kernels.ffnSliced(got, x, rebuilt, kind, other);
        expect(bits(got), `${kind}: FFN rebuilt around the same downT`).toEqual(bits(want));
        compact.kernels.ffnSliced(got, x, rebuilt, kind, other);
        expect(bits(got), `${kind}: FFN rebuilt around the same downT, again`).toEqual(bits(want));
      }
    });
  }

  it('reads the copy from the second call with a list on (observed by editing the weights, which callers never do)', () => {
    const K = createNativeCpuBackend('f32').kernels;
    const rng = new Rng(4);
    const ffn = ffnOf(rng, 32, 96, 'swiglu');
    const x = normals(rng, 32, 1);
    const kept = ascendingSample(rng, 96, 40);
    const first = new Float32Array(32);
    const later = new Float32Array(32);
    K.ffnSliced(first, x, ffn, 'swiglu', kept);
    K.ffnSliced(later, x, ffn, 'swiglu', kept);
    ffn.up.fill(0); // in place, every activation would now be 0
    K.ffnSliced(later, x, ffn, 'swiglu', kept);
    expect(bits(later)).toEqual(bits(first));
  });

  it('TDA_NATIVE_KEPT_ROWS=in-place makes a backend read in place (no copy)', () => {
    const saved = process.env.TDA_NATIVE_KEPT_ROWS;
    process.env.TDA_NATIVE_KEPT_ROWS = 'in-place';
    let K;
    try {
      K = createNativeCpuBackend('f32').kernels;
    } finally {
      if (saved === undefined) delete process.env.TDA_NATIVE_KEPT_ROWS;
      else process.env.TDA_NATIVE_KEPT_ROWS = saved;
    }
    const rng = new Rng(5);
    const ffn = { ...ffnOf(rng, 32, 96, 'swiglu'), downBias: null };
    const x = normals(rng, 32, 1);
    const kept = ascendingSample(rng, 96, 40);
    const out = new Float32Array(32);
    K.ffnSliced(out, x, ffn, 'swiglu', kept);
    K.ffnSliced(out, x, ffn, 'swiglu', kept);
    ffn.up.fill(0); // read in place, every activation is now 0: out is the zero vector
    K.ffnSliced(out, x, ffn, 'swiglu', kept);
    expect(Array.from(out).every((v) => v === 0)).toBe(true);
  });

  it('rejects an out-of-range kept id or a short array on every call, as the in-place path does', () => {
    const K = createNativeCpuBackend('f32').kernels;
    const rng = new Rng(3);
    const ffn = ffnOf(rng, 16, 32, 'swiglu');
    const out = new Float32Array(16);
    const x = normals(rng, 16, 1);
    const kept = Int32Array.of(0, 5, 31);
    for (let call = 1; call <= 3; call++) expect(() => K.ffnSliced(out, x, ffn, 'swiglu', Int32Array.of(0, 5, 32))).toThrow(/neuron id/);
    const shortDown = { ...ffn, downT: ffn.downT.subarray(0, 31 * 16) };
    for (let call = 1; call <= 3; call++) expect(() => K.ffnSliced(out, x, shortDown, 'swiglu', kept)).toThrow(/downT/);
    const relu = ffnOf(rng, 16, 32, 'relu');
    const shortBias = { ...relu, upBias: relu.upBias!.subarray(0, 31) };
    for (let call = 1; call <= 3; call++) expect(() => K.ffnSliced(out, x, shortBias, 'relu', kept)).toThrow(/upBias/);
    for (let call = 1; call <= 3; call++) expect(() => K.ffnSliced(out, x.subarray(0, 15), ffn, 'swiglu', kept)).toThrow(/x/);
  });
});

describe('the addon\'s gatherRows', () => {
  const addon = createRequire(import.meta.url)(path.join(ROOT, NATIVE_CPU_ADDON)) as {
    gatherRows(dst: unknown, src: unknown, kept: unknown, rowLen: number, wt: number): void;
  };
  const rowLen = 37;
  const kept = Int32Array.of(5, 0, 9, 9, 2);

  it('copies the rows the JS copy does, float32 and 16-bit words', () => {
    for (const [src, wt] of [
      [Float32Array.from({ length: 10 * rowLen }, (_, i) => i + 0.5), 0],
      [Uint16Array.from({ length: 10 * rowLen }, (_, i) => i * 3), 1],
    ] as const) {
      const want = new (src.constructor as Float32ArrayConstructor)(kept.length * rowLen);
      const got = new (src.constructor as Float32ArrayConstructor)(kept.length * rowLen);
      copyRowsJs(want, src, kept, rowLen);
      addon.gatherRows(got, src, kept, rowLen, wt);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it('rejects ids past the rows, a short dst and a mismatched type', () => {
    const src = new Float32Array(10 * rowLen);
    expect(() => addon.gatherRows(new Float32Array(2 * rowLen), src, Int32Array.of(0, 10), rowLen, 0)).toThrow(/neuron id/);
    expect(() => addon.gatherRows(new Float32Array(kept.length * rowLen - 1), src, kept, rowLen, 0)).toThrow(/dst/);
    expect(() => addon.gatherRows(new Uint16Array(kept.length * rowLen), src, kept, rowLen, 1)).toThrow(/src/);
    expect(() => addon.gatherRows(new Float32Array(rowLen), src, null, rowLen, 0)).toThrow(/kept/);
  });
});

describe('KeptRowsCache', () => {
  const dim = 4;
  const hidden = 6;
  const src = {
    gate: Uint16Array.from({ length: hidden * dim }, (_, i) => i),
    up: Uint16Array.from({ length: hidden * dim }, (_, i) => 1000 + i),
    downT: Uint16Array.from({ length: hidden * dim }, (_, i) => 2000 + i),
    upBias: null,
  };
  type Src = Parameters<KeptRowsCache['rowsFor']>[1];
  /** One call as the backend makes it: the copy if there is one, else in place (assumed to succeed), then remember. */
  const call = (c: KeptRowsCache, key: object, kept: Int32Array, from: Src = src, d = dim) => {
    const rows = c.rowsFor(key, from, kept, d);
    if (!rows) c.remember(key, from, kept, d);
    return rows;
  };

  it('copies the rows on the second call with the same list, then reuses them', () => {
    const c = new KeptRowsCache();
    const key = {};
    const kept = Int32Array.of(1, 4, 5);
    expect(call(c, key, kept)).toBeNull();
    const rows = call(c, key, kept)!;
    expect(Array.from(rows.up)).toEqual([1004, 1005, 1006, 1007, 1016, 1017, 1018, 1019, 1020, 1021, 1022, 1023]);
    expect(Array.from(rows.gate!.subarray(0, 4))).toEqual([4, 5, 6, 7]);
    expect(Array.from(rows.downT.subarray(8))).toEqual([2020, 2021, 2022, 2023]);
    expect(rows.up).toBeInstanceOf(Uint16Array);
    expect(call(c, key, kept.slice())).toBe(rows);
    expect(c.builds).toBe(1);
  });

  it('copies nothing for a list whose in-place call has not succeeded (remember not called)', () => {
    const c = new KeptRowsCache();
    const key = {};
    const kept = Int32Array.of(1, 4, 5);
    for (let i = 0; i < 3; i++) expect(c.rowsFor(key, src, kept, dim)).toBeNull();
    expect(c.builds).toBe(0);
  });

  it('drops the copy when the list, the arrays or dim change (one copy per FFN)', () => {
    const c = new KeptRowsCache();
    const key = {};
    const kept = Int32Array.of(1, 4, 5);
    call(c, key, kept);
    expect(call(c, key, kept)).not.toBeNull();
    kept[0] = 0;
    expect(call(c, key, kept)).toBeNull();
    expect(Array.from(call(c, key, kept)!.up.subarray(0, 4))).toEqual([1000, 1001, 1002, 1003]);
    const other = { ...src, up: src.up.slice() };
    expect(call(c, key, kept, other)).toBeNull();
    expect(call(c, key, kept, other)).not.toBeNull();
    expect(call(c, key, kept, other, 2)).toBeNull();
    expect(call(c, key, kept, other, 2)!.up.length).toBe(6);
    expect(c.builds).toBe(4);
  });

  it("copies a new list's rows into the previous list's buffers where they fit", () => {
    const c = new KeptRowsCache();
    const key = {};
    const rowsOf = (kept: Int32Array, from: Src = src) => (call(c, key, kept, from), call(c, key, kept, from)!);
    const first = rowsOf(Int32Array.of(0, 2, 4));
    const second = rowsOf(Int32Array.of(3, 5));
    expect(second.up.buffer).toBe(first.up.buffer);
    expect(Array.from(second.up)).toEqual([1012, 1013, 1014, 1015, 1020, 1021, 1022, 1023]);
    expect(Array.from(second.downT)).toEqual([2012, 2013, 2014, 2015, 2020, 2021, 2022, 2023]);
    const third = rowsOf(Int32Array.of(0, 1, 3, 5));
    expect(third.up.buffer).not.toBe(first.up.buffer);
    expect(Array.from(third.gate!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23]);
    // Float32 rows of another FFN object around the same key never land in a Uint16Array buffer.
    const f32 = { gate: null, up: Float32Array.from(src.up), downT: Float32Array.from(src.downT), upBias: Float32Array.of(0, 1, 2, 3, 4, 5) };
    const fourth = rowsOf(Int32Array.of(3, 5), f32);
    expect(fourth.up).toBeInstanceOf(Float32Array);
    expect(Array.from(fourth.up)).toEqual([1012, 1013, 1014, 1015, 1020, 1021, 1022, 1023]);
    expect(Array.from(fourth.upBias!)).toEqual([3, 5]);
    expect(fourth.gate).toBeNull();
  });

  it('never copies for a list that changes on every call', () => {
    const c = new KeptRowsCache();
    const key = {};
    const kept = Int32Array.of(1, 3);
    for (let i = 0; i < 6; i++) {
      kept[1] = 3 + (i % 3);
      expect(call(c, key, kept)).toBeNull();
    }
    expect(c.builds).toBe(0);
  });

  it('reads adjacent and empty lists in place', () => {
    const c = new KeptRowsCache();
    const key = {};
    for (const kept of [Int32Array.of(2, 3, 4), new Int32Array(0)])
      for (let i = 0; i < 3; i++) expect(call(c, key, kept)).toBeNull();
    expect(c.builds).toBe(0);
  });
});
