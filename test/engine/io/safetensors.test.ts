// safetensors reader/writer: round trips, a file written by Python (unaligned), and one test per
// malformed case, each checked by its error code.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import {
  SafetensorsError, parseSafetensors, serializeSafetensors, toFloat32, toFloat64,
  type RawTensor, type SafetensorsErrorCode,
} from '../../../engine/io/safetensors.ts';

const fixture = (name: string) => new URL(`../../fixtures/io/${name}`, import.meta.url);

interface Expected { dtype: string; shape: number[]; values: number[] }

/** The tensor's elements as plain numbers (F16/BF16 as their raw bits, as the fixtures store them). */
function values(raw: RawTensor): number[] {
  return Array.from(raw.data as ArrayLike<number | bigint>, Number);
}

function everyDType(): Record<string, RawTensor> {
  return {
    'w.f32': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0.1, 1e-8, -0]) },
    'w.f64': { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
    'w.f16': { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc100, 0x0001]) },
    'w.bf16': { dtype: 'BF16', shape: [1, 2], data: new Uint16Array([0x3fc0, 0xbe20]) },
    'ids.i64': { dtype: 'I64', shape: [3], data: new BigInt64Array([-1n, 2n ** 60n, 7n]) },
    'ids.i32': { dtype: 'I32', shape: [2], data: new Int32Array([-5, 2 ** 31 - 1]) },
    'mask.u8': { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 2, 128, 255]) },
    'scalar': { dtype: 'F32', shape: [], data: new Float32Array([2.5]) },
    'empty': { dtype: 'F16', shape: [0, 4], data: new Uint16Array(0) },
  };
}

t.test('round trip of every dtype, a 0-d scalar, an empty tensor and metadata', async (t) => {
  const tensors = everyDType();
  const metadata = { format: 'pt', note: 'héllo ✓' };
  const bytes = serializeSafetensors(tensors, metadata);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  t.equal(headerLength % 8, 0, 'header padded to a multiple of 8');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  t.same(Object.keys(header), ['__metadata__', ...Object.keys(tensors).sort()], 'metadata first, names sorted');
  const offsets = Object.keys(tensors).sort().map((k) => header[k].data_offsets);
  for (let i = 1; i < offsets.length; i++) t.equal(offsets[i][0], offsets[i - 1][1], 'data in name order, no gaps');

  const back = parseSafetensors(bytes, 'roundtrip');
  t.same(back.metadata, metadata);
  t.same([...back.tensors.keys()].sort(), Object.keys(tensors).sort());
  for (const [name, raw] of Object.entries(tensors)) {
    const got = back.tensors.get(name)!;
    t.equal(got.dtype, raw.dtype, `${name} dtype`);
    t.same(got.shape, raw.shape, `${name} shape`);
    t.equal(got.data.constructor, raw.data.constructor, `${name} array type`);
    t.same(Array.from(got.data as ArrayLike<number | bigint>), Array.from(raw.data as ArrayLike<number | bigint>), `${name} values`);
  }
});

t.test('a Map input and no metadata', async (t) => {
  const bytes = serializeSafetensors(new Map([['x', { dtype: 'F32', shape: [1], data: new Float32Array([1]) } as RawTensor]]));
  const back = parseSafetensors(bytes);
  t.same(back.metadata, {});
  t.same(values(back.tensors.get('x')!), [1]);
  t.notMatch(new TextDecoder().decode(bytes), '__metadata__');
});

t.test('reads a file written by Python with struct + json (unaligned data)', async (t) => {
  const expected = JSON.parse(readFileSync(fixture('handmade.expected.json'), 'utf8')) as
    { metadata: Record<string, string>; tensors: Record<string, Expected> };
  const { tensors, metadata } = parseSafetensors(readFileSync(fixture('handmade.safetensors')), 'handmade');
  t.same(metadata, expected.metadata);
  t.same([...tensors.keys()].sort(), Object.keys(expected.tensors).sort());
  for (const [name, want] of Object.entries(expected.tensors)) {
    const got = tensors.get(name)!;
    t.equal(got.dtype, want.dtype, `${name} dtype`);
    t.same(got.shape, want.shape, `${name} shape`);
    const wantValues = want.dtype === 'F32' ? want.values.map(Math.fround) : want.values;
    t.same(values(got), wantValues, `${name} values`);
  }
});

