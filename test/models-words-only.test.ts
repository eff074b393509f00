// Loading `wordsOnly` (HalfLoad in src/core/model.ts): an F16/BF16 file's weight matrices
// are held as the file's words alone, their float32 arrays allocated and never written.
// native-cpu-f16 / -bf16, whose kernels declare that they read the words, generate exactly
// what they generate from the keepHalf load (tokens, logits, masks bit for bit) and leave
// every matrix unwritten; the reference, and kernels that declare nothing, get the float32
// values filled first by the decoder's guard and generate exactly what the plain load
// does; filling gives the plain load's arrays bit for bit.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNativeCpuBackend, halfLoadFor } from '../src/backends/native-cpu/index.js';
import { vocabFromTokenizer } from '../src/bench/llama-export.js';
import { setUpMethodRun } from '../src/cli/options.js';
import type { Kernels } from '../src/core/kernels.js';
import { type FfnWeights, type HalfLoad, type LayerWeights, type Model, fillPendingWeights, fillStoredHalf, isPending, storedHalf } from '../src/core/model.js';
import { loadBackend, loadBackendModule } from '../src/backends/registry.js';
import { runConformance } from '../src/conformance/index.js';
import { quantileThresholds } from '../src/conformance/endToEnd.js';
import { embeddedModelDir, loadModel } from '../src/models/discovery.js';
import { writeModelGguf } from '../src/models/gguf-export.js';
import { loadGguf, readGgufHeader } from '../src/models/gguf.js';
import { loadHfFolder } from '../src/models/hf-folder.js';
import { toHalvesModel } from '../src/models/rope-layout.js';
import { loadCheckpoint } from '../src/models/llama2c.js';
import { type SentencePieceTokenizer, loadTokenizer } from '../src/models/tokenizer.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { generate } from '../src/reference/generate.js';
import { cettCurve, tokenCett } from '../src/reference/cett.js';
import { downColumnNorms } from '../src/reference/ffn.js';
import { densePolicy } from '../src/reference/policies/dense.js';
import { tdaPolicy } from '../src/reference/policies/tda.js';
import { ttPolicy } from '../src/reference/policies/tt.js';
import { prepareMethod } from '../src/reference/methods.js';
import { UserError } from '../src/errors.js';
import { asArchitecture } from './fixtures/arch-models.js';
import { llamaFamilyConfig, llamaFamilyTensors, writeHfFolder } from './fixtures/write-hf.js';

const dir = embeddedModelDir();
const base = loadCheckpoint(path.join(dir, 'stories260K.bin'));
const tok = loadTokenizer(path.join(dir, 'tok512.bin'), 512) as SentencePieceTokenizer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tda-words-only-'));
const prompt = tok.encode('Once upon a time, there was a little girl');

// stories260K shares its classifier with the embedding; the GGUF gets its own output.weight,
// so that an untied classifier is among the matrices held as words.
const untied: Model = { ...base, weights: { ...base.weights, classifier: base.weights.tokenEmbedding.map((x) => x * 0.5) } };

function ggufFile(type: 'F16' | 'BF16'): string {
  const f = path.join(tmp, `stories260K-${type}.gguf`);
  if (!fs.existsSync(f)) writeModelGguf(untied, vocabFromTokenizer(tok), f, { name: 'stories260K', type });
  return f;
}

/** BF16 folders: llama (q/k in rotate-half order), qwen2 (q/k/v biases), gemma (norms stored as w − 1, tied classifier). */
function hfFolder(arch: 'llama' | 'qwen2' | 'gemma'): string {
  const d = path.join(tmp, `hf-${arch}`);
  const m = arch === 'llama' ? toHalvesModel(base) : asArchitecture(base, arch);
  if (!fs.existsSync(d)) writeHfFolder(d, llamaFamilyConfig(m, arch), llamaFamilyTensors(m, arch), { dtype: 'BF16' });
  return d;
}

/** The weight matrices a wordsOnly load holds as words (the classifier when untied). */
function matrices(m: Model): Float32Array[] {
  const ffn = (f: FfnWeights) => [f.gate, f.up, f.downT].filter((w): w is Float32Array => w !== null);
  const layer = (l: LayerWeights) => [l.wq, l.wk, l.wv, l.wo, ...ffn(l.ffn)];
  const w = m.weights;
  return [...w.layers.flatMap(layer), ...(w.classifier !== w.tokenEmbedding ? [w.classifier] : [])];
}

