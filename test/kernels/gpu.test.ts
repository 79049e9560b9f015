/**
 * The gpu.js backend in Node, in the gpu.js modes that run here without a display: `cpu` (kernels
 * transpiled to JavaScript) and `webasm` (WebAssembly + SIMD). The shader modes (webgl, webgl2,
 * webgpu) are tested in Chromium by test/browser/shaders.test.ts with the same spec table.
 *
 * 1. the op spec table against the CPU reference backend, per mode;
 * 2. what the table cannot see: kernel cache reuse, tidy / dispose, errors, the mode line, the
 *    asynchronous (threaded webasm) path.
 */
import t from 'tap';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { createGpuBackend, tidy, type GpuBackend, type GpuMode } from '../../kernels/gpu/index.ts';
import { GpuStorage } from '../../kernels/gpu/storage.ts';
import { runSpec, SPEC_CASES } from './spec-table.ts';

const ref = new CpuBackend();
const MODES: GpuMode[] = ['cpu', 'webasm'];

/** Device buffers held by live storages (textures on GL; arrays here). */
function liveDevice(b: GpuBackend): number {
  return b.runner.stats.liveDevice;
}

for (const mode of MODES) {
  t.test(`spec table, gpu.js mode ${mode}`, async (t) => {
    const gpu = createGpuBackend(mode, { log: false });
    t.match(await gpu.description, new RegExp(`gpu\\.js mode ${mode} `), 'the mode that runs is the one asked for');
    const before = liveDevice(gpu);
    const results = await runSpec(gpu, ref, { scope: tidy });
    t.equal(results.length, SPEC_CASES.length);
    for (const r of results) t.equal(r.error, null, r.name);
    t.same(gpu.runner.fallbacks, [], 'no kernel fell back to another gpu.js mode');
    t.equal(liveDevice(gpu), before, 'tidy freed every intermediate device buffer');
    await gpu.destroy();
  });
}

t.test('kernels are compiled once per (op, shape) and cached on the backend', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  const x = gpu.fromArray(new Float32Array(100).fill(1), 'float32');
  const c0 = gpu.runner.stats.compiles;
  gpu.unary('exp', x);
  gpu.unary('exp', gpu.unary('exp', x));
  t.equal(gpu.runner.stats.compiles - c0, 1, 'three exp calls on one shape compile one kernel');
  gpu.unary('neg', x);
  t.equal(gpu.runner.stats.compiles - c0, 2, 'another op is another kernel');
  gpu.unary('exp', gpu.fromArray(new Float32Array(50), 'float32'));
  t.equal(gpu.runner.stats.compiles - c0, 4, 'another shape is another kernel (and another upload)');
  await gpu.destroy();
});

t.test('tidy frees what it does not return; dispose is idempotent', async (t) => {
  const gpu = createGpuBackend('webasm', { log: false });
  const base = liveDevice(gpu);
  const x = gpu.fromArray(new Float32Array(64).fill(2), 'float32');
  const { y, pair } = tidy(() => {
    const a = gpu.unary('exp', x);
    const b = gpu.unary('neg', a);
    const inner = tidy(() => [gpu.unary('abs', b), gpu.unary('relu', b)]);
    return { y: gpu.binary('add', a, [1], b, [1], [64]), pair: inner };
  });
  t.equal(liveDevice(gpu), base + 4, 'x, y and the two returned by the inner scope survive');
  t.ok(Math.abs(gpu.read(y)[0]) < 1e-6, 'exp(2) - exp(2) = 0');
  t.equal(gpu.read(pair[0])[0], Math.fround(Math.exp(2)));
  for (const s of [x, y, ...pair]) gpu.dispose(s);
  gpu.dispose(x);
  t.equal(liveDevice(gpu), base, 'all freed');
  t.throws(() => gpu.unary('exp', x), /after dispose/, 'a disposed storage cannot be used');
  t.throws(() => tidy(() => Promise.resolve(1)), /synchronous/);
  await gpu.destroy();
});

t.test('copy into a device storage swaps its buffer and frees the old one', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  const dst = gpu.full(40, 0, 'float32') as GpuStorage;
  const before = dst.device;
  const base = liveDevice(gpu);
  const src = gpu.fromArray(Array.from({ length: 20 }, (_, i) => i + 1), 'float32');
  t.equal(gpu.copy({ storage: src, offset: 0, strides: [1] }, [20], { storage: dst, offset: 0, strides: [2] }), dst);
  t.not(dst.device, before, 'a new buffer');
  t.equal(liveDevice(gpu), base + 1, 'only src was added');
  t.same(Array.from(gpu.read(dst).slice(0, 6)), [1, 0, 2, 0, 3, 0]);
  await gpu.destroy();
});

t.test('errors', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  const x = gpu.fromArray(new Float32Array(40), 'float32');
  const idx = gpu.fromArray([0, 3, 10], 'int32');
  t.throws(() => gpu.gather(x, 1, 10, 4, idx, 3, [0, 1, 0]), RangeError, 'index out of range, as on the CPU');
  t.throws(() => ref.read(gpu.unary('exp', x)), /backend "gpu"/, 'storages do not cross backends');
  t.throws(() => createGpuBackend('webgl2'), /not supported/, 'gpu.js has no webgl2 in Node');
  t.throws(() => createGpuBackend('quantum' as GpuMode), /unknown gpu.js mode/);
  await gpu.destroy();
});

t.test('placement: float32 on the device, int32 / float64 / tiny on the host', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  const big = gpu.fromArray(new Float32Array(100), 'float32') as GpuStorage;
  const tiny = gpu.fromArray([1, 2], 'float32') as GpuStorage;
  t.ok(big.onDevice && !tiny.onDevice);
  t.notOk((gpu.fromArray([1], 'int32') as GpuStorage).onDevice);
  t.notOk((gpu.full(100, 1, 'float64') as GpuStorage).onDevice);
  t.ok((gpu.reduce('sum', big, 1, 100) as GpuStorage).onDevice, 'computed from a device input: stays there');
  t.notOk((gpu.reduce('argmax', big, 1, 100) as GpuStorage).onDevice, 'argmax is int32: downloaded');
  await gpu.destroy();
});

t.test('asynchronous kernels (webasm worker threads): readAsync', async (t) => {
  const gpu = createGpuBackend('webasm', { log: false, asyncKernels: true });
  const n = 128;
  const data = Array.from({ length: n * n }, (_, i) => (i % 7) - 3);
  const args = { batch: 1, m: n, k: n, n, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false };
  const a = gpu.fromArray(data, 'float32');
  const c = gpu.matmul(a, a, args);
  t.throws(() => gpu.read(c), /readAsync/, 'no synchronous read while work is pending');
  const want = ref.read(ref.matmul(ref.fromArray(data, 'float32'), ref.fromArray(data, 'float32'), args));
  t.same(Array.from(await gpu.readAsync(c)), Array.from(want), 'integer-valued: exact');
  await gpu.destroy();
});