t.test('toFloat32 / toFloat64 decode every dtype', async (t) => {
  const f16: RawTensor = { dtype: 'F16', shape: [5], data: new Uint16Array([0x3c00, 0xc100, 0x0001, 0x7c00, 0x3555]) };
  t.same(Array.from(toFloat64(f16)), [1, -2.5, 2 ** -24, Infinity, 0.333251953125]);
  t.ok(Number.isNaN(toFloat64({ dtype: 'F16', shape: [1], data: new Uint16Array([0x7e00]) })[0]), 'f16 NaN');
  const bf16: RawTensor = { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3fc0, 0xbe20]) };
  t.same(Array.from(toFloat32(bf16)), [1.5, -0.15625]);
  const i64: RawTensor = { dtype: 'I64', shape: [3], data: new BigInt64Array([-3n, 2n ** 53n, 0n]) };
  t.same(Array.from(toFloat64(i64)), [-3, 2 ** 53, 0]);
  t.same(Array.from(toFloat32({ dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) })), [0, 255]);
  t.same(Array.from(toFloat64({ dtype: 'F32', shape: [1], data: new Float32Array([0.1]) })), [Math.fround(0.1)]);
  const f32 = new Float32Array([1, 2]);
  const copy = toFloat32({ dtype: 'F32', shape: [2], data: f32 });
  copy[0] = 9;
  t.equal(f32[0], 1, 'toFloat32 of F32 is a copy');
});

t.test('I64 values that a double cannot hold exactly throw', async (t) => {
  const raw: RawTensor = { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n ** 53n + 1n]) };
  t.throws(() => toFloat64(raw, 'position_ids'), /position_ids: I64 value 9007199254740993 at index 1 does not fit exactly/);
  t.throws(() => toFloat32(raw), { name: 'SafetensorsError', code: 'I64_RANGE' }, 'a SafetensorsError, not a bare RangeError');
});

// ---------------------------------------------------------------------------------------------
// Malformed files

/** A file with this header (any JSON value, or raw bytes) and data section. */
function file(header: unknown, data = new Uint8Array(0), declaredLength?: number): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

/** Parse `bytes`, expecting a SafetensorsError with this code, a message matching, naming the file. */
function rejects(t: Test, bytes: Uint8Array, code: SafetensorsErrorCode, message: RegExp): void {
  t.throws(() => parseSafetensors(bytes, 'bad.safetensors'),
    { name: 'SafetensorsError', code, message }, `${code}: ${message}`);
  t.throws(() => parseSafetensors(bytes, 'bad.safetensors'), { message: /^bad\.safetensors: / }, 'names the file');
}

t.test('TRUNCATED: shorter than 8 bytes', async (t) => {
  rejects(t, new Uint8Array(5), 'TRUNCATED', /5 bytes, shorter than the 8-byte header length/);
  rejects(t, new Uint8Array(0), 'TRUNCATED', /0 bytes/);
});

