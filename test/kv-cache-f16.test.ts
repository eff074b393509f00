// The F16 KV cache (src/core/kv-cache.ts): K/V rows rounded to nearest-even half when
// written, widened exactly when read. Checked against an independent statement of that
// rule: a float32 cache whose rows are rounded in place with roundFp16 (the conformance
// module's own rounding, src/conformance/fp.ts, written apart from the F16 encoder the
// cache uses) before every attention call must give the same logits, bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNativeCpuBackend } from '../src/backends/native-cpu/index.js';
import { roundFp16 } from '../src/conformance/fp.js';
import type { AttentionShape, Kernels } from '../src/core/kernels.js';
import { allocKv, type KvRows, toF16Kv, widenKv, writeKvRow } from '../src/core/kv-cache.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { Decoder } from '../src/reference/decoder.js';
import { generate } from '../src/reference/generate.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { griffinPolicy } from '../src/reference/policies/griffin.js';
import { prefillLayerWith, layerShape } from '../src/reference/prefill.js';
import { Rng } from '../src/reference/random.js';
import { syntheticModel } from '../src/reference/synthetic.js';
import { UserError } from '../src/errors.js';
import { stories } from './helpers.js';

const nativeF32 = createNativeCpuBackend('f32').kernels;
const nativeF16 = createNativeCpuBackend('f16').kernels;

function normals(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextNormal() * scale;
  return a;
}

/** Kernels on a float32 cache that round its rows 0..pos to F16 (roundFp16) before each attention call. */
function roundingBeforeAttention(base: Kernels): Kernels {
  return {
    ...base,
    kvCacheTypes: ['f32'],
    prefillLayer: undefined, // the per-token composition, so every attention call goes through the rounding
    attentionBlock: undefined,
    attention(out, q, kc, vc, pos, s) {
      for (const c of [kc, vc] as Float32Array[]) for (let i = 0; i < (pos + 1) * s.kvDim; i++) c[i] = roundFp16(c[i]);
      base.attention(out, q, kc, vc, pos, s);
    },
  };
}

describe('writing a KV row', () => {
  it('an F16 cache holds each value rounded to nearest even (ties included), a float32 cache the value itself', () => {
    const ulp = 2 ** -10;
    const values = Float32Array.from([0, -0, 1, 1 + ulp / 2, 1 + (3 * ulp) / 2, 1 + ulp / 2 + 2 ** -20, -3.14159, 65504, 65519, 6e-8, 2 ** -25, 1e-30]);
    const rng = new Rng(3);
    const all = Float32Array.from([...values, ...normals(rng, 2000, 30)]);
    const half = allocKv('f16', all.length);
    writeKvRow(half, 0, all);
    const widened = widenKv(half);
    for (let i = 0; i < all.length; i++) expect(Object.is(widened[i], roundFp16(all[i])) || widened[i] === roundFp16(all[i]), `value ${all[i]}`).toBe(true);
    const full = allocKv('f32', all.length);
    writeKvRow(full, 0, all);
    expect(Array.from(full)).toEqual(Array.from(all));
  });

  it('a value beyond F16 range is refused with a clear error, not stored as an infinity', () => {
    const half = allocKv('f16', 4);
    expect(() => writeKvRow(half, 0, Float32Array.of(1, 65520, 2, 3))).toThrow(UserError);
    expect(() => writeKvRow(half, 0, Float32Array.of(1, -1e6, 2, 3))).toThrow(/does not fit the F16 KV cache.*--kv-cache f32/);
    expect(() => writeKvRow(half, 0, Float32Array.of(65519, -65519))).not.toThrow(); // rounds down to 65504
  });
});

