/// <reference types="@webgpu/types" />
// The GPU side of the webgpu backend: owns the GPUDevice, the uploaded weights and
// the compiled pipelines, and runs one request at a time (protocol.ts), each as one
// command buffer followed by one readback of its output. It knows nothing about
// threads or shared memory, so the same code runs in a Node worker (dawn.node) and a
// browser worker (navigator.gpu).

import { isGated, type FfnKind } from '../../core/model.js';
import type { AdapterSummary, FfnIds, Request } from './protocol.js';
import {
  activationShader,
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
    }
  }

  dispose(): void {
    this.device.destroy();
  }

  // ------------------------------------------------------------------ kernels

  private async matvec(w: number, x: Float32Array, rows: number, cols: number): Promise<Float32Array> {
    const out = this.output('out', rows);
    const pass: Pass = {
      pipeline: await this.pipeline('matvec', MATVEC),
      buffers: [this.params('p0', [rows, cols]), this.weight(w), this.input('x', x), out],
      groups: groups(rows),
    };
    return this.submit([pass], out, rows);
  }

  private async rmsnorm(x: Float32Array, weight: number, eps: number): Promise<Float32Array> {
    const n = x.length;
    const xs = this.input('x', x);
    const scale = this.buffer('scale', 4, GPUBufferUsage.STORAGE);
    const out = this.output('out', n);
    const passes: Pass[] = [
      { pipeline: await this.pipeline('rms scale', RMS_SCALE), buffers: [this.params('p0', [n], [eps]), xs, scale], groups: groups(1) },
      {
        pipeline: await this.pipeline('rms apply', RMS_APPLY),
        buffers: [this.params('p1', [n]), xs, this.weight(weight), scale, out],
        groups: groups(n),
      },
    ];
    return this.submit(passes, out, n);
  }

  private async rope(vec: Float32Array, pos: number, headSize: number, theta: number): Promise<Float32Array> {
    const pairs = Math.floor(vec.length / 2);
    const key = `invfreq ${headSize} ${theta}`;
    const table = this.constant(key, () => inverseFrequencies(headSize, theta));
    const v = this.input('vec', vec, GPUBufferUsage.COPY_SRC);
    const pass: Pass = {
      pipeline: await this.pipeline('rope', ROPE),
      buffers: [this.params('p0', [pairs, headSize], [pos]), table, v],
      groups: groups(pairs),
    };
    return this.submit([pass], v, vec.length);
  }

  private async attention(r: Extract<Request, { op: 'attention' }>): Promise<Float32Array> {
    const n = r.nHeads * r.headSize;
    const params = this.params('p0', [r.nHeads, r.headSize, r.kvDim, r.T, r.group], [1 / Math.sqrt(r.headSize)]);
    const scores = this.buffer('scores', r.nHeads * r.T * 4, GPUBufferUsage.STORAGE);
    const sums = this.buffer('sums', r.nHeads * 4, GPUBufferUsage.STORAGE);
    const out = this.output('out', n);
    const passes: Pass[] = [
      {
        pipeline: await this.pipeline('attention scores', ATTN_SCORES),
        buffers: [params, this.input('q', r.q), this.input('k', r.k), scores],
        groups: groups(r.nHeads * r.T),
      },
      { pipeline: await this.pipeline('attention softmax', ATTN_SOFTMAX), buffers: [params, scores, sums], groups: groups(r.nHeads) },
      {
        pipeline: await this.pipeline('attention output', ATTN_OUTPUT),
        buffers: [params, this.input('v', r.v), scores, sums, out],
        groups: groups(n),
      },
    ];
    return this.submit(passes, out, n);
  }

  private async ffnActivations(x: Float32Array, f: FfnIds, kind: FfnKind, hidden: number): Promise<Float32Array> {
    const a = this.output('act', hidden);
    const pass = await this.activationPass(x, f, kind, this.identity(hidden), hidden, a);
    return this.submit([pass], a, hidden);
  }

  private async ffnDown(a: Float32Array, f: FfnIds, kept: Int32Array | null, dim: number, hidden: number): Promise<Float32Array> {
    const out = this.output('out', dim);
    const ids = kept ? this.input('kept', new Uint32Array(kept.buffer, kept.byteOffset, kept.length)) : this.identity(hidden);
    const pass = await this.downPass(this.input('a', a), f, ids, kept ? kept.length : hidden, dim, out);
    return this.submit([pass], out, dim);
  }

  /** TDA's sliced FFN: activations of kept neurons, then their down rows; both read kept rows in place. */
  private async ffnSliced(x: Float32Array, f: FfnIds, kind: FfnKind, kept: Int32Array | null, hidden: number): Promise<Float32Array> {
    const dim = x.length;
    const n = kept ? kept.length : hidden;
    const ids = kept ? this.input('kept', new Uint32Array(kept.buffer, kept.byteOffset, kept.length)) : this.identity(hidden);
    const a = this.buffer('act', hidden * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const out = this.output('out', dim);
    const passes = [await this.activationPass(x, f, kind, ids, n, a), await this.downPass(a, f, ids, n, dim, out)];
    return this.submit(passes, out, dim);
  }

  private async activationPass(x: Float32Array, f: FfnIds, kind: FfnKind, ids: GPUBuffer, n: number, a: GPUBuffer): Promise<Pass> {
    const gated = isGated(kind);
    const hidden = this.weight(f.up).size / 4 / x.length;
    const third = gated ? this.weight(f.gate) : f.upBias ? this.weight(f.upBias) : this.zeros(hidden);
    return {
      pipeline: await this.pipeline(`act ${kind}`, activationShader(kind, gated)),
      buffers: [this.params('p-act', [x.length, n]), this.input('x', x), this.weight(f.up), third, ids, a],
      groups: groups(n),
    };
  }

  private async downPass(a: GPUBuffer, f: FfnIds, ids: GPUBuffer, n: number, dim: number, out: GPUBuffer): Promise<Pass> {
    return {
      pipeline: await this.pipeline('down', DOWN),
      buffers: [this.params('p-down', [dim, n]), a, this.weight(f.downT), ids, f.downBias ? this.weight(f.downBias) : this.zeros(dim), out],
      groups: groups(dim),
    };
  }

  // ------------------------------------------------------------------ plumbing

  /** Encodes the passes, copies `floats` floats of `out` to a readback buffer, submits and waits for the result. */
  private async submit(passes: Pass[], out: GPUBuffer, floats: number): Promise<Float32Array> {
    const d = this.device;
    const bytes = floats * 4;
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    const enc = d.createCommandEncoder();
    for (const p of passes) {
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
    if (bytes > 0) enc.copyBufferToBuffer(out, 0, staging, 0, bytes);
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

  /** A uniform block: u32 fields first, then f32 fields, as the shaders' structs declare them. */
  private params(role: string, u32: number[], f32: number[] = []): GPUBuffer {
    const words = new ArrayBuffer(32);
    new Uint32Array(words, 0, u32.length).set(u32);
    new Float32Array(words, u32.length * 4, f32.length).set(f32);
    const b = this.buffer(role, 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(b, 0, words);
    return b;
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
