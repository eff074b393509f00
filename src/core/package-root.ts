// The folder of the installed package (the one holding package.json and assets/),
// found by walking up from this file: the same answer whether the code runs from
// src/ under tsx or compiled from dist/.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tda-kit') {
      return (cached = dir);
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('tda-kit: cannot find the package root (package.json named tda-kit)');
    dir = up;
  }
}
