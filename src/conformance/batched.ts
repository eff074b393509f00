// The fused-entry checks: a backend's Kernels.prefillLayer (and Kernels.attentionBlock)
// against the same layer run through that backend's own per-token kernels in the order
// of src/reference/prefill.ts, prefillLayerWith (src/reference/attention-block.ts,
// attentionBlockWith), on fast-check-generated layers.
//
// Tolerance: 0 — every output (the residual stream, the activations shown to the
// policy, the K/V cache rows) must be bit-identical. Why exact, not a float bound:
// TDA and Griffin threshold statistics of these activations, and a mask must not
// depend on whether the prompt went through in blocks or token by token (issue: "the
// same masks as token-by-token prefill"); any rounding difference can move a neuron
// across its threshold. The per-token kernels themselves are checked against the
// reference by src/conformance/kernels.ts, so equality here carries their bounds over
// to the batched path.

import fc from 'fast-check';
import type { Kernels } from '../core/kernels.js';
import { acceptedKvTypes, allocKv, type KvRows, type KvType, kvTypeOf, widenKv, writeKvRow } from '../core/kv-cache.js';
import { FFN_KINDS, type FfnKind } from '../core/model.js';
import { Rng } from '../reference/random.js';
import { attentionBlockWith } from '../reference/attention-block.js';
import { layerShape, prefillLayerWith } from '../reference/prefill.js';
import { syntheticModel } from '../reference/synthetic.js';
import type { ReportRow } from './report.js';
import { type CheckContext, runProperty } from './kernels.js';
import { type CaseResult, compare } from './judge.js';
import { fill, seedArb } from './values.js';

interface PrefillCase {
  /** The KV cache's type: each one the kernels accept (kvCacheTypes) is checked. */
  kv: KvType;
  headSize: number;
  nKvHeads: number;
  group: number;
  hidden: number;
  kind: FfnKind;
  pos0: number;
  count: number;
  seed: number;
}

const TOLERANCE = 'exact (bit-identical to the per-token kernels)';

/** Attention shapes of both checks: even head sizes up to 24, up to 3 KV heads, GQA groups up to 3. */
const HEADS = {
  headSize: fc.integer({ min: 1, max: 12 }).map((h) => 2 * h),
  nKvHeads: fc.integer({ min: 1, max: 3 }),
  group: fc.integer({ min: 1, max: 3 }),
};

function runCase(K: Kernels, c: PrefillCase): CaseResult {
  const nHeads = c.nKvHeads * c.group;
  const model = syntheticModel(
    { dim: nHeads * c.headSize, hiddenDim: c.hidden, nLayers: 1, nHeads, nKvHeads: c.nKvHeads, vocabSize: 2, seqLen: c.pos0 + c.count, ffnKind: c.kind },
    c.seed,
  );
  const s = layerShape(model.config);
  const layer = model.weights.layers[0];
  const rng = new Rng(c.seed + 1);
  const x0 = fill(rng, c.count * s.dim, 'normal');
  // Cache rows before pos0 hold earlier tokens' K/V; the rows of the block are written by the call.
  const kc0 = cacheOf(c.kv, c.pos0 + c.count, s.kvDim, fill(rng, c.pos0 * s.kvDim, 'normal'));
  const vc0 = cacheOf(c.kv, c.pos0 + c.count, s.kvDim, fill(rng, c.pos0 * s.kvDim, 'normal'));
  const run = (f: NonNullable<Kernels['prefillLayer']>) => {
    const x = x0.slice();
    const a = new Float32Array(c.count * s.hiddenDim).fill(NaN);
    const kc = kc0.slice();
    const vc = vc0.slice();
    f(x, a, layer, kc, vc, c.pos0, c.count, s);
    return { x, a, kc, vc };
  };
  const got = run(K.prefillLayer!.bind(K));
  const want = run(prefillLayerWith(K));
  return exactly(got, want, `(${c.kind}, pos0 ${c.pos0}, ${c.count} tokens)`);
}

/** A cache of `rows` rows of type kv, its first rows holding `earlier` (rounded to F16 for an F16 cache). */
function cacheOf(kv: KvType, rows: number, kvDim: number, earlier: Float32Array): KvRows {
  const cache = allocKv(kv, rows * kvDim);
  writeKvRow(cache, 0, earlier);
  return cache;
}

/**
 * The first output (x, a, keyCache, valueCache) that is not bit-identical, or a pass.
 * F16 cache words are compared as their values (distinct words are distinct values).
 */
