// Whole decode on a synthetic model of a paper-suite shape: a 32-token prompt, then
// forced decode steps; CPU ms per decode step of the process (from the first generated
// token on, so the copy of the kept rows, made at the second step, is included). Rows
// interleaved round by round: dense, and TDA and Griffin at 0.5 with ffnSliced reading
// the kept rows in place or from the compact copy (createNativeCpuBackend keptRows).
//
//   TDA_NATIVE_THREADS=1 npx tsx scripts/bench-decode-sliced.ts [341m|tinyllama] [f16|f32] [rounds] [decode steps]
//
// The first compact row of a process allocates the copies (later prompts reuse them).
import { createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import { benchSyntheticModel } from '../src/bench/weights.js';
import { PAPER_MODELS } from '../src/bench/run.js';
import { policyAtDensity } from '../src/bench/masks.js';
import { generate } from '../src/reference/generate.js';
import type { Method } from '../src/reference/policies/types.js';

const which = (process.argv[2] ?? '341m') as keyof typeof PAPER_MODELS;
const type = (process.argv[3] ?? 'f16') as WeightType;
const rounds = Number(process.argv[4] ?? 3);
const newTokens = Number(process.argv[5] ?? 24);
const promptLen = 32;
const { label, ...shape } = PAPER_MODELS[which];
const model = benchSyntheticModel({ ...shape, seqLen: promptLen + newTokens + 8 }, 1);
const c = model.config;
const prompt = [1, ...Array.from({ length: promptLen - 1 }, (_, i) => 3 + ((i * 7919 + 11) % (c.vocabSize - 3)))];
const forced = Array.from({ length: newTokens + 1 }, (_, i) => 3 + ((i * 7919 + 29) % (c.vocabSize - 3)));
const backends = { compact: createNativeCpuBackend(type), 'in-place': createNativeCpuBackend(type, { keptRows: 'in-place' }) };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const runOne = (b: keyof typeof backends, method: Method) => {
  let first = 0;
  const r = generate(model, {
    promptTokens: prompt, steps: prompt.length + forced.length, policy: policyAtDensity(model, method, method === 'dense' ? 1 : 0.5),
    kernels: backends[b].kernels, forcedTokens: forced, onToken: () => { if (!first) first = cpu(); },
  });
  return { cpuPerTok: (cpu() - first) / (r.tokens.length - 1), wallPerTok: r.timing.generateMs / (r.tokens.length - 1) };
};
for (const b of Object.keys(backends) as (keyof typeof backends)[])
  generate(model, { promptTokens: [1], steps: 1, policy: policyAtDensity(model, 'dense', 1), kernels: backends[b].kernels, stopTokens: [] });
const variants: [keyof typeof backends, Method][] = [['in-place', 'dense'], ['in-place', 'tda'], ['compact', 'tda'], ['in-place', 'griffin'], ['compact', 'griffin']];
const res = new Map<string, number[]>();
for (let r = 0; r < rounds; r++)
  for (const [b, m] of variants) {
    const t = runOne(b, m);
    const k = `${m} ${b}`;
    if (!res.has(k)) res.set(k, []);
    res.get(k)!.push(t.cpuPerTok);
    console.log(`round ${r} ${k}: ${t.cpuPerTok.toFixed(1)} CPU ms/token, ${t.wallPerTok.toFixed(1)} wall ms/token`);
  }
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const dense = med(res.get('dense in-place')!);
console.log(`${label} ${c.dim}x${c.hiddenDim} L${c.nLayers} ${type}, ${promptLen}-token prompt, ${newTokens} decode steps, threads ${process.env.TDA_NATIVE_THREADS ?? 'default'}`);
for (const [k, v] of res) console.log(`  ${k.padEnd(18)} ${v.map((x) => x.toFixed(1)).join(' / ')}  median ${med(v).toFixed(1)}  dense/this ${(dense / med(v)).toFixed(2)}×`);