/** Every matrix still unwritten: pending, and its float32 array all zeros (no copy was made into it). */
function expectUnwritten(m: Model): void {
  for (const w of matrices(m)) {
    expect(isPending(w)).toBe(true);
    expect(new Uint32Array(w.buffer, w.byteOffset, w.length).every((b) => b === 0)).toBe(true);
  }
}

const bytes = (w: Float32Array) => Buffer.from(w.buffer, w.byteOffset, w.byteLength);
const logitsOf = (r: { logits?: Float32Array[] }) => r.logits!.map((l) => Buffer.from(l.buffer).toString('base64'));

type Source = { name: string; type: 'f16' | 'bf16'; load: (half: HalfLoad) => Promise<Model> };
const SOURCES: Source[] = [
  { name: 'GGUF F16', type: 'f16', load: async (half) => (await loadGguf(ggufFile('F16'), { withTokenizer: false, ...half })).model },
  { name: 'GGUF BF16', type: 'bf16', load: async (half) => (await loadGguf(ggufFile('BF16'), { withTokenizer: false, ...half })).model },
  { name: 'HF llama BF16', type: 'bf16', load: async (half) => loadHfFolder(hfFolder('llama'), half) },
  { name: 'HF qwen2 BF16', type: 'bf16', load: async (half) => loadHfFolder(hfFolder('qwen2'), half) },
  { name: 'HF gemma BF16', type: 'bf16', load: async (half) => loadHfFolder(hfFolder('gemma'), half) },
];

const HONEST_FP16 = path.join(import.meta.dirname, 'fixtures', 'broken-backends', 'honest-fp16.ts');

const run = (m: Model, kernels: Kernels, policy = densePolicy()) =>
  generate(m, { promptTokens: prompt, steps: 40, policy, kernels, keepLogits: true });

describe('wordsOnly loads straight into native-cpu-f16 / -bf16', () => {
  for (const s of SOURCES) {
    it(`${s.name}: the words alone reach native-cpu-${s.type}; tokens, logits and TDA/TT masks as from the keepHalf load; nothing widened`, async () => {
      const backend = `native-cpu-${s.type}`;
      const words = await s.load(halfLoadFor(backend));
      const kept = await s.load({ keepHalf: s.type });
      expect(matrices(words).length).toBeGreaterThan(0);
      expectUnwritten(words);
      // What the decoder reads in JS arrives as float32.
      expect(isPending(words.weights.tokenEmbedding)).toBe(false);
      expect(bytes(words.weights.tokenEmbedding).equals(bytes(kept.weights.tokenEmbedding))).toBe(true);
      expect(bytes(words.weights.layers[0].rmsAtt).equals(bytes(kept.weights.layers[0].rmsAtt))).toBe(true);

      const K = createNativeCpuBackend(s.type).kernels;
      expect(K.readsStoredHalf).toBe(s.type);
      const a = run(words, K);
      const b = run(kept, K);
      expect(a.tokens.length).toBeGreaterThan(16);
      expect(a.tokens).toEqual(b.tokens);
      expect(logitsOf(a)).toEqual(logitsOf(b));
      // TT and TDA read W_down's column norms in JS: taken from the words row by row, exactly.
      const th = quantileThresholds(kept, [prompt]);
      for (const [method, policy] of [['tt', ttPolicy], ['tda', tdaPolicy]] as const) {
        const x = run(words, K, policy(words, th[method]));
        const y = run(kept, K, policy(kept, th[method]));
        expect([method, x.tokens]).toEqual([method, y.tokens]);
        expect(logitsOf(x)).toEqual(logitsOf(y));
        expect(x.masks.map((m) => Array.from(m ?? []))).toEqual(y.masks.map((m) => Array.from(m ?? [])));
      }
      const l0 = words.weights.layers[0].ffn.downT;
      expect(Array.from(downColumnNorms(words.weights.layers[0].ffn, words.config.dim))).toEqual(Array.from(downColumnNorms(kept.weights.layers[0].ffn, kept.config.dim)));
      expect(isPending(l0)).toBe(true);
      // Still no float32 copy after all of it.
      expectUnwritten(words);
    }, 60_000);
  }

  it("a file of the other half type keeps no words for the backend and loads as float32, as before", async () => {
    const m = (await loadGguf(ggufFile('BF16'), { withTokenizer: false, ...halfLoadFor('native-cpu-f16') })).model;
    expect(matrices(m).some((w) => storedHalf(w) !== undefined)).toBe(false);
    expect(halfLoadFor('native-cpu')).toEqual({});
    expect(halfLoadFor('reference')).toEqual({});
    expect(halfLoadFor('native-cpu-bf16')).toEqual({ keepHalf: 'bf16', wordsOnly: true });
  });
});

