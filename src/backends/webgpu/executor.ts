/// <reference types="@webgpu/types" />
// The GPU side of the webgpu backend: owns the GPUDevice, the uploaded weights and
// the compiled pipelines, and runs one request at a time (protocol.ts), each as one
// command buffer followed by one readback of its output. It knows nothing about
// threads or shared memory, so the same code runs in a Node worker (dawn.node) and a
// browser worker (navigator.gpu).

import { isGated, type FfnKind } from '../../core/model.js';
import type { LayerShape } from '../../core/kernels.js';
import type { AdapterSummary, FfnIds, LayerIds, Request } from './protocol.js';
import {
  activationShader,
  ADD,
  ATTN_OUTPUT,
  ATTN_SCORES,
  ATTN_SOFTMAX,
  DOWN,
  MATVEC,
  MAX_GROUPS_PER_DIM,
  RMS_APPLY,
  RMS_SCALE,
  ROPE,
  WG,
} from './wgsl.js';

interface Pass {
  pipeline: GPUComputePipeline;
  buffers: GPUBuffer[]; // bindings 0, 1, … in order
  groups: [number, number];
}

/** A buffer-to-buffer copy between passes (offsets and length in bytes). */
interface Copy {
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  bytes: number;
}

type Step = Pass | Copy;

/** `floats` floats of `buffer` from float `at`, read back after the steps ran. */
interface Readout {
  buffer: GPUBuffer;
  at: number;
  floats: number;
}

/** Copies n floats from float srcAt of src to float dstAt of dst. */
function copyStep(src: GPUBuffer, srcAt: number, dst: GPUBuffer, dstAt: number, n: number): Copy {
  return { src, srcOffset: srcAt * 4, dst, dstOffset: dstAt * 4, bytes: n * 4 };
}

/** Workgroups for n threads (one per output), WG per workgroup, laid out 2-D past the per-dimension limit. */
function groups(n: number): [number, number] {
  const g = Math.ceil(n / WG);
  if (g === 0) return [0, 0];
  return [Math.min(g, MAX_GROUPS_PER_DIM), Math.ceil(g / MAX_GROUPS_PER_DIM)];
}

/** Inverse RoPE frequencies theta^(-j/headSize), j = 0, 2, …, as the reference computes them (float64, then float32). */
function inverseFrequencies(headSize: number, theta: number): Float32Array {
  const f = new Float32Array(Math.max(1, headSize / 2));
  for (let j = 0; j < headSize; j += 2) f[j / 2] = 1 / Math.pow(theta, j / headSize);
  return f;
}

export class GpuExecutor {
  private readonly weights = new Map<number, GPUBuffer>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly scratch = new Map<string, GPUBuffer>();
  private readonly constants = new Map<string, GPUBuffer>(); // identity lists, zeros, RoPE tables
  private lost: string | null = null;
  /** Uniform blocks used by the request being encoded: each pass gets its own (see params). */
  private uniforms = 0;

  private constructor(
    // Held for the executor's lifetime: dawn.node frees its instance when the GPU
    // object is garbage-collected, even while devices from it are in use.
    private readonly gpu: GPU,
    private readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
  ) {
    void device.lost.then((l) => {
      this.lost = `GPU device lost (${l.reason}): ${l.message}`;
    });
  }

