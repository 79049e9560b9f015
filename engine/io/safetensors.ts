/**
 * safetensors: read and write the format of huggingface/safetensors, as pure functions over typed arrays.
 *
 * Layout: 8 bytes (u64 little-endian) header length N, N bytes of UTF-8 JSON, then the data section.
 * The JSON maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to
 * the start of the data section) and may hold `__metadata__`, a string -> string map.
 *
 * Does:
 *  - validate every field and fail with a `SafetensorsError` whose `code` names the problem, and whose
 *    message names the source and the tensor;
 *  - return each tensor as a `RawTensor` (F16/BF16 keep their raw uint16 bits); an array is a view into
 *    `bytes` when its offset is aligned, otherwise a fresh aligned copy, so copy before mutating;
 *  - write files the way the Rust crate does: header padded with spaces to a multiple of 8, no gaps
 *    between tensors (here in alphabetical order of names, which the reader does not require).
 *  - bound what a file can make us allocate: the header is at most `SAFETENSORS_LIMITS.maxHeaderBytes`
 *    (the Rust crate's 100 MB) and holds at most `maxTensors` entries; every tensor must lie inside
 *    the file, so the data costs nothing (views) or one copy of the file's bytes (unaligned offsets).
 * Does not: touch the file system (see `files.ts`), know about `Tensor`, or support the dtypes outside
 * `StDType` (BOOL, I8, U16, F8_*...): those are refused by name. Assumes a little-endian host (all
 * current JS engines' platforms), and checks it.
 * Reference: https://github.com/huggingface/safetensors (README "Format", safetensors/src/tensor.rs).
 */

export type StDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'U8';

export type RawData = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | Uint16Array;

/** A tensor as it sits in a file: dtype, shape and a contiguous row-major typed array. */
export interface RawTensor {
  dtype: StDType;
  shape: number[];
  data: RawData;
}

export type SafetensorsErrorCode =
  | 'TRUNCATED' | 'HEADER_LENGTH' | 'BAD_JSON' | 'BAD_METADATA' | 'UNKNOWN_DTYPE' | 'BAD_SHAPE'
  | 'BAD_OFFSETS' | 'OUT_OF_BOUNDS' | 'OVERLAP' | 'BYTE_LENGTH'
  | 'TOO_LARGE' // a header or tensor count beyond SAFETENSORS_LIMITS
  | 'I64_RANGE' // decoding: an I64 value a double cannot hold exactly
  | 'DTYPE_MISMATCH'; // writer only: the typed array does not match the dtype

