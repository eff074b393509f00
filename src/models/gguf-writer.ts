// A minimal GGUF (version 3) writer: typed key/value metadata, then F32, F16, BF16, Q8_0
// or Q4_0 tensors. It writes the kit's test files and the llama.cpp baseline's exports;
// reading goes through src/models/gguf.ts.
//
// File layout, little-endian throughout:
//   "GGUF" u32 version=3, u64 tensor_count, u64 kv_count
//   kv_count × { string key, u32 type, value }
//   tensor_count × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   zero padding to `general.alignment` (32), then tensor data, each tensor at its
//   offset (relative to the data start), each offset a multiple of the alignment.
// Strings are u64 length + UTF-8 bytes (no terminator). ne[0] is the fastest-varying
// dimension, so a row-major rows × cols matrix is ne = [cols, rows].
//
// Tensor data is streamed from the caller's Float32Arrays with writeSync, so a model
// of a few GB never needs a second in-memory copy.

import fs from 'node:fs';
import { type DType, byteSize, encodeTensor } from './dtypes.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;
export const GGML_TYPE_F32 = 0;
/** ggml_type ids of the element types the kit reads and writes. */
export const GGML_TYPES: Record<DType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, BF16: 30 };

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type GgufValue =
  | { type: GgufType.UINT32 | GgufType.INT32 | GgufType.FLOAT32 | GgufType.UINT64 | GgufType.BOOL; value: number | boolean }
  | { type: GgufType.STRING; value: string }
  | { type: GgufType.ARRAY; itemType: GgufType.STRING; value: string[] }
  | { type: GgufType.ARRAY; itemType: GgufType.FLOAT32 | GgufType.INT32; value: ArrayLike<number> };

export const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
export const bool = (value: boolean): GgufValue => ({ type: GgufType.BOOL, value });
export const f32 = (value: number): GgufValue => ({ type: GgufType.FLOAT32, value });
export const str = (value: string): GgufValue => ({ type: GgufType.STRING, value });
export const strings = (value: string[]): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.STRING, value });
export const f32s = (value: ArrayLike<number>): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.FLOAT32, value });
export const i32s = (value: ArrayLike<number>): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.INT32, value });

export interface GgufTensor {
  name: string;
  /** GGUF order: ne[0] fastest (columns of a row-major matrix). */
  ne: number[];
  /** Produces the F32 data when it is written (lets callers build a transposed copy lazily). */
  data: () => Float32Array;
  /** Element type stored in the file (the F32 data is encoded to it). Default F32. */
  type?: DType;
  /** Already-encoded bytes of `type`, used instead of `data` (lets huge synthetic files skip float32). */
  raw?: () => Uint8Array;
}

/** Grows a byte buffer for the header part (metadata + tensor infos). */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(out: ByteSink, v: GgufValue): void {
  out.u32(v.type);
  switch (v.type) {
    case GgufType.UINT32:
      out.u32(Number(v.value));
      return;
    case GgufType.INT32:
      out.i32(Number(v.value));
      return;
    case GgufType.FLOAT32:
      out.f32(Number(v.value));
      return;
    case GgufType.UINT64:
      out.u64(Number(v.value));
      return;
    case GgufType.BOOL:
      out.u8(v.value ? 1 : 0);
      return;
    case GgufType.STRING:
      out.str(v.value);
      return;
    case GgufType.ARRAY:
      out.u32(v.itemType);
      out.u64(v.value.length);
      if (v.itemType === GgufType.STRING) for (const s of v.value as string[]) out.str(s);
      else if (v.itemType === GgufType.FLOAT32) for (let i = 0; i < v.value.length; i++) out.f32((v.value as ArrayLike<number>)[i]);
      else for (let i = 0; i < v.value.length; i++) out.i32((v.value as ArrayLike<number>)[i]);
      return;
  }
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Writes a GGUF v3 file; returns the byte offset where tensor data starts. */
export function writeGguf(file: string, metadata: [string, GgufValue][], tensors: GgufTensor[]): { dataOffset: number; bytes: number } {
  const head = new ByteSink();
  head.u32(GGUF_MAGIC);
  head.u32(GGUF_VERSION);
  head.u64(tensors.length);
  head.u64(metadata.length);
  for (const [key, value] of metadata) {
    head.str(key);
    writeValue(head, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.ne.length);
    for (const n of t.ne) head.u64(n);
    head.u32(GGML_TYPES[t.type ?? 'F32']);
    head.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + byteSize(t.type ?? 'F32', t.ne.reduce((a, b) => a * b, 1)), GGUF_ALIGNMENT);
  }
  const dataOffset = alignUp(head.length, GGUF_ALIGNMENT);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head.bytes());
    let pos = head.length;
    const pad = (to: number) => {
      if (to > pos) fs.writeSync(fd, Buffer.alloc(to - pos));
      pos = to;
    };
    tensors.forEach((t, i) => {
      pad(dataOffset + offsets[i]);
      const want = t.ne.reduce((a, b) => a * b, 1);
      let encoded: Uint8Array;
      if (t.raw) {
        encoded = t.raw();
        if (encoded.length !== byteSize(t.type ?? 'F32', want)) throw new Error(`gguf: tensor ${t.name} has ${encoded.length} bytes, shape needs ${byteSize(t.type ?? 'F32', want)}`);
      } else {
        const data = t.data();
        if (data.length !== want) throw new Error(`gguf: tensor ${t.name} has ${data.length} values, shape needs ${want}`);
        encoded = t.type && t.type !== 'F32' ? encodeTensor(t.type, data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      }
      const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
      // writeSync may write less than asked for very large buffers; loop until done.
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
      pos += bytes.length;
    });
    pad(alignUp(pos, GGUF_ALIGNMENT));
    return { dataOffset, bytes: pos };
  } finally {
    fs.closeSync(fd);
  }
}
