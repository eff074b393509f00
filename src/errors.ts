// A UserError is bad input (a file, an option, a value) described in one line.
// The library throws it; the CLI prints "tda: <message>" and exits with its code:
// 2 for usage or input errors, 1 when the thing checked is wrong (not conformant,
// a verdict changed). Never a stack trace.
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}

/** What the operating system said about a file, in words rather than errno codes. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'it already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

/** One line describing an error: errno codes become words; only the first line of a message is kept. */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && ERRNO_WORDS[err.code]) return ERRNO_WORDS[err.code];
  return (err?.message ?? String(e)).split('\n')[0];
}