describe('attention over an F16 cache computes attention over its widening, bit for bit', () => {
  const shapes = fc.record({
    nKvHeads: fc.integer({ min: 1, max: 3 }),
    group: fc.constantFrom(1, 2, 4),
    headSize: fc.constantFrom(2, 6, 8, 16, 34, 64),
    pos: fc.integer({ min: 0, max: 70 }),
    seed: fc.integer({ min: 1, max: 1e6 }),
  });
  for (const [name, K] of [['reference', referenceKernels], ['native-cpu', nativeF32], ['native-cpu-f16', nativeF16]] as const) {
    it(name, () => {
      fc.assert(
        fc.property(shapes, ({ nKvHeads, group, headSize, pos, seed }) => {
          const rng = new Rng(seed);
          const s: AttentionShape = { nHeads: nKvHeads * group, nKvHeads, headSize, kvDim: nKvHeads * headSize };
          const n = (pos + 1) * s.kvDim;
          const kc = toF16Kv(normals(rng, n, 2));
          const vc = toF16Kv(normals(rng, n));
          const q = normals(rng, s.nHeads * headSize);
          const got = new Float32Array(q.length);
          const want = new Float32Array(q.length);
          K.attention(got, q, kc, vc, pos, s);
          K.attention(want, q, widenKv(kc), widenKv(vc), pos, s);
          expect(Array.from(got)).toEqual(Array.from(want));
        }),
        { numRuns: 60, seed: 11 },
      );
    });
  }

  it('native-cpu refuses a key cache and a value cache of different types', () => {
    const s: AttentionShape = { nHeads: 1, nKvHeads: 1, headSize: 2, kvDim: 2 };
    expect(() => nativeF32.attention(new Float32Array(2), new Float32Array(2), new Uint16Array(2), new Float32Array(2), 0, s)).toThrow(/same type/);
  });
});

