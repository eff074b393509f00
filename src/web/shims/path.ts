// node:path in the browser: the POSIX subset the harness uses, over the page's
// in-memory file system (absolute paths from "/").

function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

export function join(...parts: string[]): string {
  return normalize(parts.join('/'));
}

export function resolve(...parts: string[]): string {
  let p = '/';
  for (const part of parts) p = part.startsWith('/') ? part : `${p}/${part}`;
  return normalize(p);
}

export function dirname(p: string): string {
  const n = normalize(p);
  return n.slice(0, n.lastIndexOf('/')) || '/';
}

export function basename(p: string, ext?: string): string {
  const b = normalize(p).split('/').pop() ?? '';
  return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b;
}

export const sep = '/';

export default { join, resolve, dirname, basename, sep };
