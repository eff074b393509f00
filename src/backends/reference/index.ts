// The reference backend: the pure TypeScript kernels of src/reference/, exposed
// through the backend interface. Every other backend is measured against this one.

import os from 'node:os';
import { attentionStep } from '../../reference/attention.js';
import { ffnActivations, ffnDown, ffnSliced } from '../../reference/ffn.js';
import { matvec, rmsnorm, rope } from '../../reference/math.js';
import type { Backend, Kernels } from '../types.js';

export const referenceKernels: Kernels = {
  matvec,
  rmsnorm,
  rope,
  attention: attentionStep,
  ffnActivations,
  ffnDown,
  ffnSliced,
};

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