describe('decoders with an F16 cache', () => {
  it('keep the cache type their kernels declare first, and refuse one the kernels do not accept', () => {
    const model = syntheticModel({ dim: 16, hiddenDim: 32, nLayers: 1, nHeads: 2, vocabSize: 8, seqLen: 8 }, 1);
    expect(new Decoder(model, nativeF16).kvCache).toBe('f16');
    expect(new Decoder(model, nativeF16).keyCache[0]).toBeInstanceOf(Uint16Array);
    expect(new Decoder(model, nativeF32).kvCache).toBe('f32');
    expect(new Decoder(model, referenceKernels).kvCache).toBe('f32');
    expect(new Decoder(model, nativeF16, { kvCache: 'f32' }).keyCache[0]).toBeInstanceOf(Float32Array);
    expect(new Decoder(model, referenceKernels, { kvCache: 'f16' }).keyCache[0]).toBeInstanceOf(Uint16Array);
    const f32Only: Kernels = { ...referenceKernels, kvCacheTypes: undefined };
    expect(() => new Decoder(model, f32Only, { kvCache: 'f16' })).toThrow(UserError);
  });

  // Prefill (batched on native-cpu: its prefillLayer rounds rows itself), then generation
  // with a fixed mask, against the float32 cache rounded in place before every attention call.
  const model = syntheticModel({ dim: 64, hiddenDim: 160, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 48, seqLen: 40 }, 7);
  const prompt = [1, 5, 9, 13, 2, 40, 41, 7, 3, 22, 30, 11];
  for (const [name, K] of [['reference', referenceKernels], ['native-cpu', nativeF32], ['native-cpu-f16', nativeF16]] as const) {
    for (const method of ['dense', 'griffin'] as const) {
      it(`${name}, ${method}: logits equal the float32 cache rounded in place, bit for bit`, () => {
        const policy = () => (method === 'dense' ? densePolicy() : griffinPolicy(model, 0.5));
        const run = (k: Kernels, kvCache: 'f32' | 'f16') =>
          generate(model, { promptTokens: prompt, steps: 30, policy: policy(), kernels: k, kvCache, keepLogits: true, stopTokens: [] });
        const f16 = run(K, 'f16');
        const rounded = run(roundingBeforeAttention(K), 'f32');
        expect(f16.tokens).toEqual(rounded.tokens);
        expect(f16.logits!.map((l) => Array.from(l))).toEqual(rounded.logits!.map((l) => Array.from(l)));
        // And the rounding is real: the float32 cache gives other logits.
        const plain = run(K, 'f32');
        expect(plain.logits!.some((l, i) => l.some((v, j) => v !== f16.logits![i][j]))).toBe(true);
      });
    }
  }

  it('native-cpu-f16 prefillLayer on an F16 cache equals its per-token kernels, bit for bit (x, activations, cache words)', () => {
    const c = model.config;
    const s = layerShape(c);
    const layer = model.weights.layers[1];
    const rng = new Rng(5);
    const pos0 = 5;
    const count = 9;
    const prior = toF16Kv(normals(rng, pos0 * s.kvDim));
    const run = (f: NonNullable<Kernels['prefillLayer']>) => {
      const x = normals(new Rng(9), count * c.dim);
      const a = new Float32Array(count * c.hiddenDim);
      const kc = allocKv('f16', c.seqLen * s.kvDim) as Uint16Array;
      const vc = allocKv('f16', c.seqLen * s.kvDim) as Uint16Array;
      kc.set(prior);
      vc.set(prior.map((w) => w ^ 0x8000));
      f(x, a, layer, kc, vc, pos0, count, s);
      return { x: Array.from(x), a: Array.from(a), kc: Array.from(kc), vc: Array.from(vc) };
    };
    const got = run(nativeF16.prefillLayer!.bind(nativeF16));
    const want = run(prefillLayerWith(nativeF16));
    expect(got).toEqual(want);
    expect(got.kc.slice(pos0 * s.kvDim, (pos0 + count) * s.kvDim).some((w) => w !== 0)).toBe(true);
  });

  // native-cpu's single-token attention streams the cache by positions (phases over rows,
  // threads engaged from about 1,000 positions here), its prefillLayer runs one head at a
  // time; its single-token down projection shares 1,100 neurons between threads by groups
  // of 64 rows, the prefill's rowSumBlock by columns: all must give the same bits, at long
  // contexts too, for both cache types.
  for (const kv of ['f32', 'f16'] as const) {
    it(`native-cpu prefillLayer at 1,500 positions equals the per-token kernels, bit for bit (${kv} cache)`, () => {
      const big = syntheticModel({ dim: 1024, hiddenDim: 1100, nLayers: 1, nHeads: 16, nKvHeads: 4, vocabSize: 4, seqLen: 1504 }, 3);
      const s = layerShape(big.config);
      const rng = new Rng(8);
      const pos0 = 1500;
      const count = 3;
      const prior = normals(rng, pos0 * s.kvDim);
      const run = (f: NonNullable<Kernels['prefillLayer']>) => {
        const x = normals(new Rng(4), count * s.dim);
        const a = new Float32Array(count * s.hiddenDim);
        const kc = allocKv(kv, big.config.seqLen * s.kvDim);
        const vc = allocKv(kv, big.config.seqLen * s.kvDim);
        writeKvRow(kc, 0, prior);
        writeKvRow(vc, 0, prior.map((v) => -0.5 * v));
        f(x, a, big.weights.layers[0], kc, vc, pos0, count, s);
        return { x: Array.from(x), a: Array.from(a), kc: Array.from(widenKv(kc).subarray(pos0 * s.kvDim)) };
      };
      expect(run(nativeF32.prefillLayer!.bind(nativeF32))).toEqual(run(prefillLayerWith(nativeF32)));
    });
  }

  it('a key beyond F16 range ends generation with the one-line overflow error, in the batched prefill and token by token', () => {
    const m = syntheticModel({ dim: 32, hiddenDim: 48, nLayers: 1, nHeads: 2, vocabSize: 8, seqLen: 16 }, 2);
    m.weights.layers[0].wk = m.weights.layers[0].wk.map((w) => w * 1e5); // keys of order 1e5 > 65504
    // native-cpu (float32 weights: an F16 backend could not hold these weights either) rounds
    // the rows in its own prefillLayer; the reference, token by token, in writeKvRow.
    for (const [K, prefillBlock] of [[nativeF32, undefined], [referenceKernels, 1]] as const) {
      expect(() => generate(m, { promptTokens: [1, 2, 3, 4], steps: 6, policy: densePolicy(), kernels: K, kvCache: 'f16', prefillBlock })).toThrow(
        /numerical overflow: a key or value .* does not fit the F16 KV cache/,
      );
    }
    // The float32 cache holds them.
    expect(() => generate(m, { promptTokens: [1, 2, 3, 4], steps: 6, policy: densePolicy(), kernels: nativeF32, kvCache: 'f32' })).not.toThrow();
  });

  it('stories260K on native-cpu-f16: the F16 cache holds half the bytes and generation stays in step with the float32 cache', () => {
    const { model: m } = stories();
    const prompt = [1, 403, 407, 261, 378, 32];
    const half = generate(m, { promptTokens: prompt, steps: 64, policy: densePolicy(), kernels: nativeF16 });
    const full = generate(m, { promptTokens: prompt, steps: 64, policy: densePolicy(), kernels: nativeF16, kvCache: 'f32' });
    const d = new Decoder(m, nativeF16);
    const bytes = (rows: KvRows[]) => rows.reduce((n, r) => n + r.byteLength, 0);
    expect(bytes(d.keyCache) * 2).toBe(bytes(new Decoder(m, nativeF16, { kvCache: 'f32' }).keyCache));
    // Greedy decoding of a 260K-parameter model: the first tokens agree (an outside
    // expectation of a small perturbation, not a tolerance on logits).
    expect(half.tokens.slice(0, 8)).toEqual(full.tokens.slice(0, 8));
  });
});
