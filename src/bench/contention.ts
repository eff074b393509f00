// `--contended`: two CPU hogs beside the bench, so that "native-cpu is never slower
// than the reference on a busy machine" is measured, not assumed. Each hog is a child
// node process spinning in a loop; they start before the first suite and are stopped
// (by their own pids) when the run ends, whatever happens.

import { type ChildProcess, spawn } from 'node:child_process';

export interface Hogs {
  pids: number[];
  stop(): void;
}

export function startHogs(count: number): Hogs {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  const stop = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  // Never leave a hog behind if the bench itself is interrupted.
  process.once('exit', stop);
  return { pids: children.map((c) => c.pid!).filter((p) => p !== undefined), stop };
}
