// Peak resident set of one stretch of a bench run (one paper-suite row), not of the whole
// process. process.resourceUsage().maxRSS is the process's high-water mark: read after
// each row it is monotonic, so every row would report the largest row before it. On
// Linux (≥ 4.0) writing "5" to /proc/self/clear_refs resets that mark (VmHWM in
// /proc/self/status) to the current resident set; reading VmHWM after the row then gives
// the row's own peak. Where either file is unavailable the figure falls back to the
// process's high-water mark, and says so (`scope: 'process'`).
//
// After a reset the kernel's own figures (maxRSS from getrusage, and so `/usr/bin/time`'s
// "Maximum resident set size" of the bench process) no longer cover what ran before it:
// each reset first folds the mark it clears into runPeakRssMb(), which keeps the
// process's peak over the whole run. Only one window may be open at a time.

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

/** A "kB" field of /proc/self/status, or null where there is none (not Linux). */
function statusKb(field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync(STATUS, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** VmHWM of this process in KiB (the high-water mark), or null where unavailable. */
export function vmHwmKb(): number | null {
  return statusKb('VmHWM');
}

/** The largest high-water mark a reset cleared, KiB. */
let clearedPeakKb = 0;

/**
 * The process's peak resident set over the whole run, MiB, resets included: the
 * largest mark any reset cleared, or the current mark or maxRSS if larger.
 */
export function runPeakRssMb(): number {
  return Math.max(clearedPeakKb, vmHwmKb() ?? 0, process.resourceUsage().maxRSS) / 1024;
}

/** Resets the high-water mark to the current resident set; false where the kernel does not allow it. */
export function resetPeakRss(): boolean {
  clearedPeakKb = Math.max(clearedPeakKb, vmHwmKb() ?? 0, process.resourceUsage().maxRSS);
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
 * Full garbage collections, so that a window does not open on the previous rows'
 * unreachable arrays (V8 frees large ArrayBuffers only when it collects, which it may
 * not have done yet). One collection is not enough: the arrays' memory is released by
 * V8's ArrayBuffer sweeper after it, over the next turns of the event loop (at the
 * TinyLlama shape 4.4 GB of dropped float32 arrays were still resident right after
 * gc(), and went over the next collections). So: collect, let the loop turn, and repeat
 * while the resident set still falls (at least twice, at most 10 times). `global.gc`
 * when node runs with --expose-gc; otherwise the flag is set at run time and gc taken
 * from a fresh context. Resolves to false where neither works: the window then includes
 * whatever garbage is left.
 */
export async function collectGarbage(): Promise<boolean> {
  if (gcFn === undefined) gcFn = findGc();
  if (!gcFn) return false;
  let before = vmRssKb();
  for (let pass = 0; pass < 10; pass++) {
    gcFn();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = vmRssKb();
    if (pass >= 1 && (now === null || before === null || before - now < 16 * 1024)) break;
    before = now;
  }
  return true;
}

/** VmRSS of this process in KiB (the current resident set), or null where unavailable. */
function vmRssKb(): number | null {
  return statusKb('VmRSS');
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
