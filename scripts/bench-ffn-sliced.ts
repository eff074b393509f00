// Times native-cpu's sliced FFN at one layer shape: all neurons, and half of them kept
// (every other, a random half, a contiguous half, blocks of 8), each read in place
// (createNativeCpuBackend(type, { keptRows: 'in-place' })) and from the compact copy of
// the kept rows (the default). CPU time of the process (so run it with
// TDA_NATIVE_THREADS=1 to time one kernel thread), variants interleaved round by round,
// medians; layers are cycled so that each variant's working set exceeds the L3 cache.
//
//   TDA_NATIVE_THREADS=1 npx tsx scripts/bench-ffn-sliced.ts [dim] [hidden] [f16|f32|bf16] [rounds]
//
// On a shared machine only ratios measured in one run mean anything.
import { createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import type { FfnWeights } from '../src/core/model.js';
import { Rng } from '../src/reference/random.js';

const dim = Number(process.argv[2] ?? 2048);
const hidden = Number(process.argv[3] ?? 5632);
const type = (process.argv[4] ?? 'f16') as WeightType;
const rounds = Number(process.argv[5] ?? 20);
const wordBytes = type === 'f32' ? 4 : 2;
const halfBytes = (3 * hidden * dim * wordBytes) / 2;
const layerCount = Math.max(3, Math.ceil(100e6 / halfBytes)); // > 3× a 32 MiB L3 per variant
const callsPerRound = Math.max(layerCount, 8);

const rng = new Rng(1);
const normals = (n: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextNormal() / Math.sqrt(dim);
  return a;
};
const layers: FfnWeights[] = Array.from({ length: layerCount }, () => ({
  gate: normals(hidden * dim), up: normals(hidden * dim), downT: normals(hidden * dim), upBias: null, downBias: null,
}));
const x = normals(dim);
const out = new Float32Array(dim);

const half = hidden >> 1;
const ids = Array.from({ length: hidden }, (_, i) => i);
for (let i = hidden - 1; i > 0; i--) {
  const j = rng.nextInt(i + 1);
  [ids[i], ids[j]] = [ids[j], ids[i]];
}
const lists: Record<string, Int32Array> = {
  'every other': Int32Array.from({ length: half }, (_, k) => 2 * k),
  'random half': Int32Array.from(ids.slice(0, half).sort((a, b) => a - b)),
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
// per FFN so that every run copies. Copy ≈ this − (random half in place + compact).
{
  const K = createNativeCpuBackend(type).kernels;
  const [a, b] = [lists['random half'], lists['every other']];
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
    `threads ${process.env.TDA_NATIVE_THREADS ?? 'default'}; CPU ms per call (median), speed-up over all neurons (ceiling 2.00× at half)`,
);
for (const [name, t] of times) {
  const ms = median(t);
  const bytes = name === 'all neurons' ? 2 * halfBytes : halfBytes;
  console.log(`  ${name.padEnd(26)} ${ms.toFixed(3).padStart(7)} ms  ${(dense / ms).toFixed(2)}×  ${(bytes / ms / 1e6).toFixed(1)} GB/s`);
}
