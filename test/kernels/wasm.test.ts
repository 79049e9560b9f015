/**
 * The wasm backend against the reference CPU backend: every kernel it overrides, on odd sizes
 * (1, 3, 17, 127, 1000), transposes, batch broadcasting, the broadcast patterns of `binary`, and
 * the edges of exp (overflow, underflow, NaN, ±inf). Also: the shared spec table (spec-table.ts)
 * on one thread and on the pool, the inherited kernels still work on its storages, float64 falls
 * back exactly, the thread pool survives many calls, and a process that used the pool exits by itself.
 *
 * Tolerances. matmul: float32 accumulation of k products can be off by k·u·Σ|a||b| at worst
 * (u = 2⁻²⁴, Higham, "Accuracy and Stability of Numerical Algorithms", §3.1), so each element is
 * checked against 2·k·u·(|A|·|B|)[i, j] around the reference's float64-accumulated result; a bug
 * (a lost or doubled term) is far outside that. add/sub/mul/div/min/max: exact (float32 rounding of
 * the reference's double result is the float32 op). exp: 1e-6 relative. sum: 1e-6 relative to Σ|x|.
 */
import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import type { BinaryOp, MatmulArgs, Storage } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { WasmBackend, createWasmBackend } from '../../kernels/wasm/index.ts';
import { binaryF32 } from '../../kernels/wasm/binary.ts';
import { SPEC_CASES, runSpec } from './spec-table.ts';

const cpu = new CpuBackend();
// `wasm` sends every matmul with more than one block of C through the thread pool (threshold 0),
// `serial` none: together they cover both paths on every case.
const made = createWasmBackend({ threads: 2, parallelMinMacs: 0, onUnavailable: (why) => t.comment(`wasm unavailable: ${why}`) });
if (made === null) {
  t.fail('the wasm backend must be available on Node 20');
  process.exit(1);
}
const wasm: WasmBackend = made;
const serial = createWasmBackend({ threads: 1 })!;

