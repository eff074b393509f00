// Reads back a GGUF header (metadata and tensor infos) — used to check the writer
// (round trip in the tests) and to sanity-check an export before llama.cpp loads it.

import fs from 'node:fs';
import { GGUF_ALIGNMENT, GGUF_MAGIC, GgufType } from './gguf-writer.js';

export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: number;
  /** Relative to dataOffset. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, unknown>;
  tensors: GgufTensorInfo[];
  dataOffset: number;
}

export function readGgufHeader(file: string, maxHeaderBytes = 64 * 2 ** 20): GgufHeader {
  const fd = fs.openSync(file, 'r');
  let buf: Buffer;
  try {
    const size = Math.min(fs.fstatSync(fd).size, maxHeaderBytes);
    buf = Buffer.alloc(size);
    fs.readSync(fd, buf, 0, size, 0);
  } finally {
    fs.closeSync(fd);
  }
  let p = 0;
  const u32 = () => ((p += 4), buf.readUInt32LE(p - 4));
  const u64 = () => ((p += 8), Number(buf.readBigUInt64LE(p - 8)));
  const string = () => {
    const n = u64();
    p += n;
    return buf.toString('utf8', p - n, p);
  };
  const scalar = (t: GgufType): unknown => {
    switch (t) {
      case GgufType.UINT8: return (p += 1), buf.readUInt8(p - 1);
      case GgufType.INT8: return (p += 1), buf.readInt8(p - 1);
      case GgufType.UINT16: return (p += 2), buf.readUInt16LE(p - 2);
      case GgufType.INT16: return (p += 2), buf.readInt16LE(p - 2);
      case GgufType.UINT32: return u32();
      case GgufType.INT32: return (p += 4), buf.readInt32LE(p - 4);
      case GgufType.FLOAT32: return (p += 4), buf.readFloatLE(p - 4);
      case GgufType.BOOL: return (p += 1), buf.readUInt8(p - 1) !== 0;
      case GgufType.STRING: return string();
      case GgufType.UINT64: return u64();
      case GgufType.INT64: return (p += 8), Number(buf.readBigInt64LE(p - 8));
      case GgufType.FLOAT64: return (p += 8), buf.readDoubleLE(p - 8);
      case GgufType.ARRAY: {
        const it = u32();
        const n = u64();
        return Array.from({ length: n }, () => scalar(it));
      }
      default:
        throw new Error(`gguf: unknown value type ${t} at byte ${p}`);
    }
  };
  if (u32() !== GGUF_MAGIC) throw new Error(`${file}: not a GGUF file`);
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, unknown>();
  for (let i = 0; i < nKv; i++) {
    const key = string();
    metadata.set(key, scalar(u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = string();
    const nd = u32();
    const ne = Array.from({ length: nd }, () => u64());
    tensors.push({ name, ne, type: u32(), offset: u64() });
  }
  const align = Number(metadata.get('general.alignment') ?? GGUF_ALIGNMENT);
  return { version, metadata, tensors, dataOffset: Math.ceil(p / align) * align };
}
