// The kit as a user installs it: `npm pack`, then `npm install` of the tarball in an
// empty folder outside the repository, with no ../shared, no dev dependencies and no
// TDA_MODEL_DIR. The main job, conformance, the library API from the package root,
// its types in a TypeScript consumer, and the plug-in examples of docs/plugins.md
// (as .ts and .js) must all work there. Checked against llama2.c's golden output.
//
// The install skips the optional native builds (TDA_SKIP_NATIVE=1; gl's build is
// declined in the consumer's allowScripts) to keep this test to a couple of minutes:
// the native build has its own test (test/native-build.test.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, ROOT, goldenCases, runNode, runProcess } from './helpers.js';

let consumer = '';
let tarball = '';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// A clean environment: nothing that points back into the repository.
const env: NodeJS.ProcessEnv = { TDA_MODEL_DIR: '', TDA_GOLDEN: '', TDA_SKIP_NATIVE: '1', npm_config_audit: 'false', npm_config_fund: 'false' };

function expectOk(r: CliResult) {
  expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
}

/** `npx tda …` inside the consumer folder (the installed bin, compiled JavaScript). */
function tda(args: string[]): Promise<CliResult> {
  return runNode([path.join(consumer, 'node_modules', 'tda-kit', 'bin', 'tda.js'), ...args], env, { cwd: consumer });
}

function docBlocks(file: string): Record<string, string> {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const blocks: Record<string, string> = {};
  for (const m of text.matchAll(/```(ts|js)\n([\s\S]*?)```/g)) blocks[m[1]] ??= m[2];
  return blocks;
}

beforeAll(async () => {
  const work = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tda-pack-'));
  // dist/ is already compiled from the current sources (test/setup/global.ts): no prepack
  // rebuild, which would rewrite the files other test files are running.
  const packed = await runProcess(npm, ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], env, { cwd: ROOT });
  expectOk(packed);
  tarball = path.join(work, packed.stdout.trim().split('\n').at(-1)!);
  consumer = path.join(work, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts: { gl: false, esbuild: false, webgpu: false, 'tda-kit': true } }),
  );
  const nodeDir = fs.existsSync('/usr/include/node/node_api.h') ? { npm_config_nodedir: '/usr' } : {};
  expectOk(await runProcess(npm, ['install', '--no-audit', '--no-fund', tarball], { ...env, ...nodeDir }, { cwd: consumer, timeoutMs: 600_000 }));
});