/** A deterministic generator (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(42);
const uniform = (n: number, lo = -1, hi = 1): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * random());

// -- matmul ------------------------------------------------------------------------------------------

interface Case { batch: number; m: number; k: number; n: number; transA?: boolean; transB?: boolean; aBroadcast?: boolean; bBroadcast?: boolean }

function checkMatmul(tt: Test, backend: WasmBackend, c: Case): void {
  const { batch, m, k, n } = c;
  const args: MatmulArgs = {
    batch, m, k, n, transA: c.transA ?? false, transB: c.transB ?? false,
    aBatchStride: c.aBroadcast ? 0 : m * k, bBatchStride: c.bBroadcast ? 0 : k * n,
  };
  const a = uniform((c.aBroadcast ? 1 : batch) * m * k), b = uniform((c.bBroadcast ? 1 : batch) * k * n);
  const got = backend.read(backend.matmul(backend.fromArray(a, 'float32'), backend.fromArray(b, 'float32'), args));
  const want = cpu.read(cpu.matmul(cpu.fromArray(a, 'float32'), cpu.fromArray(b, 'float32'), args));
  const scale = cpu.read(cpu.matmul(cpu.fromArray(a.map(Math.abs), 'float32'), cpu.fromArray(b.map(Math.abs), 'float32'), args));
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const ratio = Math.abs(got[i] - want[i]) / (2 * k * 2 ** -24 * scale[i] + 1e-30);
    if (!(ratio <= worst)) { worst = ratio; at = i; }
  }
  tt.equal(got.length, batch * m * n, 'output size');
  tt.ok(got instanceof Float32Array, 'float32 output');
  tt.ok(worst <= 1, `within 2·k·u·|A||B| (worst ${worst.toFixed(3)} of the bound at ${at}: ${got[at]} vs ${want[at]})`);
}

t.test('matmul: odd sizes, all four transposes', (tt) => {
  const sizes = [1, 3, 17, 127];
  for (const m of sizes) for (const k of sizes) for (const n of sizes) {
    if (m * k * n > 127 * 17 * 127) continue; // keeps the suite quick; 127³ runs below
    const transA = (m + k) % 2 === 1, transB = (k + n) % 2 === 1;
    tt.test(`${m}×${k}×${n} transA=${transA} transB=${transB}`, (t2) => {
      checkMatmul(t2, serial, { batch: 1, m, k, n, transA, transB });
      t2.end();
    });
  }
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    tt.test(`127³ transA=${transA} transB=${transB}, threaded`, (t2) => {
      checkMatmul(t2, wasm, { batch: 1, m: 127, k: 127, n: 127, transA, transB });
      t2.end();
    });
  }
  tt.end();
});

t.test('matmul: 1000 in each position', (tt) => {
  checkMatmul(tt, wasm, { batch: 1, m: 1000, k: 3, n: 17 });
  checkMatmul(tt, wasm, { batch: 1, m: 3, k: 1000, n: 17, transA: true });
  checkMatmul(tt, wasm, { batch: 1, m: 17, k: 3, n: 1000, transB: true });
  checkMatmul(tt, wasm, { batch: 1, m: 129, k: 1000, n: 65 }); // large k: 4 cache blocks of 256
  tt.end();
});

t.test('matmul: batches and broadcasting', (tt) => {
  for (const backend of [serial, wasm]) {
    checkMatmul(tt, backend, { batch: 3, m: 17, k: 5, n: 9 });
    checkMatmul(tt, backend, { batch: 4, m: 33, k: 17, n: 19, aBroadcast: true });
    checkMatmul(tt, backend, { batch: 5, m: 64, k: 70, n: 63, bBroadcast: true, transA: true });
    checkMatmul(tt, backend, { batch: 2, m: 127, k: 96, n: 131, aBroadcast: true, bBroadcast: true, transB: true });
    checkMatmul(tt, backend, { batch: 12, m: 50, k: 64, n: 50, transB: true }); // attention-like: Q·Kᵀ
  }
  tt.end();
});

t.test('matmul: a batch times one shared matrix is folded into one product, bit for bit the per-batch result', (tt) => {
  for (const backend of [serial, wasm]) {
    for (const [batch, m, k, n, transB] of [[144, 64, 64, 64, false], [7, 13, 300, 9, true], [3, 1, 5, 2, false]] as const) {
      const a = uniform(batch * m * k), b = uniform(k * n);
      const args: MatmulArgs = { batch, m, k, n, transA: false, transB, aBatchStride: m * k, bBatchStride: 0 };
      const folded = backend.read(backend.matmul(backend.fromArray(a, 'float32'), backend.fromArray(b, 'float32'), args));
      const bs = backend.fromArray(b, 'float32');
      const each = new Float32Array(batch * m * n);
      for (let i = 0; i < batch; i++) { // one call per matrix: the unfolded product
        const one = backend.read(backend.matmul(backend.fromArray(a.subarray(i * m * k, (i + 1) * m * k), 'float32'), bs, { ...args, batch: 1, aBatchStride: 0 }));
        each.set(one, i * m * n);
      }
      tt.ok(folded.every((v, i) => Object.is(v, each[i])), `${backend === serial ? 'serial' : 'threaded'} ${batch}×[${m}, ${k}]·[${k}, ${n}]${transB ? 'ᵀ' : ''}`);
    }
  }
  tt.end();
});

t.test('matmul: empty and k = 0', (tt) => {
  const none = wasm.matmul(wasm.fromArray([], 'float32'), wasm.fromArray([1, 2], 'float32'),
    { batch: 1, m: 0, k: 1, n: 2, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false });
  tt.equal(none.size, 0);
  const zeros = wasm.read(wasm.matmul(wasm.fromArray([], 'float32'), wasm.fromArray([], 'float32'),
    { batch: 2, m: 2, k: 0, n: 3, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false }));
  tt.same([...zeros], new Array(12).fill(0));
  tt.end();
});

t.test('matmul: float64 and int32 use the reference exactly', (tt) => {
  const args: MatmulArgs = { batch: 2, m: 5, k: 7, n: 3, aBatchStride: 35, bBatchStride: 0, transA: false, transB: true };
  for (const dtype of ['float64', 'int32'] as const) {
    const a = Array.from({ length: 70 }, (_, i) => (i % 11) - 5), b = Array.from({ length: 21 }, (_, i) => (i % 7) - 3);
    const got = wasm.read(wasm.matmul(wasm.fromArray(a, dtype), wasm.fromArray(b, dtype), args));
    const want = cpu.read(cpu.matmul(cpu.fromArray(a, dtype), cpu.fromArray(b, dtype), args));
    tt.same(got, want, dtype);
  }
  tt.end();
});

t.test('matmul: the pool survives many calls of changing sizes', (tt) => {
  let bad = 0;
  for (let i = 0; i < 40; i++) {
    const m = 96 + (i % 5) * 7, k = 100 + (i % 3), n = 90 + (i % 4) * 9;
    const a = uniform(m * k), b = uniform(k * n);
    const args: MatmulArgs = { batch: 1, m, k, n, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false };
    const got = wasm.read(wasm.matmul(wasm.fromArray(a, 'float32'), wasm.fromArray(b, 'float32'), args));
    // Spot-check a few elements against a float64 dot product.
    for (let s = 0; s < 5; s++) {
      const r = Math.floor(random() * m), c = Math.floor(random() * n);
      let want = 0, scale = 0;
      for (let p = 0; p < k; p++) { want += a[r * k + p] * b[p * n + c]; scale += Math.abs(a[r * k + p] * b[p * n + c]); }
      if (!(Math.abs(got[r * n + c] - want) <= 2 * k * 2 ** -24 * scale)) bad++;
    }
  }
  tt.equal(bad, 0, 'every spot check within the bound');
  tt.end();
});

// -- binary --------------------------------------------------------------------------------------

/** Dense strides of `shape`, with 0 on the axes where the operand has size 1 (broadcast). */
function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const od = d + outShape.length - shape.length;
    strides[od] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

