// node:fs in the browser: a read-only in-memory file system. The page fetches the
// files the harness reads (stories260K and its golden output) and mounts them here
// before running; any other path does not exist.

const files = new Map<string, Uint8Array>();

export function mountFile(path: string, bytes: Uint8Array): void {
  files.set(path, bytes);
}

export function existsSync(path: string): boolean {
  return files.has(path);
}

export function readFileSync(path: string, encoding?: string | { encoding?: string }): Uint8Array | string {
  const bytes = files.get(path);
  if (!bytes) {
    throw Object.assign(new Error(`ENOENT: no such file in the page's file system, open '${path}'`), { code: 'ENOENT' });
  }
  const enc = typeof encoding === 'string' ? encoding : encoding?.encoding;
  return enc ? new TextDecoder().decode(bytes) : bytes;
}

export function readdirSync(path: string): string[] {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return [...files.keys()].filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length).split('/')[0]);
}

export default { existsSync, readFileSync, readdirSync, mountFile };
