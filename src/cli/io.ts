// Output of the commands: files written atomically (a temporary file in the same
// folder, then a rename, so a reader never sees half a file and a failed run leaves
// the old one), output paths checked before any work starts, JSON with snake_case
// field names, and progress on stderr.

import fs from 'node:fs';
import path from 'node:path';
import { UserError, describeError } from '../errors.js';
import { snakeCase, snakeKeys } from '../core/json.js';

/** Fails now, in one line, if `file` could not be written later (missing folder, no permission, a folder). */
export function checkWritable(file: string, what = 'output file'): void {
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UserError(`cannot write ${what} ${file}: the folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`cannot write ${what} ${file}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UserError(`cannot write ${what} ${file}: no permission to write in ${dir}`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UserError(`cannot write ${what} ${file}: it is a folder`);
}

/** Writes `data` to `file` through a temporary file and a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(`cannot write ${file}: ${describeError(e)}`);
  }
}

export { snakeCase, snakeKeys };

/** One JSON object on stdout, snake_case keys. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(snakeKeys(value))}\n`);
}

/** A progress line on stderr (rewritten in place on a terminal, one line per update otherwise). */
export function progressLine(): { update(text: string): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    update(text: string) {
      if (text === last) return;
      last = text;
      process.stderr.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
    },
    done() {
      if (tty && last) process.stderr.write('\r\x1b[K');
    },
  };
}
