#!/usr/bin/env node
// Entry point of the `tda` command. An installed package runs its compiled
// JavaScript (dist/); a source checkout (src/ present) runs the TypeScript through
// tsx's loader, so the command works right after `npm ci` with no build step.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
// TDA_CLI_FROM=dist runs the compiled JavaScript even in a source checkout: the test
// suite builds dist/ once and starts the command from it, three times cheaper than tsx.
const fromDist = process.env.TDA_CLI_FROM === 'dist';
let main;
if (existsSync(source) && !fromDist) {
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
  globalThis[Symbol.for('tda-kit.tsx-enabled')] = true;
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/src/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