function exactly(got: Record<string, Float32Array | KvRows>, want: Record<string, Float32Array | KvRows>, where: string): CaseResult {
  const names: Record<string, string> = { x: 'x', a: 'a', kc: 'keyCache', vc: 'valueCache' };
  for (const key of Object.keys(want)) {
    const res = compare(widenKv(got[key]), widenKv(want[key]), new Float64Array(want[key].length), `${names[key]} ${where} (${kvTypeOf(want[key]).toUpperCase()} values)`);
    if (res.fail) return res;
  }
  return { maxAbs: 0, maxRatio: 0 };
}

/**
 * The batched prefill row of a conformance report; null when the backend has no
 * prefillLayer (its prefill runs the per-token kernels, which the kernel checks cover).
 */
export function checkPrefillLayer(K: Kernels, ctx: CheckContext): ReportRow | null {
  if (!K.prefillLayer) return null;
  const arb = fc.record({
    kv: fc.constantFrom(...acceptedKvTypes(K)),
    ...HEADS,
    hidden: fc.integer({ min: 1, max: 80 }),
    kind: fc.constantFrom<FfnKind>(...FFN_KINDS),
    pos0: fc.integer({ min: 0, max: 9 }),
    count: fc.integer({ min: 1, max: 9 }),
    seed: seedArb,
  });
  const examples: PrefillCase[] = [
    // Tails of every native loop (dim 84, 203 neurons), grouped KV heads, threaded sizes.
    ...acceptedKvTypes(K).flatMap((kv): PrefillCase[] => [
      { kv, headSize: 14, nKvHeads: 2, group: 3, hidden: 203, kind: 'swiglu', pos0: 5, count: 8, seed: 1 },
      { kv, headSize: 14, nKvHeads: 2, group: 3, hidden: 203, kind: 'relu', pos0: 0, count: 7, seed: 2 },
    ]),
  ];
  if (!ctx.quick) examples.push({ kv: acceptedKvTypes(K)[0], headSize: 64, nKvHeads: 4, group: 4, hidden: 2816, kind: 'swiglu', pos0: 30, count: 64, seed: 3 });
  return runProperty(ctx, 'kernel prefillLayer', TOLERANCE, arb, examples, (c: PrefillCase) => runCase(K, c));
}

interface BlockCase {
  kv: KvType;
  headSize: number;
  nKvHeads: number;
  group: number;
  pos: number;
  seed: number;
}

function runBlockCase(K: Kernels, c: BlockCase): CaseResult {
  const nHeads = c.nKvHeads * c.group;
  const model = syntheticModel(
    { dim: nHeads * c.headSize, hiddenDim: 4, nLayers: 1, nHeads, nKvHeads: c.nKvHeads, vocabSize: 2, seqLen: c.pos + 1, ffnKind: 'swiglu' },
    c.seed,
  );
  const s = layerShape(model.config);
  const layer = model.weights.layers[0];
  const rng = new Rng(c.seed + 1);
  const x0 = fill(rng, s.dim, 'normal');
  // Rows before pos hold earlier tokens' K/V; row pos is written by the call.
  const kc0 = cacheOf(c.kv, c.pos + 1, s.kvDim, fill(rng, c.pos * s.kvDim, 'normal'));
  const vc0 = cacheOf(c.kv, c.pos + 1, s.kvDim, fill(rng, c.pos * s.kvDim, 'normal'));
  const run = (f: NonNullable<Kernels['attentionBlock']>) => {
    const x = x0.slice();
    const kc = kc0.slice();
    const vc = vc0.slice();
    f(x, layer, kc, vc, c.pos, s);
    return { x, kc, vc };
  };
  const got = run(K.attentionBlock!.bind(K));
  const want = run(attentionBlockWith(K));
  return exactly(got, want, `(pos ${c.pos})`);
}

/**
 * The fused attention block row of a conformance report; null when the backend has no
 * attentionBlock. Exact for the same reason as prefillLayer: the decoder uses the block
 * in prefill too, where its output feeds the activations that the masks threshold.
 */
export function checkAttentionBlock(K: Kernels, ctx: CheckContext): ReportRow | null {
  if (!K.attentionBlock) return null;
  const arb = fc.record({
    kv: fc.constantFrom(...acceptedKvTypes(K)),
    ...HEADS,
    pos: fc.integer({ min: 0, max: 20 }),
    seed: seedArb,
  });
  const examples: BlockCase[] = [
    ...acceptedKvTypes(K).flatMap((kv): BlockCase[] => [
      { kv, headSize: 14, nKvHeads: 2, group: 3, pos: 0, seed: 1 },
      { kv, headSize: 14, nKvHeads: 2, group: 3, pos: 13, seed: 2 },
    ]),
  ];
  if (!ctx.quick) examples.push({ kv: acceptedKvTypes(K)[0], headSize: 64, nKvHeads: 4, group: 4, pos: 100, seed: 3 });
  return runProperty(ctx, 'kernel attentionBlock', TOLERANCE, arb, examples, (c: BlockCase) => runBlockCase(K, c));
}
