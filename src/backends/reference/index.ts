// The reference backend: the pure TypeScript kernels of src/reference/, exposed
// through the backend interface. Every other backend is measured against this one.

import os from 'node:os';
import type { Backend } from '../../core/kernels.js';
import { referenceKernels } from '../../reference/kernels.js';

export { referenceKernels };

export const referenceBackend: Backend = {
  name: 'reference',
  kernels: referenceKernels,
  info: () => ({
    engine: 'typescript',
    mode: 'float32 storage, float64 accumulation',
    device: os.cpus()[0]?.model.trim() ?? 'cpu',
    threads: 1,
    simd: false,
    precision: 'fp32',
  }),
};
