// Peak resident set of one stretch of a bench run (one paper-suite row), not of the whole
// process. process.resourceUsage().maxRSS is the process's high-water mark: read after
// each row it is monotonic, so every row would report the largest row before it. On
// Linux (≥ 4.0) writing "5" to /proc/self/clear_refs resets that mark (VmHWM in
// /proc/self/status) to the current resident set; reading VmHWM after the row then gives
// the row's own peak. Where either file is unavailable the figure falls back to the
// process's high-water mark, and says so (`scope: 'process'`).
//
// After a reset the process's maxRSS no longer covers what ran before it: only one
// window may be open at a time, and nothing else in the bench process reads maxRSS.

import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

/** What a peak figure covers: one window (reset before it), or the whole process so far. */
export type RssScope = 'row' | 'process';

export interface PeakRss {
  mb: number;
  scope: RssScope;
}

const STATUS = '/proc/self/status';
const CLEAR_REFS = '/proc/self/clear_refs';

/** VmHWM of this process in KiB, or null where /proc/self/status does not have it. */
export function vmHwmKb(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(STATUS, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Resets the high-water mark to the current resident set; false where the kernel does not allow it. */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync(CLEAR_REFS, '5'); // 5: reset the peak RSS (Documentation/filesystems/proc.rst)
  } catch {
    return false;
  }
  return vmHwmKb() !== null;
}

/** The process's high-water mark so far, MiB (getrusage: every platform). */
export function processPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Opens a window: resets the high-water mark where possible and returns the function
 * that reads the window's peak. Call it right before the work to be measured.
 */
export function startPeakRss(): () => PeakRss {
  const reset = resetPeakRss();
  return () => {
    const kb = reset ? vmHwmKb() : null;
    return kb === null ? { mb: processPeakRssMb(), scope: 'process' } : { mb: kb / 1024, scope: 'row' };
  };
}

let gcFn: (() => void) | null | undefined;

/**
 * A full garbage collection, so that a window does not open on the previous rows'
 * unreachable arrays (V8 frees large ArrayBuffers only when it collects, which it may
 * not have done yet). `global.gc` when node runs with --expose-gc; otherwise the flag is
 * set at run time and gc taken from a fresh context (node's documented `v8.setFlagsFromString`
 * use). Returns false where neither works: the window then includes whatever garbage is left.
 */
export function collectGarbage(): boolean {
  if (gcFn === undefined) gcFn = findGc();
  gcFn?.();
  return gcFn !== null;
}

function findGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    const f = vm.runInNewContext('gc') as unknown;
    return typeof f === 'function' ? (f as () => void) : null;
  } catch {
    return null;
  }
}
