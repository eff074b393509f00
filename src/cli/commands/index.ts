// One export per `tda` command; each registers itself on the commander program.
export { generateCommand } from './generate.js';
export { calibrateCommand } from './calibrate.js';
export { compareCommand } from './compare.js';
export { specCommand } from './spec.js';
export { conformanceCommand } from './conformance.js';
export { benchCommand } from './bench.js';
export { vectorsCommand } from './vectors.js';
export { serveCommand } from './serve.js';