function sameValues(tt: Test, got: ArrayLike<number>, want: ArrayLike<number>, msg: string): void {
  let bad = -1;
  for (let i = 0; i < want.length && bad < 0; i++) {
    if (!(got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) bad = i;
  }
  tt.ok(got.length === want.length && bad < 0, bad < 0 ? msg : `${msg}: element ${bad} is ${got[bad]}, want ${want[bad]}`);
}

t.test('binary: same shape, bias, per-row, scalar, swapped, and unhandled layouts', (tt) => {
  const patterns: [number[], number[], number[]][] = [
    // [a shape, b shape, out shape]
    [[17, 127], [17, 127], [17, 127]], // same shape
    [[1000, 3], [1000, 3], [1000, 3]],
    [[3, 17, 127], [127], [3, 17, 127]], // bias over the last axis
    [[3, 17, 127], [17, 127], [3, 17, 127]], // repeated over the first axis
    [[127, 17], [127, 1], [127, 17]], // per-row statistic
    [[3, 17, 5], [3, 1, 1], [3, 17, 5]], // per-batch scalar
    [[3, 127], [1], [3, 127]], // one number
    [[127], [17, 127], [17, 127]], // broadcast on the left: swapped kernels
    [[17, 1], [17, 127], [17, 127]],
    [[17, 1], [1, 127], [17, 127]], // outer product layout: reference fallback
    [[3, 17, 5], [17, 1], [3, 17, 5]], // repeated over leading and trailing axes: y tiled
    [[4, 6, 5, 2], [6, 5, 1], [4, 6, 5, 2]], // SPT's spectrum times a real weight per bin
    [[6, 5, 1], [4, 6, 5, 2], [4, 6, 5, 2]], // the same on the left: mirrored comparisons, swapped sub / div
    [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
  ];
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
  for (const [as, bs, os] of patterns) {
    const a = uniform(as.reduce((x, y) => x * y, 1), -3, 3), b = uniform(bs.reduce((x, y) => x * y, 1), -3, 3);
    if (a.length > 4) { a[1] = NaN; a[2] = 0; a[3] = -0; }
    if (b.length > 4) { b[2] = -0; b[3] = 0; b[4] = Infinity; }
    const aStrides = broadcastStrides(as, os), bStrides = broadcastStrides(bs, os);
    for (const op of ops) {
      const got = wasm.read(wasm.binary(op, wasm.fromArray(a, 'float32'), aStrides, wasm.fromArray(b, 'float32'), bStrides, os));
      const want = cpu.read(cpu.binary(op, cpu.fromArray(a, 'float32'), aStrides, cpu.fromArray(b, 'float32'), bStrides, os));
      sameValues(tt, got, want, `${op} [${as}] [${bs}] -> [${os}]`);
    }
  }
  // The SIMD path, not the reference, took the new layouts and the comparisons (binaryF32 is null on a fallback).
  const x = uniform(3 * 17 * 5), w = uniform(17);
  for (const op of ['mul', 'lt', 'ge', 'eq'] as const) {
    tt.ok(binaryF32(wasm.kernels, op, x, [85, 5, 1], w, [0, 1, 0], [3, 17, 5]) !== null, `${op}: y repeated over both sides runs in wasm`);
    tt.ok(binaryF32(wasm.kernels, op, w, [0, 1, 0], x, [85, 5, 1], [3, 17, 5]) !== null, `${op}: and with y on the left`);
  }
  // A transposed (non-dense) operand also falls back.
  const a = uniform(127 * 17), b = uniform(127 * 17);
  const got = wasm.read(wasm.binary('add', wasm.fromArray(a, 'float32'), [1, 127], wasm.fromArray(b, 'float32'), [17, 1], [127, 17]));
  const want = cpu.read(cpu.binary('add', cpu.fromArray(a, 'float32'), [1, 127], cpu.fromArray(b, 'float32'), [17, 1], [127, 17]));
  sameValues(tt, got, want, 'transposed operand');
  tt.end();
});

// -- unary: exp ----------------------------------------------------------------------------------

t.test('exp: accuracy over the float32 range and the edges', (tt) => {
  for (const n of [257, 1000, 4099]) {
    const x = uniform(n, -110, 95);
    const edges = [0, -0, 1, -1, 88.7, 88.8, 89, -87.3, -103, -104, -110, 1e-8, -1e-8, Infinity, -Infinity, NaN];
    edges.forEach((v, i) => { x[i * 13 + 5] = v; });
    const got = wasm.read(wasm.unary('exp', wasm.fromArray(x, 'float32')));
    const want = cpu.read(cpu.unary('exp', cpu.fromArray(x, 'float32')));
    let worst = 0, at = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(want[i]) || !Number.isFinite(want[i])) {
        if (!Object.is(got[i], want[i])) { worst = Infinity; at = i; }
        continue;
      }
      // Relative to the value, or to the smallest normal float for subnormal results.
      const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 2 ** -126);
      if (!(err <= worst)) { worst = err; at = i; }
    }
    tt.ok(worst <= 1e-6, `n=${n}: worst relative error ${worst.toExponential(2)} at exp(${x[at]}) = ${got[at]} vs ${want[at]}`);
  }
  // Ops without a SIMD kernel fall back to the reference unchanged.
  const x = uniform(300);
  sameValues(tt, wasm.read(wasm.unary('tanh', wasm.fromArray(x, 'float32'))), cpu.read(cpu.unary('tanh', cpu.fromArray(x, 'float32'))), 'tanh');
  tt.end();
});

