// Installs node-llama-cpp — the dense llama.cpp engine that `tda bench` compares
// against — into .bench-deps/, apart from the project's own node_modules.
//
// Why apart: node-llama-cpp lists prebuilt binaries for every platform and GPU
// flavour as optional dependencies (~600 MB); only the CPU build is needed, and
// installing with --omit=optional inside the project would also drop the project's
// own optional packages (esbuild's and rollup's binaries, gl). A separate prefix
// keeps both right. Never fails: the bench reports llama.cpp as unavailable instead.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '3.22.1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prefix = path.join(root, '.bench-deps');
fs.mkdirSync(prefix, { recursive: true });
fs.writeFileSync(path.join(prefix, 'package.json'), `${JSON.stringify({ name: 'tda-bench-deps', private: true }, null, 2)}\n`);
const res = spawnSync(
  'npm',
  ['install', '--prefix', prefix, '--omit=optional', '--no-audit', '--no-fund', `node-llama-cpp@${VERSION}`, `@node-llama-cpp/linux-x64@${VERSION}`],
  { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
);
if (res.status === 0) {
  console.log(`node-llama-cpp ${VERSION} installed in .bench-deps/ (llama.cpp baseline for tda bench)`);
} else {
  const why = `${res.stderr ?? ''}${res.error?.message ?? ''}`.split('\n').find((l) => /ERR|error/i.test(l)) ?? `exit ${res.status}`;
  console.log(`llama.cpp baseline not installed: ${why.trim()}; tda bench will report it as unavailable`);
}
