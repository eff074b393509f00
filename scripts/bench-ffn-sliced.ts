// Times native-cpu's sliced FFN at one layer shape: all neurons, and half of them kept
// (every other, a random half, a contiguous half, blocks of 8; with --densities, random
// lists of those kept fractions instead), each read in place
// (createNativeCpuBackend(type, { keptRows: 'in-place' })) and from the compact copy of
// the kept rows (the default). CPU time of the process (so run it with
// TDA_NATIVE_THREADS=1 to time one kernel thread), variants interleaved round by round,
// medians; layers are cycled so that each variant's working set is ~10× the 32 MiB L3
// cache (with 3× it, AMD's L3 still served part of a half-size working set, and half
// the neurons measured faster than half the time of all of them).
//
//   TDA_NATIVE_THREADS=1 npx tsx scripts/bench-ffn-sliced.ts [dim] [hidden] [f16|f32|bf16] [rounds] [--densities 0.3,0.9]
//
// On a shared machine only ratios measured in one run mean anything.
import { createRequire } from 'node:module';
import path from 'node:path';
import { NATIVE_CPU_ADDON, createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import { WeightPool } from '../src/bench/weights.js';
import { packageRoot } from '../src/core/package-root.js';
import { type FfnWeights, rememberStoredHalf } from '../src/core/model.js';
import { Rng } from '../src/reference/random.js';

const dim = Number(process.argv[2] ?? 2048);
const hidden = Number(process.argv[3] ?? 5632);
const type = (process.argv[4] ?? 'f16') as WeightType;
const rounds = Number(process.argv[5] ?? 20);
const wordBytes = type === 'f32' ? 4 : 2;
const halfBytes = (3 * hidden * dim * wordBytes) / 2;
const layerCount = Math.max(3, Math.ceil(300e6 / halfBytes));
const callsPerRound = Math.max(layerCount, 8);

const rng = new Rng(1);
const normals = (n: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextNormal() / Math.sqrt(dim);
  return a;
};
// F16/BF16 weights are given as their words only (a loader's wordsOnly arrays), so every
// backend below reads the same words and none holds a converted copy of its own.
const addon = createRequire(import.meta.url)(path.join(packageRoot(), NATIVE_CPU_ADDON)) as {
  convertWeights(src: Float32Array, wt: number): Uint16Array;
};
const pool = new WeightPool(1);
const stored = (w: Float32Array): Float32Array => {
  if (type === 'f32') return w;
  const words = new Float32Array(w.length); // never written
  rememberStoredHalf(words, { type, bits: addon.convertWeights(w, type === 'f16' ? 1 : 2), pending: true });
  return words;
};
const layers: FfnWeights[] = Array.from({ length: layerCount }, () => {
  const f = pool.ffn(dim, hidden);
  return { ...f, gate: stored(f.gate!), up: stored(f.up), downT: stored(f.downT) };
});
const x = normals(dim);
const out = new Float32Array(dim);

const half = hidden >> 1;
const ids = Array.from({ length: hidden }, (_, i) => i);
for (let i = hidden - 1; i > 0; i--) {
  const j = rng.nextInt(i + 1);
  [ids[i], ids[j]] = [ids[j], ids[i]];
}
const randomList = (n: number) => Int32Array.from(ids.slice(0, n).sort((a, b) => a - b));
const densityArg = process.argv.indexOf('--densities');
const lists: Record<string, Int32Array> =
  densityArg > 0
    ? Object.fromEntries(process.argv[densityArg + 1].split(',').map((d) => [`random ${d}`, randomList(Math.round(Number(d) * hidden))]))
    : {
        'every other': Int32Array.from({ length: half }, (_, k) => 2 * k),
        'random half': randomList(half),
        'blocks of 8': Int32Array.from({ length: hidden }, (_, i) => i).filter((i) => (i >> 3) % 2 === 0),
        'contiguous half': Int32Array.from({ length: half }, (_, k) => k),
      };

const inPlace = createNativeCpuBackend(type, { keptRows: 'in-place' }).kernels;
type Variant = { name: string; run: (f: FfnWeights) => void };
const variants: Variant[] = [{ name: 'all neurons', run: (f) => inPlace.ffnSliced(out, x, f, 'swiglu', null) }];
for (const [name, kept] of Object.entries(lists)) {
  variants.push({ name: `${name}, in place`, run: (f) => inPlace.ffnSliced(out, x, f, 'swiglu', kept) });
  // One backend per list: a backend keeps one copy per FFN, for the latest list.
  const compact = createNativeCpuBackend(type).kernels;
  if (name !== 'contiguous half') // one run of adjacent ids: read in place by both
    variants.push({ name: `${name}, compact`, run: (f) => compact.ffnSliced(out, x, f, 'swiglu', kept) });
}
// The one-time cost of a copy: two calls with a list new to this FFN (the first reads
// in place, the second copies the rows and computes on the copy); the list alternates
// per FFN so that every run copies. Copy ≈ this − (first list in place + compact).
{
  const K = createNativeCpuBackend(type).kernels;
  const a = Object.values(lists)[0];
  const b = a.slice().reverse(); // the same rows in another order: a new list, as long
  const flips = new Map<FfnWeights, number>();
  variants.push({
    name: 'new list: 2 calls',
    run: (f) => {
      const n = flips.get(f) ?? 0;
      flips.set(f, n + 1);
      const kept = n % 2 ? b : a;
      K.ffnSliced(out, x, f, 'swiglu', kept);
      K.ffnSliced(out, x, f, 'swiglu', kept);
    },
  });
}
// Warm-up: the F16/BF16 conversion of every matrix, and the compact copies (second call).
for (const v of variants) for (const f of layers) for (let c = 0; c < 2; c++) v.run(f);

const times = new Map(variants.map((v) => [v.name, [] as number[]]));
const keptOf = (name: string) => lists[Object.keys(lists).find((l) => name.startsWith(`${l},`)) ?? ''];
for (let r = 0; r < rounds; r++)
  for (const v of variants) {
    const t0 = process.cpuUsage();
    for (let c = 0; c < callsPerRound; c++) v.run(layers[c % layerCount]);
    const t = process.cpuUsage(t0);
    times.get(v.name)!.push((t.user + t.system) / 1000 / callsPerRound);
  }

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const dense = median(times.get('all neurons')!);
console.log(
  `ffnSliced swiglu dim ${dim} hidden ${hidden} ${type}, ${layerCount} layers cycled, ${rounds} rounds × ${callsPerRound} calls, ` +
    `threads ${process.env.TDA_NATIVE_THREADS ?? 'default'}; CPU ms per call (median), speed-up over all neurons (ceiling hidden / kept)`,
);
for (const [name, t] of times) {
  const ms = median(t);
  const kept = keptOf(name);
  const bytes = name === 'all neurons' ? 2 * halfBytes : name.startsWith('new list') ? NaN : (2 * halfBytes * (kept?.length ?? half)) / hidden;
  console.log(`  ${name.padEnd(26)} ${ms.toFixed(3).padStart(7)} ms  ${(dense / ms).toFixed(2)}×  ${(bytes / ms / 1e6).toFixed(1)} GB/s`);
}