t.test('neg, abs, sqrt, relu: the SIMD kernels equal the reference bit for bit (±0, NaN, ±Infinity, tails)', (tt) => {
  for (const n of [257, 4099]) { // 4-lane bulk plus 1 or 3 leftovers
    const x = uniform(n, -1e6, 1e6);
    const edges = [0, -0, 1, -1, 1e-45, -1e-45, 1e-30, -3.4e38, 3.4e38, Infinity, -Infinity, NaN, 0.5, 2];
    edges.forEach((v, i) => { x[i * 17 + 3] = v; x[n - 1 - i] = v; }); // also in the leftover lanes
    for (const op of ['neg', 'abs', 'sqrt', 'relu'] as const) {
      const got = wasm.read(wasm.unary(op, wasm.fromArray(x, 'float32')));
      const want = cpu.read(cpu.unary(op, cpu.fromArray(x, 'float32')));
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) if (!(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) bad = i;
      const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));
      tt.ok(bad < 0, bad < 0 ? `${op}, n=${n}` : `${op}, n=${n}: ${op}(${show(x[bad])}) = ${show(got[bad])}, want ${show(want[bad])}`);
    }
  }
  tt.end();
});

t.test('sigmoid: close to the reference over the float32 range and the edges', (tt) => {
  for (const n of [257, 4099]) {
    const x = uniform(n, -100, 100);
    const edges = [0, -0, 1, -1, 20, -20, 88, -88, 89, -89, 1e-8, Infinity, -Infinity, NaN];
    edges.forEach((v, i) => { x[i * 13 + 5] = v; });
    const got = wasm.read(wasm.unary('sigmoid', wasm.fromArray(x, 'float32')));
    const want = cpu.read(cpu.unary('sigmoid', cpu.fromArray(x, 'float32')));
    let worst = 0, at = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(want[i])) {
        if (!Number.isNaN(got[i])) { worst = Infinity; at = i; }
        continue;
      }
      // Relative error, with an absolute floor of 1e-30 for results that underflow (x < -88).
      const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-30);
      if (!(err <= worst)) { worst = err; at = i; }
    }
    tt.ok(worst <= 1e-6, `n=${n}: worst relative error ${worst.toExponential(2)} at sigmoid(${x[at]}) = ${got[at]} vs ${want[at]}`);
  }
  tt.end();
});

