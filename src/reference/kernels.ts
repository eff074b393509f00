// The reference kernels: the plain-loop implementations of src/reference/ gathered
// behind the kernel contract. They are the decoder's default and the measure every
// other backend is checked against.

import type { Kernels } from '../core/kernels.js';
import { attentionStep } from './attention.js';
import { ffnActivations, ffnDown, ffnSliced } from './ffn.js';
import { layernorm, matvec, rmsnorm, rope, ropeHalves, ropeWithFreqs } from './math.js';

export const referenceKernels: Kernels = {
  // Either cache type: the decoder keeps float32 unless asked for F16 (src/core/kv-cache.ts).
  kvCacheTypes: ['f32', 'f16'],
  matvec,
  rmsnorm,
  rope,
  ropeHalves,
  ropeWithFreqs,
  layernorm,
  attention: attentionStep,
  ffnActivations,
  ffnDown,
  ffnSliced,
};