describe('the guard: every other reader gets the float32 values', () => {
  for (const s of SOURCES) {
    it(`${s.name}: the reference and kernels that declare nothing generate exactly as from the plain load; filling gives its arrays bit for bit`, async () => {
      const plain = await s.load({});
      const want = run(plain, referenceKernels);

      const forReference = await s.load(halfLoadFor(`native-cpu-${s.type}`));
      expectUnwritten(forReference);
      const got = run(forReference, referenceKernels);
      expect(got.tokens).toEqual(want.tokens);
      expect(logitsOf(got)).toEqual(logitsOf(want));
      // The decoder filled them, exactly as the plain load wrote them.
      const filled = matrices(forReference);
      const normal = matrices(plain);
      filled.forEach((w, i) => {
        expect(isPending(w)).toBe(false);
        expect(bytes(w).equals(bytes(normal[i]))).toBe(true);
      });

      // A plug-in module (--backend-module) that stores its weights as fp16 itself, converting
      // the float32 values it is given, and declares nothing: it gets the values, never the zeros.
      const plugin = (await loadBackendModule(HONEST_FP16)).kernels;
      expect(plugin.readsStoredHalf).toBeUndefined();
      const forPlugin = await s.load(halfLoadFor(`native-cpu-${s.type}`));
      const p = run(forPlugin, plugin);
      const q = run(plain, plugin);
      expect(p.tokens).toEqual(q.tokens);
      expect(logitsOf(p)).toEqual(logitsOf(q));

      // A wrapper of the half-precision kernels that undeclares the capability gets float32 too.
      const wrapped: Kernels = { ...createNativeCpuBackend(s.type).kernels, readsStoredHalf: undefined };
      const forWrapped = await s.load(halfLoadFor(`native-cpu-${s.type}`));
      run(forWrapped, wrapped);
      expect(matrices(forWrapped).some(isPending)).toBe(false);
    }, 60_000);
  }

  it('fillStoredHalf and fillPendingWeights: in place, idempotent, bit for bit the plain load; only the undeclared type is filled', async () => {
    const plain = (await loadGguf(ggufFile('F16'), { withTokenizer: false })).model;
    const m = (await loadGguf(ggufFile('F16'), { withTokenizer: false, ...halfLoadFor('native-cpu-f16') })).model;
    const wq = m.weights.layers[1].wq;
    expect(fillStoredHalf(wq)).toBe(wq);
    expect(bytes(wq).equals(bytes(plain.weights.layers[1].wq))).toBe(true);
    const again = Buffer.from(bytes(wq));
    fillStoredHalf(wq);
    expect(bytes(wq).equals(again)).toBe(true);
    expect(storedHalf(wq)!.pending).toBe(false);

    const n = matrices(m).length;
    expect(fillPendingWeights(m, { readsStoredHalf: 'f16' })).toBe(0); // a reader of f16 words needs nothing
    expect(fillPendingWeights(m, { readsStoredHalf: 'bf16' })).toBe(n - 1); // words of another type: filled
    expect(fillPendingWeights(m)).toBe(0);
    matrices(m).forEach((w, i) => expect(bytes(w).equals(bytes(matrices(plain)[i]))).toBe(true));
  });

  it('calibration reads W_down from its words without filling it (a layer at a time into one buffer, or a row at a time): nothing is widened, and the thresholds are bit-identical to the keepHalf load\'s', async () => {
    const K = createNativeCpuBackend('f16').kernels;
    const words = (await loadGguf(ggufFile('F16'), { withTokenizer: false, ...halfLoadFor('native-cpu-f16') })).model;
    const kept = (await loadGguf(ggufFile('F16'), { withTokenizer: false, keepHalf: 'f16' })).model;
    for (const method of ['tda', 'tt'] as const) {
      for (const setting of [{ method, cett: 0.2 }, { method, density: 0.5 }]) {
        const a = prepareMethod(words, setting, K).summary;
        const b = prepareMethod(kept, setting, K).summary;
        expect(a.thresholds!.length).toBe(words.config.nLayers);
        expect(a.thresholds!.some((t) => t > 0)).toBe(true); // a real search, not the keep-everything shortcut
        // Bit for bit: the same doubles.
        expect(Buffer.from(Float64Array.from(a.thresholds!).buffer)).toEqual(Buffer.from(Float64Array.from(b.thresholds!).buffer));
        expect(a).toEqual(b);
      }
    }
    // The sweep without a caller's buffer, and single-token CETT (a row at a time): the same doubles.
    const dim = words.config.dim;
    const [fw, fk] = [words.weights.layers[1].ffn, kept.weights.layers[1].ffn];
    const a = Float32Array.from({ length: fw.up.length / dim }, (_, i) => Math.sin(i * 0.7));
    const units = [{ values: Float64Array.from(a, Math.abs), tokens: [a] }];
    expect(cettCurve(units, fw, dim)).toEqual(cettCurve(units, fk, dim));
    expect(tokenCett(a, units[0].values, fw, dim, 0.3)).toBe(tokenCett(a, units[0].values, fk, dim, 0.3));
    // W_down stayed unwritten (pending, its float32 array all zeros), as did every other matrix.
    expectUnwritten(words);
  }, 120_000);

  it('conformance on a wordsOnly model: widened first, the end-to-end row passes', async () => {
    const b = await loadBackend('native-cpu-f16');
    const model = await loadModel(ggufFile('F16'), undefined, halfLoadFor('native-cpu-f16'));
    const report = await runConformance(b, { quick: true, only: ['e2e dense (m.gguf)'], models: [{ name: 'm.gguf', model }] });
    expect(report.rows.map((r) => [r.check, r.verdict])).toEqual([['e2e dense (m.gguf)', 'pass']]);
    expect(matrices(model).some(isPending)).toBe(false);
  }, 60_000);
});

