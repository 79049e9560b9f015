/**
 * The load fast paths of issue 16: `asTensor` (a tensor over an array, no copy where the backend
 * holds host memory), the bulk typed-array copy in `fromArray`, F16 decoding through a lookup
 * table, `tensorFromRaw` without a float64 step, and `toArray` without `Array.from`. Each is checked
 * against the slow path it replaced, value for value (NaN, -0 and subnormals included).
 */
import t from 'tap';
import { asTensor, setBackend, tensor } from '../../../engine/index.ts';
import { f16BitsToFloat, toFloat32, toFloat64 } from '../../../engine/io/safetensors.ts';
import { tensorFromRaw } from '../../../engine/io/tensors.ts';
import { CpuBackend } from '../../../kernels/cpu/index.ts';
import { createWasmBackend } from '../../../kernels/wasm/index.ts';

setBackend(new CpuBackend());
const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

t.test('asTensor shares the array on cpu and wasm; copies for another dtype', (t) => {
  const wasm = createWasmBackend();
  for (const backend of wasm ? [new CpuBackend(), wasm] : [new CpuBackend()]) {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const x = asTensor(data, [2, 3], { device: backend });
    t.same(x.shape, [2, 3]);
    t.equal(x.dtype, 'float32');
    data[4] = 50; // the tensor is a view: the write shows through
    t.same(x.toArray(), [1, 2, 3, 4, 50, 6], `${backend.name}: no copy`);
    t.same(x.add(1).toArray(), [2, 3, 4, 5, 51, 7], `${backend.name}: ops read the view`);
    const y = asTensor(data, [6], { device: backend, dtype: 'float64' });
    data[0] = -1;
    t.equal(y.dtype, 'float64');
    t.equal(y.toArray()[0], 1, `${backend.name}: another dtype is a copy`);
  }
  const sub = new Float32Array([9, 8, 7, 6]).subarray(1, 3); // a view with an offset
  t.same(asTensor(sub).toArray(), [8, 7]);
  t.same(asTensor(new Int32Array([3, -4])).dtype, 'int32');
  t.ok(asTensor(new Float64Array([1]), [1], { requiresGrad: true }).requiresGrad);
  t.throws(() => asTensor(new Float32Array(5), [2, 3]), /asTensor: 5 values cannot have shape \[2, 3\]/);
  t.end();
});

t.test('fromArray of a typed array converts exactly as an element loop does', (t) => {
  const src = new Float64Array([0.1, -0, NaN, Infinity, 1e-46, 3.4e39, 2 ** 31 + 0.5, -2.5, 16777217]);
  for (const dtype of ['float32', 'float64', 'int32'] as const) {
    const loop = dtype === 'float32' ? new Float32Array(src.length) : dtype === 'float64' ? new Float64Array(src.length) : new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) loop[i] = src[i];
    t.ok(same(tensor(src, [src.length], { dtype }).data(), loop), dtype);
  }
  t.end();
});

t.test('F16 decodes through the table exactly as f16BitsToFloat, all 65536 patterns', (t) => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const f32 = toFloat32({ dtype: 'F16', shape: [65536], data: bits });
  const f64 = toFloat64({ dtype: 'F16', shape: [65536], data: bits });
  const want = Float64Array.from(bits, (h) => f16BitsToFloat(h));
  t.ok(same(f64, want), 'float64');
  t.ok(same(f32, Float32Array.from(want)), 'float32');
  t.ok(Object.is(f64[0x8000], -0) && f64[0x7c00] === Infinity && Number.isNaN(f64[0x7e00]) && f64[1] === 2 ** -24);
  t.end();
});

t.test('tensorFromRaw: F16 / BF16 straight to float32, same values as through float64', (t) => {
  const bits = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0x3555]);
  for (const dtype of ['F16', 'BF16'] as const) {
    const raw = { dtype, shape: [2, 3], data: bits };
    const x = tensorFromRaw(raw, 'w');
    t.equal(x.dtype, 'float32');
    t.same(x.shape, [2, 3]);
    t.ok(same(x.data(), Float32Array.from(toFloat64(raw))), dtype);
    t.ok(same(tensorFromRaw(raw, 'w', 'float64').data(), toFloat64(raw)), `${dtype} as float64`);
  }
  const f32 = new Float32Array([1, 2]);
  const copy = tensorFromRaw({ dtype: 'F32', shape: [2], data: f32 });
  f32[0] = 7;
  t.equal(copy.toArray()[0], 1, 'F32 is still copied: the raw array stays the caller\'s');
  t.end();
});

t.test('toArray and toArrayAsync give what Array.from gives', async (t) => {
  const f = new Float32Array([0.1, -0, NaN, -Infinity, 1e-40, 3]);
  t.ok(same(asTensor(f).toArray(), Array.from(f)));
  t.ok(same(await asTensor(f).toArrayAsync(), Array.from(f)));
  const ints = tensor([5, -7, 0], [3], { dtype: 'int32' }).toArray();
  t.same(ints, [5, -7, 0]);
  t.ok(Array.isArray(ints));
  t.same(tensor([], [0]).toArray(), []);
  t.same(tensor(2.5, []).toArray(), [2.5]);
});

t.test('clipFromBytes copies the caller\'s bytes; with share (loadClip) the weights are views of them', async (t) => {
  const { clipFromBytes, loadClip } = await import('../../../model/index.ts');
  const { parseSafetensors } = await import('../../../engine/io/safetensors.ts');
  const { readFileSync } = await import('node:fs');
  const file = new URL('../../fixtures/clip/openai.safetensors', import.meta.url);
  const key = 'visual.transformer.resblocks.0.mlp.c_fc.weight';
  for (const share of [false, true]) {
    const bytes = new Uint8Array(readFileSync(file));
    const model = clipFromBytes(bytes, 'openai.safetensors', share);
    const before = model.stateDict().get(key)!.toArray()[0];
    (parseSafetensors(bytes).tensors.get(key)!.data as Float32Array)[0] = before + 1; // write the bytes
    t.equal(model.stateDict().get(key)!.toArray()[0], share ? before + 1 : before, share ? 'shared' : 'copied');
  }
  const loaded = await loadClip(file.pathname);
  const fromCopy = clipFromBytes(new Uint8Array(readFileSync(file)), 'openai.safetensors');
  t.same(loaded.stateDict().get(key)!.toArray(), fromCopy.stateDict().get(key)!.toArray(), 'loadClip: the same weights');
});