describe('the installed package', () => {
  it('holds what a user runs and not the tests or sources', () => {
    const pkg = path.join(consumer, 'node_modules', 'tda-kit');
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'bin/tda.js', 'LICENSE', 'assets/stories260K/stories260K.bin', 'assets/stories260K/tok512.bin', 'assets/stories260K/stories260K-greedy.json', 'assets/stories260K/LICENSE']) {
      expect(fs.existsSync(path.join(pkg, f)), f).toBe(true);
    }
    for (const f of ['test', 'src', 'tsconfig.json']) expect(fs.existsSync(path.join(pkg, f)), f).toBe(false);
    // The embedded model is the one llama2.c ran (sha256 in ../shared/README.md).
    expect(fs.readFileSync(path.join(pkg, 'assets/stories260K/stories260K.bin'))).toEqual(fs.readFileSync(path.join(ROOT, '../shared/models/stories260K.bin')));
  });

  it('`tda generate --prompt "Once upon a time"` reproduces llama2.c\'s greedy text', async () => {
    const c = goldenCases().find((g) => g.prompt === 'Once upon a time')!;
    const r = await tda(['generate', '--prompt', c.prompt]);
    expectOk(r);
    expect(r.stdout).toBe(`${c.prompt}${c.greedy_text}\n`);
    expect(r.stderr).toMatch(/embedded|method dense on reference/);
  });

  it('`tda conformance --backend reference --quick` exits 0', async () => {
    const r = await tda(['conformance', '--backend', 'reference', '--quick']);
    expectOk(r);
    expect(r.stdout).toMatch(/verdict: CONFORMANT/);
  });

  it('the library API is reachable from the package root', async () => {
    const c = goldenCases()[2];
    const script = `import('tda-kit').then(async (m) => {
      const { model, tokenizer } = await m.loadModelFiles({});
      const g = m.generateText({ model, tokenizer, prompt: ${JSON.stringify(c.prompt)}, steps: ${c.steps} });
      console.log(JSON.stringify({ tokens: g.result.tokens, names: m.registeredBackendNames() }));
    })`;
    const r = await runNode(['-e', script], env, { cwd: consumer });
    expectOk(r);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toEqual(c.greedy_tokens);
    expect(out.names).toContain('reference');
    expect(out.names).toContain('native-cpu');
  });

  it('types resolve in a TypeScript consumer, and a wrong call is a type error', async () => {
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: [] }, files: ['use.mts'] }),
    );
    const good = `import { type Backend, type TextGeneration, generateText, loadModelFiles, referenceKernels, runConformance } from 'tda-kit';
const { model, tokenizer } = await loadModelFiles({});
const g: TextGeneration = generateText({ model, tokenizer, prompt: 'Once upon a time', method: 'tda', cett: 0.2 });
const n: number = g.density + model.config.hiddenDim;
const b: Backend = { name: 'x', kernels: referenceKernels, info: () => ({ engine: 'e', mode: 'm', device: 'd', threads: 1, simd: false, precision: 'fp32' }) };
void runConformance(b, { quick: true }).then((r) => r.conformant);
export { n };
`;
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    fs.writeFileSync(path.join(consumer, 'use.mts'), good);
    expectOk(await runNode([tsc, '-p', consumer], env, { cwd: consumer }));
    fs.writeFileSync(path.join(consumer, 'use.mts'), good.replace("method: 'tda'", "method: 'magic'"));
    const bad = await runNode([tsc, '-p', consumer], env, { cwd: consumer });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/use\.mts.*'"magic"' is not assignable/);
  });

  it('the browser page and the webgpu worker start from the compiled modules (no TypeScript sources installed)', async () => {
    // `tda serve` bundles the page from the package's own compiled modules and serves its HTML.
    const server = path.join(consumer, 'node_modules', 'tda-kit', 'dist', 'src', 'web', 'server.js');
    const script = `import(${JSON.stringify(pathToFileURL(server).href)}).then(async (m) => {
      const s = await m.startPageServer(0);
      const page = await fetch(s.url).then(async (r) => [r.status, (await r.text()).includes('<script')]);
      const js = await fetch(s.url + 'harness-worker.js').then(async (r) => [r.status, (await r.text()).length]);
      await s.close();
      console.log(JSON.stringify({ page, js }));
    })`;
    const r = await runNode(['-e', script], env, { cwd: consumer });
    expectOk(r);
    const out = JSON.parse(r.stdout);
    expect(out.page).toEqual([200, true]);
    expect(out.js[0]).toBe(200);
    expect(out.js[1]).toBeGreaterThan(1_000_000); // the harness, kernels and fast-check bundled (≈ 2.9 MB)
    // With no Vulkan driver the worker starts and reports the missing adapter: it is found
    // and loaded, rather than failing to import the source checkout's tsx entry.
    const gpu = await runNode([path.join(consumer, 'node_modules', 'tda-kit', 'bin', 'tda.js'), 'conformance', '--backend', 'webgpu', '--quick'], { ...env, VK_ICD_FILENAMES: '/nonexistent/icd.json' }, { cwd: consumer });
    expect(gpu.code, gpu.stderr).toBe(2);
    expect(gpu.stderr).toMatch(/^tda: webgpu backend unavailable: .*no WebGPU adapter/m);
  });

  it('the plug-in examples of docs/plugins.md run from a folder outside the repository, as .ts and as .js', async () => {
    const blocks = docBlocks('docs/plugins.md');
    expect(Object.keys(blocks).sort()).toEqual(['js', 'ts']);
    const c = goldenCases()[1];
    for (const ext of ['ts', 'js']) {
      const file = path.join(consumer, `my-backend.${ext}`);
      fs.writeFileSync(file, blocks[ext]);
      const check = await tda(['conformance', '--backend-module', file, '--quick', '--only', 'kernel matvec']);
      expectOk(check);
      expect(check.stdout).toMatch(/verdict: CONFORMANT/);
      const gen = await tda(['generate', '--backend-module', `./my-backend.${ext}`, '--prompt', c.prompt, '--json']);
      expectOk(gen);
      const out = JSON.parse(gen.stdout);
      expect(out.backend.name).toBe('my-backend');
      expect(out.tokens).toEqual(c.greedy_tokens);
    }
  });
});
