// Conformance vectors: the safetensors encoding round-trips and rejects malformed
// files; `tda vectors export --quick` writes a set under 50 MB; results written by
// the reference pass `tda vectors check` (exit 0), results of a broken backend fail
// it (exit 1, the same rows as `tda conformance`), a missing result fails, bad input
// exits 2; and the C++ consumer in native/vectors (no kit code) builds with g++,
// runs, and passes `check`.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/conformance/vectors-io.js';
import { runCli } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-vectors-'));
const vectors = path.join(tmp, 'v');

/** `tda …` as an asynchronous child process (test/helpers.ts). */
const tda = (args: string[]) => runCli(args).then((r) => ({ status: r.code, stdout: r.stdout, stderr: r.stderr }));
const run = promisify(execFile);

describe('safetensors encoding', () => {
  test('round-trips F64, F32 and I32 tensors, shapes and metadata, with 8-byte-aligned data and no holes', () => {
    const a = Float64Array.of(1.5, -0, Infinity, 2 ** -1074);
    const b = Float32Array.of(NaN, 3.25, -7);
    const c = Int32Array.of(-1, 0, 2147483647, 5, 6, 7);
    const bytes = encodeSafetensors({ b, c: { data: c, shape: [2, 3] }, a }, { note: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    // Offsets tile the data exactly: F64 first, then the 4-byte tensors.
    expect(header.a.data_offsets).toEqual([0, 32]);
    expect(header.b.data_offsets[0]).toBe(32);
    expect(bytes.length - 8 - n).toBe(32 + 12 + 24);
    const d = decodeSafetensors(bytes);
    expect(Array.from(d.tensors.a.data)).toEqual(Array.from(a));
    expect(Object.is(d.tensors.a.data[1], -0)).toBe(true);
    expect(Number.isNaN(d.tensors.b.data[0])).toBe(true);
    expect(Array.from(d.tensors.c.data)).toEqual(Array.from(c));
    expect(d.tensors.c.shape).toEqual([2, 3]);
    expect(d.metadata).toEqual({ note: 'x' });
  });

  test('rejects malformed files with a one-line reason', () => {
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(/too short/);
    const bad = encodeSafetensors({ x: Float32Array.of(1, 2) });
    expect(() => decodeSafetensors(bad.subarray(0, bad.length - 4))).toThrow(/outside the file/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/runs past the end/);
    expect(() => encodeSafetensors({ x: { data: Float32Array.of(1, 2, 3), shape: [2, 2] } })).toThrow(/shape/);
  });
});

describe('tda vectors', () => {
  beforeAll(async () => {
    const r = await tda(['vectors', 'export', '--out', vectors, '--quick']);
    if (r.status !== 0) throw new Error(r.stderr);
  }, 300_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('export --quick: a manifest of every kernel, masks and generation, under 50 MB', () => {
    const m = JSON.parse(fs.readFileSync(path.join(vectors, 'manifest.json'), 'utf8'));
    expect(m.format).toBe('tda-kit/vectors@1');
    const kinds = new Set(m.cases.map((c: { kernel: string }) => c.kernel));
    for (const k of ['matvec', 'rmsnorm', 'rope', 'attention', 'ffnActivations', 'ffnDown', 'ffnSliced', 'mask', 'generate']) expect(kinds).toContain(k);
    const bytes = fs.readdirSync(vectors).reduce((s, f) => s + fs.statSync(path.join(vectors, f)).size, 0);
    expect(bytes).toBeLessThan(50e6);
    // A case file holds the arguments under their kernel names, expected and bound.
    const mv = m.cases.find((c: { kernel: string }) => c.kernel === 'matvec');
    const t = decodeSafetensors(fs.readFileSync(path.join(vectors, mv.file))).tensors;
    expect(Object.keys(t).sort()).toEqual(['bound', 'expected', 'w', 'x']);
    expect(t.expected.data.length).toBe(mv.params.rows);
    expect(t.w.data.length).toBe(mv.params.rows * mv.params.cols);
  });

  test('the reference passes check; a broken backend and a missing result fail it; bad input exits 2', async () => {
    const good = path.join(tmp, 'reference');
    expect((await tda(['vectors', 'run', vectors, '--backend', 'reference', '--out', good])).status).toBe(0);
    const ok = await tda(['vectors', 'check', vectors, good, '--json']);
    expect(ok.status, ok.stdout.slice(0, 2000)).toBe(0);
    expect(JSON.parse(ok.stdout).conformant).toBe(true);

    const bad = path.join(tmp, 'broken');
    expect((await tda(['vectors', 'run', vectors, '--backend-module', 'test/fixtures/broken-backends/head-warp.ts', '--out', bad])).status).toBe(0);
    const no = await tda(['vectors', 'check', vectors, bad, '--json']);
    expect(no.status).toBe(1);
    const rows = JSON.parse(no.stdout).rows as { check: string; verdict: string }[];
    expect(rows.filter((r) => r.verdict === 'fail').map((r) => r.check)).toContain('kernel attention');
    expect(rows.find((r) => r.check === 'kernel matvec')!.verdict).toBe('pass');

    const first = fs.readdirSync(good).sort()[0];
    fs.rmSync(path.join(good, first));
    const missing = await tda(['vectors', 'check', vectors, good]);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/no result file/);

    const none = await tda(['vectors', 'check', path.join(tmp, 'nope'), good]);
    expect(none.status).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
  }, 300_000);

  test('the C++ consumer in native/vectors builds, runs and passes check', async () => {
    await run('make', ['-C', path.join(root, 'native', 'vectors'), '--silent']);
    const out = path.join(tmp, 'cpp');
    fs.mkdirSync(out);
    await run(path.join(root, 'native', 'vectors', 'consumer'), [vectors, out]);
    const r = await tda(['vectors', 'check', vectors, out]);
    expect(r.status, r.stdout.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/e2e tda .*PASS/);
    expect(r.stdout).toMatch(/verdict: CONFORMANT/);
  }, 300_000);
});
