// Load time and peak RSS of a TinyLlama-1.1B-shaped synthetic model (the scale
// target: ≤ 60 s, ≤ 6 GB), as GGUF F16 / BF16 or as a Hugging Face folder (safetensors
// F16 / BF16 holding the same tensor bytes). Writes the file once into DIR, then loads
// it in this process and prints one JSON line (with the load average, since the machine
// may be shared). Not a test: a full run reads 2.2 GB and allocates 4.4 GB.
//
//   npx tsx scripts/measure-model-load.ts [--format gguf|hf] [--type F16|BF16] [--layers N] [--dir DIR] [--keep-half]
//
// On Linux with glibc ≥ 2.35, GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lets the float32
// arrays use transparent huge pages: on a VM most of the load is page faults otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModelFiles } from '../src/models/discovery.js';
import { readGgufHeader } from '../src/models/gguf.js';
import { TINYLLAMA_SHAPE, writeSyntheticGguf } from '../src/models/gguf-synthetic.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const format = arg('format', 'gguf');
const type = arg('type', 'F16') as 'F16' | 'BF16';
const shape = { ...TINYLLAMA_SHAPE, nLayers: Number(arg('layers', String(TINYLLAMA_SHAPE.nLayers))) };
const dir = arg('dir', path.join(os.tmpdir(), 'tda-load-measure'));
const keepHalf = process.argv.includes('--keep-half');
fs.mkdirSync(dir, { recursive: true });

const gguf = path.join(dir, `synthetic-${shape.nLayers}L-${type}.gguf`);
if (!fs.existsSync(gguf)) {
  process.stderr.write(`writing ${gguf} …\n`);
  writeSyntheticGguf(gguf, shape, 1, type);
}

/** The same tensor bytes as a Hugging Face llama folder (names and shapes as transformers saves them). */
async function hfFolderFrom(file: string): Promise<string> {
  const folder = path.join(dir, `synthetic-${shape.nLayers}L-${type}-hf`);
  if (fs.existsSync(path.join(folder, 'config.json'))) return folder;
  process.stderr.write(`writing ${folder} …\n`);
  fs.mkdirSync(folder, { recursive: true });
  const h = await readGgufHeader(file);
  const hfName = (n: string) =>
    n === 'token_embd.weight' ? 'model.embed_tokens.weight'
      : n === 'output_norm.weight' ? 'model.norm.weight'
        : n === 'output.weight' ? 'lm_head.weight'
          : n.replace(/^blk\.(\d+)\./, 'model.layers.$1.').replace('attn_norm', 'input_layernorm').replace('ffn_norm', 'post_attention_layernorm')
            .replace(/attn_(q|k|v)\./, 'self_attn.$1_proj.').replace('attn_output', 'self_attn.o_proj').replace(/ffn_(gate|up|down)/, 'mlp.$1_proj');
  const header: Record<string, unknown> = {};
  let offset = 0;
  const parts = h.tensors.map((t) => {
    const dtype = t.type === 0 ? 'F32' : type;
    const n = t.ne.reduce((a, b) => a * b, 1);
    const bytes = n * (dtype === 'F32' ? 4 : 2);
    header[hfName(t.name)] = { dtype, shape: [...t.ne].reverse(), data_offsets: [offset, offset + bytes] };
    offset += bytes;
    return { start: h.dataOffset + t.offset, bytes };
  });
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const out = fs.openSync(path.join(folder, 'model.safetensors'), 'w');
  const inp = fs.openSync(file, 'r');
  fs.writeSync(out, len);
  fs.writeSync(out, json);
  const buf = Buffer.allocUnsafe(1 << 24);
  for (const p of parts) {
    for (let done = 0; done < p.bytes; ) {
      const n = fs.readSync(inp, buf, 0, Math.min(buf.length, p.bytes - done), p.start + done);
      fs.writeSync(out, buf, 0, n);
      done += n;
    }
  }
  fs.closeSync(inp);
  fs.closeSync(out);
  const config = {
    model_type: 'llama', hidden_size: shape.dim, intermediate_size: shape.hiddenDim, num_hidden_layers: shape.nLayers,
    num_attention_heads: shape.nHeads, num_key_value_heads: shape.nKvHeads, vocab_size: shape.vocabSize,
    max_position_embeddings: shape.seqLen, rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu',
  };
  fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
  return folder;
}

async function main(): Promise<void> {
  const model = format === 'hf' ? await hfFolderFrom(gguf) : gguf;
  const load0 = os.loadavg();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { tokenizer } = await loadModelFiles({ model, tokenizer: format === 'hf' ? gguf : undefined, keepHalf });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({
    format, type, layers: shape.nLayers, vocab: tokenizer.vocabSize, keep_half: keepHalf,
    huge_pages: (process.env.GLIBC_TUNABLES ?? '').includes('hugetlb=1'),
    load_s: +seconds.toFixed(2),
    cpu_user_s: +(cpu.user / 1e6).toFixed(2), cpu_system_s: +(cpu.system / 1e6).toFixed(2),
    peak_rss_gb: +(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2),
    loadavg_before: load0.map((x) => +x.toFixed(1)), loadavg_after: os.loadavg().map((x) => +x.toFixed(1)),
  }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
