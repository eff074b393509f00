// Run by test/prefill.test.ts in a child process with TDA_NATIVE_ISA=scalar (the ISA is
// chosen when the addon loads): prints whether block prefill on the portable loops
// equals token-by-token prefill on them, as JSON on stdout.
import { createNativeCpuBackend } from '../src/backends/native-cpu/index.js';
import { compareBlockPrefill, tailShapedModel } from './prefill-cases.js';

const b = createNativeCpuBackend();
const results = (['swiglu', 'relu'] as const).map((kind) => ({
  kind,
  ...compareBlockPrefill(tailShapedModel(kind), b.kernels, 5),
}));
process.stdout.write(JSON.stringify({ mode: b.info().mode, results }));
