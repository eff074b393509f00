// The HTTP server of `tda serve`: the page, its bundled scripts, the embedded
// stories260K and tfjs's WebAssembly binaries, on 127.0.0.1 only.
//
// Every response carries COOP/COEP headers: a cross-origin isolated page may use
// SharedArrayBuffer, which the webgpu backend's synchronous readback needs
// (src/backends/webgpu/protocol.ts).

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { embeddedModelDir } from '../models/discovery.js';
import { bundleWeb } from './bundle.js';
import { MODEL_DIR, MODEL_FILES } from './protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Files served as they are, by URL path. */
function staticFiles(): Map<string, string> {
  const files = new Map<string, string>([['/', path.join(here, 'page.html')]]);
  for (const f of MODEL_FILES) files.set(`${MODEL_DIR}/${f}`, path.join(embeddedModelDir(), f));
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const f of fs.readdirSync(path.join(wasmDir, 'dist'))) {
    if (f.endsWith('.wasm')) files.set(`/tfjs/${f}`, path.join(wasmDir, 'dist', f));
  }
  return files;
}

export async function startPageServer(port: number): Promise<PageServer> {
  const scripts = await bundleWeb();
  const files = staticFiles();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, headers).end();
      return;
    }
    const script = scripts.get(url.pathname);
    const file = files.get(url.pathname);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (!script && !file)) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${url.pathname}\n`);
      return;
    }
    const type = TYPES[path.extname(file ?? url.pathname) || '.html'] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type });
    if (req.method === 'HEAD') res.end();
    else if (script) res.end(script);
    else fs.createReadStream(file!).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