describe('loading wordsOnly', () => {
  it('checks the words for Inf / NaN as the plain load checks the values, with the same error', async () => {
    const src = ggufFile('F16');
    const h = await readGgufHeader(src);
    for (const [name, index] of [['blk.2.attn_k.weight', 77], ['blk.3.ffn_down.weight', 300]] as const) {
      const t = h.tensors.find((x) => x.name === name)!;
      const bad = path.join(tmp, `bad-${name}.gguf`);
      const raw = fs.readFileSync(src);
      raw.writeUInt16LE(0x7c00, h.dataOffset + t.offset + 2 * index); // +Inf
      fs.writeFileSync(bad, raw);
      const plain = await loadGguf(bad, { withTokenizer: false }).catch((e: unknown) => e);
      const words = await loadGguf(bad, { withTokenizer: false, ...halfLoadFor('native-cpu-f16') }).catch((e: unknown) => e);
      expect(plain).toBeInstanceOf(UserError);
      expect((words as UserError).message).toBe((plain as UserError).message);
      expect((words as UserError).message).toContain(`${name} has a non-finite value (Infinity) at index ${index}`);
    }
  });

  it('tda generate / compare ask for it with --backend native-cpu-f16 / -bf16 only', async () => {
    const f16 = await setUpMethodRun({ model: ggufFile('F16'), backend: 'native-cpu-f16' });
    expect(f16.backend.kernels.readsStoredHalf).toBe('f16');
    expectUnwritten(f16.model);
    const bf16 = await setUpMethodRun({ model: hfFolder('llama'), tokenizer: path.join(dir, 'tok512.bin'), backend: 'native-cpu-bf16' });
    expectUnwritten(bf16.model);
    const ref = await setUpMethodRun({ model: ggufFile('F16'), backend: 'reference' });
    expect(matrices(ref.model).some((w) => storedHalf(w) !== undefined)).toBe(false);
    // --backend-module: whatever --backend says, the module's kernels declare nothing, so no words are kept.
    const plugin = await setUpMethodRun({ model: ggufFile('F16'), backend: 'native-cpu-f16', backendModule: HONEST_FP16 });
    expect(matrices(plugin.model).some((w) => storedHalf(w) !== undefined)).toBe(false);
  });
});
