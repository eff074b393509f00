// Safetensors encoding of the conformance vectors, on bytes (no file system, so
// the browser build can use it too). The format (the safetensors project's
// specification): an unsigned 64-bit little-endian header length N, N bytes of
// UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets: [begin,
// end]} (offsets into the data that follows the header), optionally
// "__metadata__": {string: string}; then the raw little-endian tensor data.
// Only the three dtypes the vectors use: F64, F32, I32.

export type Tensor = Float64Array | Float32Array | Int32Array;

export interface NamedTensor {
  data: Tensor;
  /** Default: [data.length]. */
  shape?: number[];
}

const DTYPE_OF = (t: Tensor): 'F64' | 'F32' | 'I32' => (t instanceof Float64Array ? 'F64' : t instanceof Float32Array ? 'F32' : 'I32');

/**
 * Encodes tensors and optional string metadata as a safetensors file. The data
 * has no holes (the specification forbids them): F64 tensors first, then the
 * 4-byte ones, so that every tensor is aligned to its element size.
 */
export function encodeSafetensors(tensors: Record<string, Tensor | NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Tensor[] = [];
  let offset = 0;
  const entries = Object.entries(tensors).map(([name, v]) => [name, ArrayBuffer.isView(v) ? { data: v as Tensor } : (v as NamedTensor)] as const);
  entries.sort((a, b) => b[1].data.BYTES_PER_ELEMENT - a[1].data.BYTES_PER_ELEMENT);
  for (const [name, t] of entries) {
    const shape = t.shape ?? [t.data.length];
    if (shape.reduce((a, b) => a * b, 1) !== t.data.length) throw new Error(`tensor ${name}: shape [${shape}] does not hold ${t.data.length} elements`);
    header[name] = { dtype: DTYPE_OF(t.data), shape, data_offsets: [offset, offset + t.data.byteLength] };
    parts.push(t.data);
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so that the data starts 8-byte aligned.
  const jsonBytes = () => new TextEncoder().encode(json);
  while ((8 + jsonBytes().length) % 8 !== 0) json += ' ';
  const hb = jsonBytes();
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, { data: Tensor; shape: number[] }>;
  metadata: Record<string, string>;
}

/** Decodes a safetensors file; throws an Error with a one-line reason when it is malformed. */
export function decodeSafetensors(bytes: Uint8Array, name = 'safetensors file'): DecodedSafetensors {
  if (bytes.length < 8) throw new Error(`${name}: too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error(`${name}: header length ${n} runs past the end of the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${name}: the header is not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const base = 8 + n;
  const tensors: DecodedSafetensors['tensors'] = {};
  let metadata: Record<string, string> = {};
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [begin, end] = data_offsets ?? [];
    const Ctor = dtype === 'F64' ? Float64Array : dtype === 'F32' ? Float32Array : dtype === 'I32' ? Int32Array : undefined;
    if (!Ctor) throw new Error(`${name}: tensor ${key} has dtype ${dtype} (only F64, F32, I32 are used here)`);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin && base + end <= bytes.length)) {
      throw new Error(`${name}: tensor ${key} has data offsets [${begin}, ${end}] outside the file`);
    }
    const count = (end - begin) / Ctor.BYTES_PER_ELEMENT;
    const expected = (shape ?? []).reduce((a: number, b: number) => a * b, 1);
    if (count !== expected) throw new Error(`${name}: tensor ${key} has ${count} elements for shape [${shape}]`);
    // Copy: the data may not be aligned for a typed-array view.
    const data = new Ctor(count);
    new Uint8Array(data.buffer).set(bytes.subarray(base + begin, base + end));
    tensors[key] = { data, shape };
  }
  return { tensors, metadata };
}