// -- reduce: sum ---------------------------------------------------------------------------------

t.test('sum over the last axis', (tt) => {
  for (const [outer, inner] of [[1000, 1], [300, 3], [17, 17], [3, 1000], [1, 4099]]) {
    const x = uniform(outer * inner, -10, 10);
    const got = wasm.read(wasm.reduce('sum', wasm.fromArray(x, 'float32'), outer, inner));
    const want = cpu.read(cpu.reduce('sum', cpu.fromArray(x, 'float32'), outer, inner));
    let worst = 0;
    for (let o = 0; o < outer; o++) {
      let abs = 0;
      for (let i = 0; i < inner; i++) abs += Math.abs(x[o * inner + i]);
      worst = Math.max(worst, Math.abs(got[o] - want[o]) / abs);
    }
    tt.ok(worst <= 1e-6, `[${outer}, ${inner}]: worst ${worst.toExponential(2)}`);
  }
  const x = uniform(1000);
  tt.same(wasm.read(wasm.reduce('argmax', wasm.fromArray(x, 'float32'), 10, 100)),
    cpu.read(cpu.reduce('argmax', cpu.fromArray(x, 'float32'), 10, 100)), 'argmax falls back');
  tt.end();
});

// -- the rest of the backend ---------------------------------------------------------------------

t.test('the shared op spec table (every kernel, inherited ones too)', async (tt) => {
  for (const backend of [serial, wasm]) {
    const results = await runSpec(backend, cpu);
    tt.equal(results.length, SPEC_CASES.length);
    for (const r of results) tt.equal(r.error, null, `${r.name} (${backend.threads} thread(s))`);
  }
  // Inside a tidy scope the arrays live in the arena, so the kernels run in place (arena.ts): again.
  const scoped = await runSpec(wasm, cpu, { scope: (fn) => wasm.tidy(fn, (s) => [s as unknown as Storage]) });
  for (const r of scoped) tt.equal(r.error, null, `${r.name} (in a tidy scope: resident arrays)`);
});

t.test('storages are CPU storages: inherited kernels read them', (tt) => {
  tt.equal(wasm.name, 'wasm');
  tt.equal(wasm.threads, 2, 'the pool started');
  const s: Storage = wasm.fromArray([1, 2, 3, 4, 5, 6], 'float32');
  const flipped = wasm.copy({ storage: s, offset: 5, strides: [-1] }, [6]);
  tt.same([...wasm.read(flipped)], [6, 5, 4, 3, 2, 1]);
  tt.same([...cpu.read(s)], [1, 2, 3, 4, 5, 6], 'the reference reads a wasm storage');
  tt.end();
});

t.test('a process that used the pool exits on its own', (tt) => {
  const script = `
    import { createWasmBackend } from ${JSON.stringify(new URL('../../kernels/wasm/index.ts', import.meta.url).href)};
    const w = createWasmBackend({ threads: 2 });
    const n = 200, a = w.fromArray(new Float32Array(n * n).fill(1), 'float32');
    const c = w.read(w.matmul(a, a, { batch: 1, m: n, k: n, n, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false }));
    console.log(c[0]);`;
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  tt.equal(child.stdout.trim(), '200', `child printed C[0] (stderr: ${child.stderr.slice(0, 300)})`);
  tt.equal(child.status, 0, `child exited by itself in ${Date.now() - started} ms`);
  tt.end();
});
