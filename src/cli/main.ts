// The `tda` command line: thin. Each command lives in src/cli/commands/<name>.ts,
// parses its options and calls the library; no logic a library user would need
// lives only here.

import { Command, CommanderError } from 'commander';
import { UserError } from '../errors.js';
import * as commands from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('tda')
    .description('Threshold-based Dynamic Activation: reference decoder, conformance kit and benchmarks')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of Object.values(commands) as ((p: Command) => void)[]) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; commander has already printed its message.
      return e.exitCode;
    }
    if (e instanceof UserError) {
      process.stderr.write(`tda: ${e.message}\n`);
      return e.exitCode;
    }
    // Anything else is still reported in one line; TDA_DEBUG=1 shows the stack.
    const err = e as Error;
    process.stderr.write(`tda: ${err?.message?.split('\n')[0] ?? String(e)}\n`);
    if (process.env.TDA_DEBUG) process.stderr.write(`${err?.stack}\n`);
    return 1;
  }
}
