// The CLI conformance run that the test files share (test/shared-run.ts) and the global
// setup starts early for the slowest backend (test/setup/global.ts). No vitest import.
import { type CliResult, runCli } from './helpers.js';

/** The seed of the shared conformance runs. */
export const CONFORMANCE_SEED = 20240601;

/** `tda conformance --backend NAME --quick --seed CONFORMANCE_SEED --json` in a child process. */
export function conformanceRun(backend: string, signal?: AbortSignal): Promise<CliResult> {
  // No early kill: on a busy machine the emulated GPUs (SwiftShader, Mesa) take minutes.
  return runCli(['conformance', '--backend', backend, '--quick', '--seed', String(CONFORMANCE_SEED), '--json'], {}, { timeoutMs: 25 * 60_000, signal });
}
