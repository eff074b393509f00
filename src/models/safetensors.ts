// safetensors files (Hugging Face): u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the
// tensor bytes; offsets are relative to the end of the header, shapes row-major
// (a Linear's weight is [out, in], the kit's layout). F32, F16 and BF16 are read.
//
// Every header field is checked against the file before a byte of tensor data is
// allocated, so a corrupted file ends in one UserError naming the file and the field.

import fs from 'node:fs';
import type { HalfLoad } from '../core/model.js';
import { UserError, describeError } from '../errors.js';
import { shapeText } from './assemble.js';
import { type DType, byteSize } from './dtypes.js';
import { type TensorExtent, readTensor, readTensorTransposed } from './tensor-read.js';

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** The header is JSON text; no real model's header comes near this. */
const MAX_HEADER_BYTES = 100 * 2 ** 20;
const DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];

export class SafetensorsFile {
  readonly entries = new Map<string, SafetensorsEntry>();
  private fd: number | null = null;

  constructor(readonly file: string, header: Uint8Array, private readonly size: number) {
    this.parseHeader(header);
  }

  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new UserError(`cannot read safetensors file ${file}: ${describeError(e)}`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) throw new UserError(`${file}: ${size} bytes is too short for a safetensors header (truncated)`);
      const lenBuf = Buffer.alloc(8);
      fs.readSync(fd, lenBuf, 0, 8, 0);
      const n = Number(lenBuf.readBigUInt64LE(0));
      if (!(n >= 2 && n <= MAX_HEADER_BYTES && 8 + n <= size)) {
        throw new UserError(`${file}: safetensors header length ${n} does not fit the file (${size} bytes; truncated or not safetensors)`);
      }
      const header = Buffer.alloc(n);
      fs.readSync(fd, header, 0, n, 8);
      const st = new SafetensorsFile(file, header, size);
      st.fd = fd;
      return st;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Parses and checks the JSON header of a file of `size` bytes. */
  private parseHeader(header: Uint8Array): void {
    const file = this.file;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(header).toString('utf8'));
    } catch (e) {
      throw new UserError(`${file}: safetensors header is not valid JSON (${(e as Error).message})`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${file}: safetensors header is not a JSON object`);
    const dataStart = 8 + header.length;
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const where = `${file}: tensor ${name}`;
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (e === null || typeof e !== 'object') throw new UserError(`${where}: header entry is not an object`);
      if (typeof e.dtype !== 'string' || !DTYPES.includes(e.dtype)) throw new UserError(`${where}: dtype ${JSON.stringify(e.dtype)} is not one of ${DTYPES.join(', ')}`);
      if (!Array.isArray(e.shape) || e.shape.length > 8 || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new UserError(`${where}: shape ${JSON.stringify(e.shape)} is not a list of sizes`);
      }
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
        throw new UserError(`${where}: data_offsets ${JSON.stringify(off)} is not a byte range [begin, end]`);
      }
      const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
      const bytes = byteSize(e.dtype as DType, count);
      if (off[1] - off[0] !== bytes) throw new UserError(`${where}: data_offsets [${off.join(', ')}] hold ${off[1] - off[0]} bytes, shape ${shapeText(e.shape as number[])} of ${e.dtype} needs ${bytes}`);
      if (dataStart + off[1] > this.size) throw new UserError(`${where}: data_offsets [${off.join(', ')}] lie outside the file (${this.size} bytes; truncated?)`);
      this.entries.set(name, { dtype: e.dtype as DType, shape: e.shape as number[], begin: dataStart + off[0], end: dataStart + off[1] });
    }
  }

  /** The tensor as float32, checked to have `shape` (keepHalf, wordsOnly: see TensorExtent). */
  read(name: string, shape: number[], half: HalfLoad = {}): Float32Array {
    const { ext, n } = this.locate(name, shape, half);
    return readTensor(ext, n);
  }

  /** A [rows, cols] tensor as its cols × rows transpose (read straight into place). */
  readTransposed(name: string, shape: [rows: number, cols: number], half: HalfLoad = {}): Float32Array {
    return readTensorTransposed(this.locate(name, shape, half).ext, shape[0], shape[1]);
  }

  private locate(name: string, shape: number[], half: HalfLoad): { ext: TensorExtent; n: number } {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`${this.file}: missing tensor ${name}`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(`${this.file}: tensor ${name} has shape [${e.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const ext = { fd: this.fd!, start: e.begin, type: e.dtype, what: `${this.file}: tensor ${name}`, keepHalf: half.keepHalf ?? false, wordsOnly: half.wordsOnly };
    return { ext, n };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Parses a header alone (for the fuzz tests: no file needed). */
export function parseSafetensorsHeader(file: string, header: Uint8Array, size: number): Map<string, SafetensorsEntry> {
  return new SafetensorsFile(file, header, size).entries;
}
