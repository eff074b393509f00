// Shared experiment for Claim 1's consequences: train tiny ReLU and SwiGLU networks on the
// same synthetic task with plain full-batch gradient descent and record activation sparsity
// (three definitions, see activationSparsity) and the mean positive pre-activation over
// training. Memoised by (seed, heavy) because two claim checks read it.

import { Rng } from './rng.js';
import { initTinyNet, teacherDataset, trainTiny, type TrainTrace } from './tinynet.js';

export interface SparsityExperiment {
  config: { dIn: number; dFf: number; dOut: number; nTrain: number; nHeld: number; steps: number; lr: number; seeds: number };
  /** traces[act][seedIndex] */
  traces: Record<'relu' | 'swiglu', TrainTrace[]>;
}

const cache = new Map<string, SparsityExperiment>();

export function sparsityExperiment(seed: number, heavy: boolean, progress?: (msg: string, f?: number) => void): SparsityExperiment {
  const key = `${seed}/${heavy}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const config = heavy
    ? { dIn: 16, dFf: 64, dOut: 8, nTrain: 1024, nHeld: 256, steps: 1000, lr: 0.5, seeds: 8 }
    : { dIn: 8, dFf: 32, dOut: 4, nTrain: 384, nHeld: 128, steps: 300, lr: 0.5, seeds: 6 };
  const traces: SparsityExperiment['traces'] = { relu: [], swiglu: [] };
  const root = new Rng(seed).fork('sparsity-training');
  for (let s = 0; s < config.seeds; s++) {
    const r = root.fork(`seed-${s}`);
    const teacher = initTinyNet('relu', config.dIn, 32, config.dOut, r.fork('teacher'), 2);
    const train = teacherDataset(r.fork('train'), teacher, config.nTrain);
    const held = teacherDataset(r.fork('held'), teacher, config.nHeld);
    for (const act of ['relu', 'swiglu'] as const) {
      progress?.(`training tiny ${act} net ${s + 1}/${config.seeds}`, (2 * s + (act === 'relu' ? 0 : 1)) / (2 * config.seeds));
      const net = initTinyNet(act, config.dIn, config.dFf, config.dOut, r.fork(`init-${act}`));
      traces[act].push(trainTiny(net, train, held, config.steps, config.lr, Math.max(1, Math.floor(config.steps / 10))));
    }
  }
  const exp = { config, traces };
  cache.set(key, exp);
  return exp;
}