t.test('HEADER_LENGTH: header runs past the end of the file', async (t) => {
  rejects(t, file({}, new Uint8Array(0), 1000), 'HEADER_LENGTH', /header length 1000 runs past the end/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
  rejects(t, huge, 'HEADER_LENGTH', /header length 18446744073709551615/);
});

t.test('BAD_JSON: not UTF-8, not JSON, not an object', async (t) => {
  rejects(t, file(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'BAD_JSON', /not valid UTF-8/);
  rejects(t, file(new TextEncoder().encode('{"a": ')), 'BAD_JSON', /not valid JSON/);
  rejects(t, file([1, 2]), 'BAD_JSON', /not an object/);
  rejects(t, file(null), 'BAD_JSON', /not an object/);
  rejects(t, file({ w: 3 }), 'BAD_JSON', /tensor "w": header entry is not an object/);
});

t.test('BAD_METADATA: __metadata__ not a string map', async (t) => {
  rejects(t, file({ __metadata__: { epoch: 3 } }), 'BAD_METADATA', /__metadata__\["epoch"\] is 3, not a string/);
  rejects(t, file({ __metadata__: ['a'] }), 'BAD_METADATA', /__metadata__ is not an object/);
});

t.test('UNKNOWN_DTYPE: names the dtype', async (t) => {
  rejects(t, file({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
    'UNKNOWN_DTYPE', /tensor "w": unsupported dtype "F8_E4M3"/);
  rejects(t, file({ w: { shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), 'UNKNOWN_DTYPE', /dtype undefined/);
});

t.test('BAD_SHAPE: not an array of non-negative integers', async (t) => {
  rejects(t, file({ w: f32([-1], 0, 0) }), 'BAD_SHAPE', /tensor "w": shape \[-1\]/);
  rejects(t, file({ w: f32([1.5], 0, 0) }), 'BAD_SHAPE', /shape \[1.5\]/);
  rejects(t, file({ w: { dtype: 'F32', shape: '3', data_offsets: [0, 12] } }), 'BAD_SHAPE', /shape "3"/);
});

t.test('BAD_OFFSETS: not [begin, end] integers with begin <= end', async (t) => {
  rejects(t, file({ w: f32([1], 4, 0) }, new Uint8Array(4)), 'BAD_OFFSETS', /tensor "w": data_offsets \[4,0\]/);
  rejects(t, file({ w: f32([1], 0, 4.5) }, new Uint8Array(8)), 'BAD_OFFSETS', /data_offsets \[0,4.5\]/);
  rejects(t, file({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)), 'BAD_OFFSETS', /\[0\]/);
});

t.test('OUT_OF_BOUNDS: offsets outside the data section', async (t) => {
  rejects(t, file({ w: f32([2], 0, 8) }, new Uint8Array(4)), 'OUT_OF_BOUNDS',
    /tensor "w": data_offsets \[0, 8\] run past the data section \(4 bytes\)/);
});

t.test('OVERLAP: names both tensors', async (t) => {
  rejects(t, file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, new Uint8Array(12)), 'OVERLAP',
    /tensors "a" and "b" overlap/);
  rejects(t, file({ big: f32([4], 0, 16), inner: f32([1], 12, 16), z: f32([1], 16, 20) }, new Uint8Array(20)),
    'OVERLAP', /"big" and "inner"/);
  const ok = parseSafetensors(file({ a: f32([0], 4, 4), b: f32([2], 0, 8) }, new Uint8Array(8)));
  t.equal(ok.tensors.size, 2, 'an empty tensor inside another range is no overlap');
});

t.test('BYTE_LENGTH: says expected vs actual', async (t) => {
  rejects(t, file({ w: f32([2, 2], 0, 12) }, new Uint8Array(16)), 'BYTE_LENGTH',
    /tensor "w": F32 \[2, 2\] needs 16 bytes, data_offsets give 12/);
});

t.test('the writer refuses data that does not match the dtype or the shape', async (t) => {
  const check = (raw: RawTensor, code: SafetensorsErrorCode) =>
    t.throws(() => serializeSafetensors({ w: raw }), { name: 'SafetensorsError', code }, code);
  check({ dtype: 'F16', shape: [2], data: new Float32Array(2) }, 'DTYPE_MISMATCH');
  check({ dtype: 'F32', shape: [3], data: new Float32Array(2) }, 'BYTE_LENGTH');
  check({ dtype: 'F32', shape: [-1], data: new Float32Array(0) }, 'BAD_SHAPE');
});
