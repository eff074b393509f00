// `npm run build`: compiles src/ and spec/ into dist/ (tsconfig.build.json), then
// copies the files that are not TypeScript but are read at run time next to their
// compiled modules: the page's HTML (src/web/server.ts serves it from its own folder).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const RUNTIME_ASSETS = ['src/web/page.html'];

const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
for (const rel of RUNTIME_ASSETS) {
  const to = path.join(ROOT, 'dist', rel);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(path.join(ROOT, rel), to);
}
