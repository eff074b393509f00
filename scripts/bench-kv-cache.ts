// Decode at a long context with the KV cache in float32 and in F16, side by side: a
// synthetic model of a paper-suite shape, one decoder per cache type, each prefilled with
// the same prompt (blocks), then decode steps alternated between the two decoders; wall
// ms per step, and the share spent in attention (kernels.attention timed per call).
//
//   npx tsx scripts/bench-kv-cache.ts [341m|tinyllama] [prompt tokens] [decode steps] [f16|f32 weights] [dense|tda]
import { createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import type { Kernels } from '../src/core/kernels.js';
import type { KvType } from '../src/core/kv-cache.js';
import { benchSyntheticModel } from '../src/bench/weights.js';
import { PAPER_MODELS } from '../src/bench/run.js';
import { policyAtDensity } from '../src/bench/masks.js';
import { Decoder } from '../src/reference/decoder.js';
import { prefillPrompt } from '../src/reference/prefill.js';
import type { Method } from '../src/reference/policies/types.js';

const which = (process.argv[2] ?? '341m') as keyof typeof PAPER_MODELS;
const promptLen = Number(process.argv[3] ?? 1536);
const steps = Number(process.argv[4] ?? 64);
const type = (process.argv[5] ?? 'f16') as WeightType;
const method = (process.argv[6] ?? 'tda') as Method;
const { label, ...shape } = PAPER_MODELS[which];
const model = benchSyntheticModel({ ...shape, seqLen: promptLen + steps + 2 }, 1);
const c = model.config;
const prompt = [1, ...Array.from({ length: promptLen - 1 }, (_, i) => 3 + ((i * 7919 + 11) % (c.vocabSize - 3)))];
const base = createNativeCpuBackend(type).kernels;
let attnMs = 0;
const timed: Kernels = {
  ...base,
  attention(...a) {
    const t0 = performance.now();
    base.attention(...a);
    attnMs += performance.now() - t0;
  },
};
const runs = (['f32', 'f16'] as KvType[]).map((kv) => {
  const d = new Decoder(model, timed, { kvCache: kv });
  const policy = policyAtDensity(model, method, method === 'dense' ? 1 : 0.5);
  const t0 = performance.now();
  prefillPrompt(d, prompt, policy);
  policy.endPrompt();
  console.log(`${kv}: prefill ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return { kv, d, policy, ms: [] as number[], attn: [] as number[] };
});
for (let s = 0; s < steps; s++)
  for (const r of runs) {
    attnMs = 0;
    const t0 = performance.now();
    r.d.forward(3 + ((s * 31) % (c.vocabSize - 3)), promptLen + s, 'generate', r.policy);
    r.ms.push(performance.now() - t0);
    r.attn.push(attnMs);
  }
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`${label} ${c.dim}x${c.hiddenDim} L${c.nLayers} ${type} weights, ${method}, ${promptLen}-token prompt, ${steps} decode steps`);
for (const r of runs) console.log(`  KV ${r.kv}: median ${med(r.ms).toFixed(2)} ms/token, attention ${med(r.attn).toFixed(2)} ms`);
console.log(`  f32 / f16: ${(med(runs[0].ms) / med(runs[1].ms)).toFixed(3)}×`);
