// Bundles the page and its two workers for the browser with esbuild, in memory, at
// serve time (a fraction of a second; nothing is written to disk). Node built-ins
// the harness and backends import are mapped to the small browser versions in
// shims/; the `webgpu` package (dawn.node) and worker_threads are Node-only and
// never reached from these entry points.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
// .ts in a source checkout, .js in the installed package (dist/): esbuild bundles either.
const ext = path.extname(fileURLToPath(import.meta.url));
const SHIMS = new Set(['fs', 'path', 'crypto', 'os', 'module', 'url']);

const nodeShims: Plugin = {
  name: 'node-shims',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      const name = args.path.slice('node:'.length);
      if (!SHIMS.has(name)) return { errors: [{ text: `${args.path} has no browser shim (imported by ${args.importer})` }] };
      return { path: path.join(here, 'shims', `${name}${ext}`) };
    });
    // Bare built-in names come from packages' Node-only code paths (e.g. the GGUF
    // parser's local-file reader, loaded lazily): the page never runs them, so they
    // resolve to a module that throws if it ever is.
    build.onResolve({ filter: /^(fs|fs\/promises|stream|url|path|crypto|os|module)$/ }, (args) => ({ path: args.path, namespace: 'node-only' }));
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not available in a browser`)});`,
      loader: 'js',
    }));
  },
};

export const ENTRY_POINTS = { page: `page${ext}`, 'harness-worker': `harness-worker${ext}`, 'gpu-worker': `gpu-worker${ext}` };

/** The bundled scripts, by URL path ("/page.js", …). */
export async function bundleWeb(): Promise<Map<string, string>> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([k, f]) => [k, path.join(here, f)])),
    bundle: true,
    write: false,
    outdir: '/',
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    // The harness reads a few environment variables (TDA_GOLDEN, …): none in a page.
    define: { 'process.env': '{}' },
    plugins: [nodeShims],
    logLevel: 'silent',
    legalComments: 'none',
  });
  return new Map(result.outputFiles.map((f) => [f.path, f.text]));
}
