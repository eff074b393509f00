// The `tda` commands, by name; each module registers its command on the commander
// program. They are imported lazily: a command pulls in what it needs (plotting,
// property testing, GGUF parsing, bundling …) and `tda generate` should not wait for
// the libraries of `tda spec`.
import type { Command } from 'commander';

type Register = (program: Command) => void;

export const COMMANDS: Record<string, () => Promise<Register>> = {
  generate: () => import('./generate.js').then((m) => m.generateCommand),
  calibrate: () => import('./calibrate.js').then((m) => m.calibrateCommand),
  compare: () => import('./compare.js').then((m) => m.compareCommand),
  spec: () => import('./spec.js').then((m) => m.specCommand),
  conformance: () => import('./conformance.js').then((m) => m.conformanceCommand),
  bench: () => import('./bench.js').then((m) => m.benchCommand),
  vectors: () => import('./vectors.js').then((m) => m.vectorsCommand),
  serve: () => import('./serve.js').then((m) => m.serveCommand),
};
