// One export per `tda` command; each registers itself on the commander program.
export { generateCommand } from './generate.js';