export class SafetensorsError extends Error {
  constructor(readonly code: SafetensorsErrorCode, message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Limits on one file (documented in docs/formats.md). */
export interface SafetensorsLimits {
  /** Largest JSON header, in bytes (the Rust crate's MAX_HEADER_SIZE). */
  maxHeaderBytes: number;
  /** Most tensors in one file. */
  maxTensors: number;
}

export const SAFETENSORS_LIMITS: Readonly<SafetensorsLimits> = {
  maxHeaderBytes: 100_000_000,
  maxTensors: 1 << 20,
};

export interface ParsedSafetensors {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<StDType, number>> = {
  F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1,
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isStDType(s: unknown): s is StDType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_SIZE, s);
}

/** Number of elements of a shape (1 for a 0-d scalar). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Parse a whole safetensors file held in memory. `source` only appears in error messages. */
export function parseSafetensors(
  bytes: Uint8Array, source = '<buffer>', limits: Partial<SafetensorsLimits> = {},
): ParsedSafetensors {
  if (!HOST_LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const { maxHeaderBytes, maxTensors } = { ...SAFETENSORS_LIMITS, ...limits };
  const header = readHeader(bytes, source);
  if (header.length > maxHeaderBytes) {
    throw new SafetensorsError('TOO_LARGE', `${source}: header of ${header.length} bytes, more than the limit of ${maxHeaderBytes}`);
  }
  const dataStart = 8 + header.length;
  const dataLength = bytes.length - dataStart;
  const json = decodeHeaderJson(header.bytes, source);
  const count = Object.keys(json).filter((k) => k !== '__metadata__').length;
  if (count > maxTensors) {
    throw new SafetensorsError('TOO_LARGE', `${source}: ${count} tensors, more than the limit of ${maxTensors}`);
  }

  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: StDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(value, source);
      continue;
    }
    const at = `${source}: tensor "${name.length > 200 ? `${name.slice(0, 200)}...` : name}"`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SafetensorsError('BAD_JSON', `${at}: header entry is not an object`);
    }
    const info = value as Record<string, unknown>;
    const dtype = checkDType(info.dtype, at);
    const shape = checkShape(info.shape, at);
    const [begin, end] = checkOffsets(info.data_offsets, at);
    if (end > dataLength) {
      throw new SafetensorsError('OUT_OF_BOUNDS',
        `${at}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes)`);
    }
    const expected = DTYPE_SIZE[dtype] * numel(shape);
    if (end - begin !== expected) {
      throw new SafetensorsError('BYTE_LENGTH', `${at}: ${dtype} [${shape.join(', ')}] needs ` +
        `${expected} bytes, data_offsets give ${end - begin}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  checkNoOverlap(entries, source);

  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    const data = bytesAsArray(e.dtype, bytes, dataStart + e.begin, numel(e.shape));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function readHeader(bytes: Uint8Array, source: string): { length: number; bytes: Uint8Array } {
  if (bytes.length < 8) {
    throw new SafetensorsError('TRUNCATED',
      `${source}: file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new SafetensorsError('HEADER_LENGTH',
      `${source}: header length ${n} runs past the end of the file (${bytes.length - 8} bytes after it)`);
  }
  const length = Number(n);
  return { length, bytes: bytes.subarray(8, 8 + length) };
}

function decodeHeaderJson(header: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(header);
  } catch {
    throw new SafetensorsError('BAD_JSON', `${source}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError('BAD_JSON', `${source}: header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError('BAD_JSON', `${source}: header JSON is not an object`);
  }
  return json as Record<string, unknown>;
}

function checkMetadata(value: unknown, source: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SafetensorsError('BAD_METADATA', `${source}: __metadata__ is not an object`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError('BAD_METADATA',
        `${source}: __metadata__["${k}"] is ${brief(v)}, not a string`);
    }
    out[k] = v;
  }
  return out;
}

function checkDType(value: unknown, at: string): StDType {
  if (!isStDType(value)) {
    throw new SafetensorsError('UNKNOWN_DTYPE', `${at}: unsupported dtype ${brief(value)} ` +
      `(supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
  }
  return value;
}

function checkShape(value: unknown, at: string): number[] {
  const ok = Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
  if (!ok) {
    throw new SafetensorsError('BAD_SHAPE',
      `${at}: shape ${brief(value)} is not an array of non-negative integers`);
  }
  const shape = value as number[];
  if (!Number.isSafeInteger(numel(shape))) {
    throw new SafetensorsError('BAD_SHAPE', `${at}: shape ${brief(value)} has too many elements`);
  }
  return shape;
}

function checkOffsets(value: unknown, at: string): [number, number] {
  const ok = Array.isArray(value) && value.length === 2 &&
    value.every((d) => Number.isSafeInteger(d) && d >= 0) && value[0] <= value[1];
  if (!ok) {
    throw new SafetensorsError('BAD_OFFSETS',
      `${at}: data_offsets ${brief(value)} is not [begin, end] integers with 0 <= begin <= end`);
  }
  return [value[0], value[1]];
}

/** A JSON value for an error message, cut to 100 characters (a hostile header can be 100 MB). */
function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}

/** Sweep the byte ranges in order of `begin`; empty ranges cannot overlap anything. */
function checkNoOverlap(entries: { name: string; begin: number; end: number }[], source: string): void {
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  let last: { name: string; end: number } | undefined;
  for (const e of sorted) {
    if (last && e.begin < last.end) {
      throw new SafetensorsError('OVERLAP',
        `${source}: tensors "${last.name}" and "${e.name}" overlap in the data section`);
    }
    if (!last || e.end > last.end) last = e;
  }
}

/** A typed array over `count` elements at `offset` of `bytes`: a view if aligned, else a copy. */
export function bytesAsArray(dtype: StDType, bytes: Uint8Array, offset: number, count: number): RawData {
  const size = DTYPE_SIZE[dtype];
  let buffer = bytes.buffer;
  let byteOffset = bytes.byteOffset + offset;
  if (byteOffset % size !== 0) {
    // Not `bytes.slice()`: on a Node Buffer that is a view, not a copy.
    const copy = new Uint8Array(count * size);
    copy.set(bytes.subarray(offset, offset + count * size));
    buffer = copy.buffer;
    byteOffset = 0;
  }
  return makeArray(dtype, buffer, byteOffset, count);
}

function makeArray(dtype: StDType, buffer: ArrayBufferLike, byteOffset: number, count: number): RawData {
  switch (dtype) {
    case 'F32': return new Float32Array(buffer, byteOffset, count);
    case 'F64': return new Float64Array(buffer, byteOffset, count);
    case 'I32': return new Int32Array(buffer, byteOffset, count);
    case 'I64': return new BigInt64Array(buffer, byteOffset, count);
    case 'U8': return new Uint8Array(buffer, byteOffset, count);
    case 'F16': case 'BF16': return new Uint16Array(buffer, byteOffset, count);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Serialize tensors (sorted by name) and optional metadata. The header is compact JSON with
 * `__metadata__` first, padded with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (!HOST_LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = map.get(name)!;
    checkWritable(name, t);
    const length = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const name of names) {
    const d = map.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

function checkWritable(name: string, t: RawTensor): void {
  if (!isStDType(t.dtype)) {
    throw new SafetensorsError('UNKNOWN_DTYPE', `tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError('BAD_SHAPE', `tensor "${name}": bad shape ${JSON.stringify(t.shape)}`);
  }
  if (!matchesDType(t.dtype, t.data)) {
    throw new SafetensorsError('DTYPE_MISMATCH', `tensor "${name}": dtype ${t.dtype} does not match ` +
      `its data, a ${t.data.constructor.name} (F16/BF16 take a Uint16Array of raw bits)`);
  }
  if (t.data.length !== numel(t.shape)) {
    throw new SafetensorsError('BYTE_LENGTH', `tensor "${name}": shape [${t.shape.join(', ')}] needs ` +
      `${numel(t.shape)} elements, data has ${t.data.length}`);
  }
}

function matchesDType(dtype: StDType, data: RawData): boolean {
  switch (dtype) {
    case 'F32': return data instanceof Float32Array;
    case 'F64': return data instanceof Float64Array;
    case 'I32': return data instanceof Int32Array;
    case 'I64': return data instanceof BigInt64Array;
    case 'U8': return data instanceof Uint8Array;
    case 'F16': case 'BF16': return data instanceof Uint16Array;
  }
}

// Decoding F16 / BF16 / I64 tensors to floats lives in float-decode.ts; importers keep reading it here.
export { bf16BitsToFloat, f16BitsToFloat, toFloat32, toFloat64 } from './float-decode.ts';
