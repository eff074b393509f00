// The `tda` command line: thin. Each command lives in src/cli/commands/<name>.ts,
// parses its options and calls the library; no logic a library user would need
// lives only here.
//
// One contract for every command: exit 0 on success; 1 when the thing checked is
// wrong (not conformant, a claim's verdict changed, a results check failed); 2 for
// usage or input errors. Every error is one line on stderr, in words.

import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { packageRoot } from '../core/package-root.js';
import { UserError, describeError } from '../errors.js';
import { COMMANDS } from './commands/index.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The commands to register: only the one named on the command line (its first
 * word that is not an option), or all of them for the top-level help, an unknown
 * command or none (commander then lists them or suggests one).
 */
function commandsFor(argv: string[]): string[] {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first && first in COMMANDS) return [first];
  if (!first && argv.length > 0 && argv.every((a) => a === '-V' || a === '--version')) return [];
  return Object.keys(COMMANDS);
}

export async function main(argv: string[]): Promise<number> {
  let printed = false;
  const program = new Command('tda')
    .description('Threshold-based Dynamic Activation: reference decoder, conformance kit and benchmarks')
    .version(packageVersion(), '-V, --version', 'print the version of tda-kit')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => {
        printed = true;
        write(`tda: ${s.replace(/^error: /, '')}`);
      },
    });
  for (const register of await Promise.all(commandsFor(argv).map((name) => COMMANDS[name]()))) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end in exit 0; every other commander error is a usage error.
      // Commander prints the errors it finds while parsing; one thrown by a command's
      // own check (InvalidArgumentError) is printed here.
      if (e.exitCode === 0) return EXIT_OK;
      if (!printed) process.stderr.write(`tda: ${e.message.replace(/^error: /, '')}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof UserError) {
      process.stderr.write(`tda: ${e.message}\n`);
      return e.exitCode;
    }
    // Anything else is still reported in one line; TDA_DEBUG=1 shows the stack.
    process.stderr.write(`tda: ${describeError(e)}\n`);
    if (process.env.TDA_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return EXIT_USAGE;
  }
}
