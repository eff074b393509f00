// The paper suite's rows in another order: each row of `tda bench --suite paper` is one
// generate() call (prompt prefilled in blocks, masks fixed, forced new tokens), run here in
// the order given on the command line, so a first-row effect shows as a gap between two
// runs of the same method.
//
//   npx tsx scripts/bench-row-order.ts [f16|f32] [prompt] [new tokens] dense tt dense tt …
import { createNativeCpuBackend, type WeightType } from '../src/backends/native-cpu/index.js';
import { benchSyntheticModel } from '../src/bench/weights.js';
import { DEFAULT_SYNTHETIC } from '../src/bench/run.js';
import { policyAtDensity, ttAtDensity } from '../src/bench/masks.js';
import { generate } from '../src/reference/generate.js';
import { ttPolicy } from '../src/reference/policies/tt.js';
import type { Method } from '../src/reference/policies/types.js';

const type = (process.argv[2] ?? 'f16') as WeightType;
const promptTokens = Number(process.argv[3] ?? 1024);
const newTokens = Number(process.argv[4] ?? 1024);
const order = process.argv.slice(5) as Method[];
const model = benchSyntheticModel({ ...DEFAULT_SYNTHETIC, seqLen: promptTokens + newTokens + 1 }, 1);
const c = model.config;
const list = (n: number, salt: number) => Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + salt) % (c.vocabSize - 3)));
const prompt = [1, ...list(promptTokens - 1, 11)];
const forced = list(newTokens + 1, 29);
const b = createNativeCpuBackend(type);
generate(model, { promptTokens: [1], steps: 1, policy: policyAtDensity(model, 'dense', 1), kernels: b.kernels, stopTokens: [] });
for (const method of order) {
  let policy = policyAtDensity(model, method, method === 'dense' ? 1 : 0.5);
  if (method === 'tt') {
    const cal = ttAtDensity(model, 0.5);
    generate(model, { promptTokens: prompt, steps: prompt.length, policy: cal, kernels: b.kernels, stopTokens: [] });
    policy = ttPolicy(model, cal.thresholds()!);
  }
  const r = generate(model, { promptTokens: prompt, steps: prompt.length + forced.length, policy, kernels: b.kernels, forcedTokens: forced });
  console.log(`${b.name} ${method}: prefill ${(r.timing.prefillMs / 1000).toFixed(2)} s, decode ${(r.timing.generateMs / 1000).toFixed(2)} s, total ${((r.timing.prefillMs + r.timing.generateMs) / 1000).toFixed(2)} s, KV ${r.kvCache}`);
}