  /** An executor on the first adapter `gpu` offers; a one-line reason when there is none. */
  static async create(gpu: GPU | undefined, runtime: string): Promise<GpuExecutor | string> {
    if (!gpu) return `${runtime} has no WebGPU (navigator.gpu is missing)`;
    const adapter = await gpu.requestAdapter();
    if (!adapter) return `${runtime} found no WebGPU adapter`;
    // Ask for the largest buffers the adapter allows: LLaMA-size FFN matrices are
    // ~180 MB, above WebGPU's default 128 MiB binding limit.
    const maxBinding = adapter.limits.maxStorageBufferBindingSize;
    const maxBuffer = adapter.limits.maxBufferSize;
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: maxBinding, maxBufferSize: maxBuffer },
    });
    const i = adapter.info;
    return new GpuExecutor(gpu, device, {
      vendor: i.vendor,
      architecture: i.architecture,
      device: i.device,
      description: i.description,
      runtime,
      maxBufferBytes: Math.min(maxBinding, maxBuffer),
    });
  }

  /** Runs one request; the floats of its output, or null for requests without one. */
  async run(req: Request): Promise<Float32Array | null> {
    if (this.lost) throw new Error(this.lost);
    this.uniforms = 0;
    switch (req.op) {
      case 'upload':
        this.upload(req.id, req.data);
        return null;
      case 'release':
        this.weights.get(req.id)?.destroy();
        this.weights.delete(req.id);
        return null;
      case 'matvec':
        return this.matvec(req.w, req.x, req.rows, req.cols);
      case 'rmsnorm':
        return this.rmsnorm(req.x, req.weight, req.eps);
      case 'rope':
        return this.rope(req.vec, req.pos, req.headSize, req.theta);
      case 'attention':
        return this.attention(req);
      case 'ffnActivations':
        return this.ffnActivations(req.x, req.ffn, req.kind, req.hidden);
      case 'ffnDown':
        return this.ffnDown(req.a, req.ffn, req.kept, req.dim, req.hidden);
      case 'ffnSliced':
        return this.ffnSliced(req.x, req.ffn, req.kind, req.kept, req.hidden);
      case 'attentionBlock':
        return this.attentionBlock(req);
      case 'prefillLayer':
        return this.prefillLayer(req);
    }
  }

  dispose(): void {
    this.device.destroy();
  }

  // ------------------------------------------------------------------ kernels
  // Each request encodes its steps with the builders below (one per kernel, on device
  // buffers), submits them as one command buffer and reads its outputs back once. The
  // fused entries chain the very passes the per-token requests run, on device buffers,
  // so they compute the same floats bit for bit with one round trip instead of many.

  private async matvec(w: number, x: Float32Array, rows: number, cols: number): Promise<Float32Array> {
    const out = this.output('out', rows);
    return this.submit([await this.matvecPass(w, this.input('x', x), rows, cols, out)], [{ buffer: out, at: 0, floats: rows }]);
  }

  private async rmsnorm(x: Float32Array, weight: number, eps: number): Promise<Float32Array> {
    const n = x.length;
    const out = this.output('out', n);
    return this.submit(await this.rmsPasses(this.input('x', x), n, weight, eps, out), [{ buffer: out, at: 0, floats: n }]);
  }

  private async rope(vec: Float32Array, pos: number, headSize: number, theta: number): Promise<Float32Array> {
    const v = this.input('vec', vec, GPUBufferUsage.COPY_SRC);
    return this.submit([await this.ropePass(v, vec.length, pos, headSize, theta)], [{ buffer: v, at: 0, floats: vec.length }]);
  }

  private async attention(r: Extract<Request, { op: 'attention' }>): Promise<Float32Array> {
    const n = r.nHeads * r.headSize;
    const out = this.output('out', n);
    const shape = { nHeads: r.nHeads, headSize: r.headSize, kvDim: r.kvDim, group: r.group };
    const steps = await this.attentionPasses(this.input('q', r.q), this.input('k', r.k), this.input('v', r.v), r.T, shape, out);
    return this.submit(steps, [{ buffer: out, at: 0, floats: n }]);
  }

  private async ffnActivations(x: Float32Array, f: FfnIds, kind: FfnKind, hidden: number): Promise<Float32Array> {
    const a = this.output('act', hidden);
    const pass = await this.activationPass(this.input('x', x), x.length, f, kind, this.identity(hidden), hidden, a);
    return this.submit([pass], [{ buffer: a, at: 0, floats: hidden }]);
  }

  private async ffnDown(a: Float32Array, f: FfnIds, kept: Int32Array | null, dim: number, hidden: number): Promise<Float32Array> {
    const out = this.output('out', dim);
    const ids = kept ? this.input('kept', new Uint32Array(kept.buffer, kept.byteOffset, kept.length)) : this.identity(hidden);
    const pass = await this.downPass(this.input('a', a), f, ids, kept ? kept.length : hidden, dim, out);
    return this.submit([pass], [{ buffer: out, at: 0, floats: dim }]);
  }

  /** TDA's sliced FFN: activations of kept neurons, then their down rows; both read kept rows in place. */
  private async ffnSliced(x: Float32Array, f: FfnIds, kind: FfnKind, kept: Int32Array | null, hidden: number): Promise<Float32Array> {
    const dim = x.length;
    const n = kept ? kept.length : hidden;
    const ids = kept ? this.input('kept', new Uint32Array(kept.buffer, kept.byteOffset, kept.length)) : this.identity(hidden);
    const a = this.buffer('act', hidden * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const out = this.output('out', dim);
    const passes = [await this.activationPass(this.input('x', x), dim, f, kind, ids, n, a), await this.downPass(a, f, ids, n, dim, out)];
    return this.submit(passes, [{ buffer: out, at: 0, floats: dim }]);
  }

  /** Kernels.attentionBlock: one token's attention block, x updated and its K/V rows written (reply: x, K row, V row). */
  private async attentionBlock(r: Extract<Request, { op: 'attentionBlock' }>): Promise<Float32Array> {
    const { dim, kvDim: kv } = r.shape;
    const x = this.blockInput('blk x', r.x);
    const [kAll, vAll] = this.caches(r.kRows, r.vRows, (r.pos + 1) * kv);
    const steps = await this.attentionSteps(x, r.layer, kAll, vAll, r.pos, r.shape);
    return this.submit(steps, [
      { buffer: x, at: 0, floats: dim },
      { buffer: kAll, at: r.pos * kv, floats: kv },
      { buffer: vAll, at: r.pos * kv, floats: kv },
    ]);
  }

  /**
   * Kernels.prefillLayer as src/reference/prefill.ts composes it from the per-token
   * kernels, token after token in one command buffer (reply: x, activations, K rows, V rows).
   */
  private async prefillLayer(r: Extract<Request, { op: 'prefillLayer' }>): Promise<Float32Array> {
    const s = r.shape;
    const { dim, hiddenDim: hidden, kvDim: kv } = s;
    const xAll = this.blockInput('blk x', r.x);
    const aAll = this.block('blk a', r.count * hidden);
    const [kAll, vAll] = this.caches(r.kRows, r.vRows, (r.pos0 + r.count) * kv);
    const xt = this.block('blk xt', dim);
    const xb = this.block('blk ffn in', dim);
    const act = this.block('blk act', hidden);
    const o = this.block('blk ffn out', dim);
    const all = this.identity(hidden);
    // Sized for the last token now: a scratch buffer that grew mid-request would be
    // destroyed while earlier passes of the same command buffer still use it.
    this.buffer('scores', s.nHeads * (r.pos0 + r.count) * 4, GPUBufferUsage.STORAGE);
    const steps: Step[] = [];
    for (let t = 0; t < r.count; t++) {
      steps.push(copyStep(xAll, t * dim, xt, 0, dim));
      steps.push(...(await this.attentionSteps(xt, r.layer, kAll, vAll, r.pos0 + t, s)));
      steps.push(...(await this.rmsPasses(xt, dim, r.layer.rmsFfn, s.normEps, xb)));
      steps.push(await this.activationPass(xb, dim, r.layer.ffn, s.ffnKind, all, hidden, act));
      steps.push(copyStep(act, 0, aAll, t * hidden, hidden));
      steps.push(await this.downPass(act, r.layer.ffn, all, hidden, dim, o));
      steps.push(await this.addPass(xt, o, dim));
      steps.push(copyStep(xt, 0, xAll, t * dim, dim));
    }
    return this.submit(steps, [
      { buffer: xAll, at: 0, floats: r.count * dim },
      { buffer: aAll, at: 0, floats: r.count * hidden },
      { buffer: kAll, at: r.pos0 * kv, floats: r.count * kv },
      { buffer: vAll, at: r.pos0 * kv, floats: r.count * kv },
    ]);
  }

  /** Decoder.forward's attention block for the token at `pos` on device buffers: xt += Wo·attention(…), K/V row pos written. */
  private async attentionSteps(xt: GPUBuffer, L: LayerIds, kAll: GPUBuffer, vAll: GPUBuffer, pos: number, s: LayerShape): Promise<Step[]> {
    const { dim, kvDim: kv, headSize } = s;
    const xb = this.block('blk att in', dim);
    const q = this.block('blk q', dim);
    const k = this.block('blk k row', kv);
    const v = this.block('blk v row', kv);
    const att = this.block('blk att out', dim);
    const o = this.block('blk att proj', dim);
    const heads = { nHeads: s.nHeads, headSize, kvDim: kv, group: s.nHeads / s.nKvHeads };
    return [
      ...(await this.rmsPasses(xt, dim, L.rmsAtt, s.normEps, xb)),
      await this.matvecPass(L.wq, xb, dim, dim, q),
      await this.matvecPass(L.wk, xb, kv, dim, k),
      await this.matvecPass(L.wv, xb, kv, dim, v),
      await this.ropePass(q, dim, pos, headSize, s.ropeTheta),
      await this.ropePass(k, kv, pos, headSize, s.ropeTheta),
      copyStep(k, 0, kAll, pos * kv, kv),
      copyStep(v, 0, vAll, pos * kv, kv),
      ...(await this.attentionPasses(q, kAll, vAll, pos + 1, heads, att)),
      await this.matvecPass(L.wo, att, dim, dim, o),
      await this.addPass(xt, o, dim),
    ];
  }

  // ------------------------------------------------------------------ one builder per kernel

  private async matvecPass(w: number, x: GPUBuffer, rows: number, cols: number, out: GPUBuffer): Promise<Pass> {
    return { pipeline: await this.pipeline('matvec', MATVEC), buffers: [this.params([rows, cols]), this.weight(w), x, out], groups: groups(rows) };
  }

  private async rmsPasses(x: GPUBuffer, n: number, weight: number, eps: number, out: GPUBuffer): Promise<Pass[]> {
    const scale = this.buffer('scale', 4, GPUBufferUsage.STORAGE);
    return [
      { pipeline: await this.pipeline('rms scale', RMS_SCALE), buffers: [this.params([n], [eps]), x, scale], groups: groups(1) },
      { pipeline: await this.pipeline('rms apply', RMS_APPLY), buffers: [this.params([n]), x, this.weight(weight), scale, out], groups: groups(n) },
    ];
  }

  /** RoPE in place on the first n floats of v. */
  private async ropePass(v: GPUBuffer, n: number, pos: number, headSize: number, theta: number): Promise<Pass> {
    const pairs = Math.floor(n / 2);
    const table = this.constant(`invfreq ${headSize} ${theta}`, () => inverseFrequencies(headSize, theta));
    return { pipeline: await this.pipeline('rope', ROPE), buffers: [this.params([pairs, headSize], [pos]), table, v], groups: groups(pairs) };
  }

  private async attentionPasses(
    q: GPUBuffer, k: GPUBuffer, v: GPUBuffer, T: number,
    h: { nHeads: number; headSize: number; kvDim: number; group: number }, out: GPUBuffer,
  ): Promise<Pass[]> {
    const params = this.params([h.nHeads, h.headSize, h.kvDim, T, h.group], [1 / Math.sqrt(h.headSize)]);
    const scores = this.buffer('scores', h.nHeads * T * 4, GPUBufferUsage.STORAGE);
    const sums = this.buffer('sums', h.nHeads * 4, GPUBufferUsage.STORAGE);
    return [
      { pipeline: await this.pipeline('attention scores', ATTN_SCORES), buffers: [params, q, k, scores], groups: groups(h.nHeads * T) },
      { pipeline: await this.pipeline('attention softmax', ATTN_SOFTMAX), buffers: [params, scores, sums], groups: groups(h.nHeads) },
      { pipeline: await this.pipeline('attention output', ATTN_OUTPUT), buffers: [params, v, scores, sums, out], groups: groups(h.nHeads * h.headSize) },
    ];
  }

  /** Activations of the n neurons listed in ids, from the first `dim` floats of x. */
  private async activationPass(x: GPUBuffer, dim: number, f: FfnIds, kind: FfnKind, ids: GPUBuffer, n: number, a: GPUBuffer): Promise<Pass> {
    const gated = isGated(kind);
    const hidden = this.weight(f.up).size / 4 / dim;
    const third = gated ? this.weight(f.gate) : f.upBias ? this.weight(f.upBias) : this.zeros(hidden);
    return {
      pipeline: await this.pipeline(`act ${kind}`, activationShader(kind, gated)),
      buffers: [this.params([dim, n]), x, this.weight(f.up), third, ids, a],
      groups: groups(n),
    };
  }

  private async downPass(a: GPUBuffer, f: FfnIds, ids: GPUBuffer, n: number, dim: number, out: GPUBuffer): Promise<Pass> {
    return {
      pipeline: await this.pipeline('down', DOWN),
      buffers: [this.params([dim, n]), a, this.weight(f.downT), ids, f.downBias ? this.weight(f.downBias) : this.zeros(dim), out],
      groups: groups(dim),
    };
  }

  private async addPass(x: GPUBuffer, y: GPUBuffer, n: number): Promise<Pass> {
    return { pipeline: await this.pipeline('add', ADD), buffers: [this.params([n]), x, y], groups: groups(n) };
  }

  // ------------------------------------------------------------------ plumbing

  /**
   * Encodes the steps, copies each output range to one readback buffer (in order),
   * submits, waits and returns the concatenated floats.
   */
  private async submit(steps: Step[], outputs: Readout[]): Promise<Float32Array> {
    const d = this.device;
    const bytes = 4 * outputs.reduce((n, o) => n + o.floats, 0);
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    const enc = d.createCommandEncoder();
    for (const p of steps) {
      if ('src' in p) {
        if (p.bytes > 0) enc.copyBufferToBuffer(p.src, p.srcOffset, p.dst, p.dstOffset, p.bytes);
        continue;
      }
      const bindGroup = d.createBindGroup({
        layout: p.pipeline.getBindGroupLayout(0),
        entries: p.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const cp = enc.beginComputePass();
      cp.setPipeline(p.pipeline);
      cp.setBindGroup(0, bindGroup);
      if (p.groups[0] > 0) cp.dispatchWorkgroups(p.groups[0], p.groups[1]);
      cp.end();
    }
    const staging = this.buffer('readback', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    let at = 0;
    for (const o of outputs) {
      if (o.floats > 0) enc.copyBufferToBuffer(o.buffer, o.at * 4, staging, at, o.floats * 4);
      at += o.floats * 4;
    }
    d.queue.submit([enc.finish()]);
    const validation = d.popErrorScope();
    const memory = d.popErrorScope();
    if (bytes === 0) return new Float32Array(0);
    // An invalid command buffer is not executed, but the readback still maps: only
    // the error scopes tell a result from stale memory, so both are awaited.
    const [mapped, ve, me] = await Promise.allSettled([staging.mapAsync(GPUMapMode.READ, 0, bytes), validation, memory]);
    const problem =
      (ve.status === 'fulfilled' ? ve.value?.message : String(ve.reason)) ??
      (me.status === 'fulfilled' ? me.value?.message : String(me.reason));
    if (mapped.status === 'rejected') throw new Error(problem ?? `readback failed: ${String(mapped.reason)}`);
    try {
      if (problem) throw new Error(`WebGPU error: ${problem.split('\n')[0]}`);
      return new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    } finally {
      staging.unmap();
    }
  }

  private async pipeline(key: string, code: string): Promise<GPUComputePipeline> {
    const have = this.pipelines.get(key);
    if (have) return have;
    // Inside an error scope, so a bad shader becomes this request's error instead
    // of a message printed by the runtime.
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: key });
    const p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    const scoped = await this.device.popErrorScope();
    const error = (await module.getCompilationInfo()).messages.find((m) => m.type === 'error');
    if (error) throw new Error(`WGSL of ${key}, line ${error.lineNum}:${error.linePos}: ${error.message}`);
    if (scoped) throw new Error(`pipeline ${key}: ${scoped.message.split('\n')[0]}`);
    this.pipelines.set(key, p);
    return p;
  }

  private upload(id: number, data: Float32Array): void {
    if (data.byteLength > this.adapter.maxBufferBytes) {
      throw new Error(`a weight of ${data.byteLength} bytes exceeds the adapter's largest storage buffer (${this.adapter.maxBufferBytes} bytes)`);
    }
    const b = this.device.createBuffer({ size: Math.max(4, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    this.weights.get(id)?.destroy();
    this.weights.set(id, b);
  }

  private weight(id: number): GPUBuffer {
    const b = this.weights.get(id);
    if (!b) throw new Error(`weight ${id} was never uploaded`);
    return b;
  }

  /**
   * A scratch buffer for one role, at least `bytes` long, reused across requests:
   * requests run one at a time and each waits for its readback, so no request can
   * see a buffer another is still using.
   */
  private buffer(role: string, bytes: number, usage: number): GPUBuffer {
    const have = this.scratch.get(role);
    if (have && have.size >= bytes) return have;
    have?.destroy();
    const size = Math.max(16, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
    const b = this.device.createBuffer({ size, usage });
    this.scratch.set(role, b);
    return b;
  }

  private input(role: string, data: Float32Array | Uint32Array, extraUsage = 0): GPUBuffer {
    const b = this.buffer(role, data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | extraUsage);
    if (data.byteLength > 0) this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return b;
  }

  private output(role: string, floats: number): GPUBuffer {
    return this.buffer(role, floats * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  }

  /**
   * A uniform block: u32 fields first, then f32 fields, as the shaders' structs declare
   * them. Every call of one request gets a buffer of its own: queue writes all land
   * before the command buffer runs, so two passes sharing one would both see the last.
   */
  private params(u32: number[], f32: number[] = []): GPUBuffer {
    const words = new ArrayBuffer(32);
    new Uint32Array(words, 0, u32.length).set(u32);
    new Float32Array(words, u32.length * 4, f32.length).set(f32);
    const b = this.buffer(`uniform ${this.uniforms++}`, 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(b, 0, words);
    return b;
  }

  /** A device buffer of the fused entries: passes write it, copies move rows in and out of it. */
  private block(role: string, floats: number): GPUBuffer {
    return this.buffer(role, floats * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  }

  private blockInput(role: string, data: Float32Array): GPUBuffer {
    const b = this.block(role, data.length);
    if (data.byteLength > 0) this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return b;
  }

  /** The layer's K and V caches on the device for `floats` floats each, their first rows from the host. */
  private caches(kRows: Float32Array, vRows: Float32Array, floats: number): [GPUBuffer, GPUBuffer] {
    const k = this.block('blk key cache', floats);
    const v = this.block('blk value cache', floats);
    if (kRows.byteLength > 0) this.device.queue.writeBuffer(k, 0, kRows.buffer as ArrayBuffer, kRows.byteOffset, kRows.byteLength);
    if (vRows.byteLength > 0) this.device.queue.writeBuffer(v, 0, vRows.buffer as ArrayBuffer, vRows.byteOffset, vRows.byteLength);
    return [k, v];
  }

  private constant(key: string, make: () => Float32Array | Uint32Array): GPUBuffer {
    let b = this.constants.get(key);
    if (!b) {
      const data = make();
      b = this.device.createBuffer({ size: Math.max(4, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
      this.constants.set(key, b);
    }
    return b;
  }

  /** The kept list 0, 1, …, n−1: "all neurons" runs the same shaders as a real list. */
  private identity(n: number): GPUBuffer {
    return this.constant(`identity ${n}`, () => Uint32Array.from({ length: n }, (_, i) => i));
  }

  /** n zeros: the absent bias (new buffers are zero-filled in WebGPU). */
  private zeros(n: number): GPUBuffer {
    return this.constant(`zeros ${n}`, () => new Float32Array(n));
  }
}
