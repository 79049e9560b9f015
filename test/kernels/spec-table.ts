/**
 * One op spec table, run on every backend against the CPU reference (the minitorch / tfjs
 * "one table of functions run on every backend" idea).
 *
 * Each case builds its inputs from a seeded generator (so every backend sees the same numbers),
 * calls the Backend interface and returns the result storage; `runSpec` runs a case on the backend
 * under test and on the reference, reads both back and compares them elementwise with
 * |got - want| <= atol + rtol·|want| (float32 defaults 1e-4 / 1e-5, style.md; int32 exact).
 * The harness reads with `readAsync` where the backend has it (WebGPU has no synchronous readback),
 * which is why a case returns a Storage rather than a TypedArray.
 *
 * Used by test/kernels/gpu.test.ts (Node: gpu.js cpu, webasm) and test/browser/shaders.test.ts
 * (Chromium: webgl2, webgl, webgpu), so it imports nothing Node-only.
 */
import {
  denseStrides, sizeOf,
  type Backend, type BinaryOp, type DType, type ReduceOp, type Storage, type TypedArray, type UnaryOp,
} from '../../kernels/backend.ts';

export interface SpecCase {
  name: string;
  run(b: Backend): Storage;
  rtol?: number;
  atol?: number;
}

// -- inputs ---------------------------------------------------------------------------------------

/** mulberry32: a tiny seeded generator, so inputs are identical on every backend and run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Draws inputs for one case; the same case name always draws the same numbers. */
class Inputs {
  private next: () => number;
  constructor(readonly b: Backend, name: string) {
    this.next = rng(seedOf(name));
  }
  values(n: number, lo = -1, hi = 1, step = 0): number[] {
    return Array.from({ length: n }, () => {
      const v = lo + (hi - lo) * this.next();
      return step > 0 ? Math.round(v / step) * step : v;
    });
  }
  f32(shape: readonly number[], lo = -1, hi = 1, step = 0): Storage {
    return this.b.fromArray(this.values(sizeOf(shape), lo, hi, step), 'float32');
  }
  ints(n: number, lo: number, hiExclusive: number, dtype: DType = 'int32'): Storage {
    return this.b.fromArray(Array.from({ length: n }, () => lo + Math.floor((hiExclusive - lo) * this.next())), dtype);
  }
}

function spec(name: string, run: (inp: Inputs, b: Backend) => Storage, tol: { rtol?: number; atol?: number } = {}): SpecCase {
  return { name, run: (b) => run(new Inputs(b, name), b), ...tol };
}

/** Strides of `shape` broadcast to `outShape` (0 where the input has size 1), NumPy rules. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const dense = denseStrides(shape);
  const pad = outShape.length - shape.length;
  return outShape.map((_, i) => (i < pad || shape[i - pad] === 1 ? 0 : dense[i - pad]));
}

function bin(b: Backend, op: BinaryOp, x: Storage, xs: number[], y: Storage, ys: number[], out: number[]): Storage {
  return b.binary(op, x, broadcastStrides(xs, out), y, broadcastStrides(ys, out), out);
}

// -- the table ------------------------------------------------------------------------------------

/** Input range per unary op: inside each op's domain, wide enough to reach its branches. */
const UNARY_RANGE: Record<UnaryOp, [number, number]> = {
  neg: [-3, 3], exp: [-5, 5], log: [0.01, 5], sqrt: [0, 5], abs: [-3, 3], sin: [-6, 6], cos: [-6, 6],
  relu: [-3, 3], sigmoid: [-20, 20], tanh: [-6, 6], erf: [-3.5, 3.5], sign: [-3, 3],
};

const BINARY_RANGE: Partial<Record<BinaryOp, { a: [number, number, number?]; b: [number, number, number?] }>> = {
  div: { a: [-3, 3], b: [0.5, 2] },
  pow: { a: [0.1, 3], b: [-2, 2] },
  eq: { a: [-2, 2, 1], b: [-2, 2, 1] }, // integers, so that equality happens
  ne: { a: [-2, 2, 1], b: [-2, 2, 1] },
  le: { a: [-2, 2, 1], b: [-2, 2, 1] },
  ge: { a: [-2, 2, 1], b: [-2, 2, 1] },
};

function unaryCases(): SpecCase[] {
  const cases = Object.entries(UNARY_RANGE).map(([op, [lo, hi]]) =>
    spec(`unary ${op}`, (inp, b) => b.unary(op as UnaryOp, inp.f32([37, 29], lo, hi))));
  return [
    ...cases,
    spec('unary erf near 0', (inp, b) => b.unary('erf', inp.f32([100], -0.01, 0.01))),
    spec('unary tanh near 0', (inp, b) => b.unary('tanh', inp.f32([100], -0.01, 0.01))),
    spec('unary sin twice (a kernel fed its own output)', (inp, b) => b.unary('sin', b.unary('sin', inp.f32([500], -3, 3)))),
    spec('unary exp on a tiny host tensor', (inp, b) => b.unary('exp', inp.f32([3]))),
    spec('unary exp float64 (host path)', (inp, b) => b.unary('exp', b.fromArray(inp.values(50, -3, 3), 'float64'))),
  ];
}

function binaryCases(): SpecCase[] {
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
  const cases = ops.map((op) => spec(`binary ${op} broadcast [6,1,40]x[7,1]`, (inp, b) => {
    const r = BINARY_RANGE[op] ?? { a: [-2, 2], b: [-2, 2] };
    const x = inp.f32([6, 1, 40], r.a[0], r.a[1], r.a[2] ?? 0);
    const y = inp.f32([7, 1], r.b[0], r.b[1], r.b[2] ?? 0);
    return bin(b, op, x, [6, 1, 40], y, [7, 1], [6, 7, 40]);
  }));
  return [
    ...cases,
    spec('binary pow negative base, integer exponents', (inp, b) => {
      const x = inp.f32([50], -3, -0.5);
      const e = b.fromArray(Array.from({ length: 50 }, (_, i) => (i % 5) - 2), 'float32');
      return b.binary('pow', x, [1], e, [1], [50]);
    }),
    spec('binary add transposed operand', (inp, b) => {
      const x = inp.f32([30, 20]);
      const y = inp.f32([20, 30]);
      return b.binary('add', x, [20, 1], y, [1, 30], [30, 20]); // x + y^T
    }),
    spec('binary mul rank-5 broadcast', (inp, b) => bin(b, 'mul', inp.f32([2, 3, 1, 4, 5]), [2, 3, 1, 4, 5],
      inp.f32([3, 6, 1, 5]), [3, 6, 1, 5], [2, 3, 6, 4, 5])),
    spec('binary sub scalar from a tiny host tensor', (inp, b) => bin(b, 'sub', inp.f32([40, 50]), [40, 50],
      inp.f32([1]), [1], [40, 50])),
    spec('binary add bias, 300k elements (2-D texture layout)', (inp, b) => bin(b, 'add', inp.f32([600, 500]), [600, 500],
      inp.f32([500]), [500], [600, 500])),
    spec('binary add int32 (host path)', (inp, b) => b.binary('add', inp.ints(64, -100, 100), [1], inp.ints(64, -100, 100), [1], [64])),
    spec('binary mul float32 by int32', (inp, b) => b.binary('mul', inp.f32([64]), [1], inp.ints(64, -5, 5), [1], [64])),
    spec('where cond from gt, broadcast', (inp, b) => {
      const x = inp.f32([8, 30]);
      const y = inp.f32([30]);
      const cond = bin(b, 'gt', x, [8, 30], y, [30], [8, 30]);
      return b.where(cond, [30, 1], x, [30, 1], y, [0, 1], [8, 30]);
    }),
    spec('where int32 cond (host) over device values', (inp, b) => {
      const cond = inp.ints(30, 0, 2);
      return b.where(cond, [0, 1], inp.f32([10, 30]), [30, 1], inp.f32([10, 1]), [1, 0], [10, 30]);
    }),
  ];
}

function reduceCases(): SpecCase[] {
  const cases: SpecCase[] = [];
  for (const op of ['sum', 'max', 'argmax'] as ReduceOp[]) {
    cases.push(spec(`reduce ${op} [13, 1000] (two passes)`, (inp, b) => b.reduce(op, inp.f32([13, 1000]), 13, 1000), { atol: 1e-4 }));
    cases.push(spec(`reduce ${op} [5, 7]`, (inp, b) => b.reduce(op, inp.f32([5, 7]), 5, 7)));
    cases.push(spec(`reduce ${op} [300, 3]`, (inp, b) => b.reduce(op, inp.f32([300, 3]), 300, 3)));
  }
  return [
    ...cases,
    spec('reduce sum [2, 70000] (three passes)', (inp, b) => b.reduce('sum', inp.f32([2, 70000]), 2, 70000), { atol: 1e-3 }),
    spec('reduce argmax with ties', (inp, b) => b.reduce('argmax', inp.f32([40, 300], -2, 2, 1), 40, 300)),
    spec('reduce max with ties', (inp, b) => b.reduce('max', inp.f32([40, 300], -2, 2, 1), 40, 300)),
  ];
}

function copyCases(): SpecCase[] {
  return [
    spec('copy permute [4,5,6] -> (2,0,1)', (inp, b) =>
      b.copy({ storage: inp.f32([4, 5, 6]), offset: 0, strides: [1, 30, 6] }, [6, 4, 5])),
    spec('copy expand [5,1] -> [5,7]', (inp, b) => b.copy({ storage: inp.f32([5, 1]), offset: 0, strides: [1, 0] }, [5, 7])),
    spec('copy slice with offset', (inp, b) => b.copy({ storage: inp.f32([10, 12]), offset: 26, strides: [12, 1] }, [6, 8])),
    spec('copy flip rows (negative stride)', (inp, b) => b.copy({ storage: inp.f32([5, 6]), offset: 24, strides: [-6, 1] }, [5, 6])),
    spec('copy into: cat two halves', (inp, b) => {
      const dst = b.full(10 * 12, 0, 'float32');
      b.copy({ storage: inp.f32([10, 5]), offset: 0, strides: [5, 1] }, [10, 5], { storage: dst, offset: 0, strides: [12, 1] });
      b.copy({ storage: inp.f32([10, 7]), offset: 0, strides: [7, 1] }, [10, 7], { storage: dst, offset: 5, strides: [12, 1] });
      return dst;
    }),
    spec('copy into a transposed view', (inp, b) => {
      const dst = inp.f32([8, 9]);
      b.copy({ storage: inp.f32([9, 8]), offset: 0, strides: [8, 1] }, [9, 8], { storage: dst, offset: 0, strides: [1, 9] });
      return dst;
    }),
    spec('copy into a flipped, strided view', (inp, b) => {
      const dst = inp.f32([6, 10]);
      b.copy({ storage: inp.f32([6, 5]), offset: 0, strides: [5, 1] }, [6, 5], { storage: dst, offset: 59, strides: [-10, -2] });
      return dst;
    }),
    spec('copy into an overlapping view (stride 0: host path)', (inp, b) => {
      const dst = inp.f32([4, 20]);
      b.copy({ storage: inp.f32([3, 20]), offset: 0, strides: [20, 1] }, [3, 20], { storage: dst, offset: 20, strides: [0, 1] });
      return dst;
    }),
    spec('copy into int32 (host path)', (inp, b) => {
      const dst = inp.ints(40, 0, 9);
      b.copy({ storage: inp.ints(20, 10, 99), offset: 0, strides: [1] }, [20], { storage: dst, offset: 1, strides: [2] });
      return dst;
    }),
    spec('cast float32 -> float32 (device copy)', (inp, b) => b.cast(inp.f32([200]), 'float32')),
  ];
}

function matmulCases(): SpecCase[] {
  const mm = (name: string, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
    aBatchStride = m * k, bBatchStride = k * n) => spec(name, (inp, b) => {
    const a = inp.f32([aBatchStride === 0 ? 1 : batch, m * k]);
    const c = inp.f32([bBatchStride === 0 ? 1 : batch, k * n]);
    return b.matmul(a, c, { batch, m, k, n, aBatchStride, bBatchStride, transA, transB });
  }, { atol: 1e-4 * Math.sqrt(k) });
  return [
    mm('matmul [33,47]x[47,29]', 1, 33, 47, 29, false, false),
    mm('matmul transA', 1, 33, 47, 29, true, false),
    mm('matmul transB', 1, 33, 47, 29, false, true),
    mm('matmul transA transB', 1, 20, 70, 17, true, true),
    mm('matmul batch 3, B broadcast', 3, 16, 40, 24, false, false, 16 * 40, 0),
    mm('matmul k = 1000 (blocked accumulation)', 1, 8, 1000, 9, false, false),
    mm('matmul vector [1,64]x[64,10]', 1, 1, 64, 10, false, false),
    spec('matmul -> add bias -> relu -> sum (stays on the device)', (inp, b) => {
      const h = b.matmul(inp.f32([16, 32]), inp.f32([32, 24]), {
        batch: 1, m: 16, k: 32, n: 24, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false,
      });
      const act = b.unary('relu', bin(b, 'add', h, [16, 24], inp.f32([24]), [24], [16, 24]));
      return b.reduce('sum', act, 16, 24);
    }, { atol: 1e-4 }),
  ];
}

function gatherCases(): SpecCase[] {
  return [
    spec('gather along axis 1', (inp, b) => b.gather(inp.f32([4, 10, 3]), 4, 10, 3, inp.ints(4 * 6 * 3, 0, 10), 6, [18, 3, 1])),
    spec('gather index_select (broadcast index)', (inp, b) => b.gather(inp.f32([50, 16]), 1, 50, 16, inp.ints(7, 0, 50), 7, [0, 1, 0])),
    spec('gather with a float32 index', (inp, b) => b.gather(inp.f32([30, 4]), 1, 30, 4, inp.ints(20, 0, 30, 'float32'), 20, [0, 1, 0])),
    spec('scatterAdd with repeated indices', (inp, b) =>
      b.scatterAdd(inp.f32([4, 6, 3]), 4, 10, 3, inp.ints(4 * 6 * 3, 0, 4), 6, [18, 3, 1])),
    spec('scatterAdd index_select backward', (inp, b) => b.scatterAdd(inp.f32([40, 16]), 1, 9, 16, inp.ints(40, 0, 9), 40, [0, 1, 0])),
  ];
}

function fftCases(): SpecCase[] {
  return [
    spec('rfft2 [3, 32, 32] (power of two)', (inp, b) => b.rfft2(inp.f32([3, 32, 32]), 3, 32, 32, 1 / 32), { atol: 1e-5 }),
    spec('rfft2 [2, 14, 14]', (inp, b) => b.rfft2(inp.f32([2, 14, 14]), 2, 14, 14, 1), { atol: 1e-4 }),
    spec('rfft2 [1, 5, 7] (odd)', (inp, b) => b.rfft2(inp.f32([1, 5, 7]), 1, 5, 7, 1), { atol: 1e-5 }),
    spec('irfft2 [2, 32, 17] -> 32x32', (inp, b) => b.irfft2(inp.f32([2, 32, 17, 2]), 2, 32, 32, 1 / 32), { atol: 1e-5 }),
    spec('irfft2 [1, 14, 8] -> 14x14', (inp, b) => b.irfft2(inp.f32([1, 14, 8, 2]), 1, 14, 14, 1 / 196), { atol: 1e-5 }),
    spec('irfft2 [3, 3, 4] -> 3x7 (odd)', (inp, b) => b.irfft2(inp.f32([3, 3, 4, 2]), 3, 3, 7, 1), { atol: 1e-5 }),
  ];
}

function correlateCases(): SpecCase[] {
  const GAUSS = [0.0010284, 0.0075988, 0.0360008, 0.1093607, 0.2130055, 0.2660117, 0.2130055, 0.1093607, 0.0360008, 0.0075988, 0.0010284];
  const c = (shape: [number, number, number], w: number[]) => (inp: Inputs, b: Backend) =>
    b.correlate1d(inp.f32(shape), shape[0], shape[1], shape[2], w);
  return [
    spec('correlate1d [144, 64, 64] 11 taps (SSIM along H)', c([144, 64, 64], GAUSS)),
    spec('correlate1d [9216, 64, 1] 11 taps (SSIM along W)', c([9216, 64, 1], GAUSS)),
    spec('correlate1d [3, 7, 21] asymmetric 5 taps (inner not a multiple of 4)', c([3, 7, 21], [0.5, -1, 2, 0.25, -0.75])),
    spec('correlate1d [5, 19, 1] asymmetric 3 taps (n not a multiple of 4)', c([5, 19, 1], [1, -2, 3])),
    spec('correlate1d [2, 3, 1] 11 taps (axis shorter than the window)', c([2, 3, 1], GAUSS)),
    spec('correlate1d [2, 4, 6] 11 taps (axis shorter than the window)', c([2, 4, 6], GAUSS)),
    spec('correlate1d [4, 10, 3] (inner 3)', (inp, b) => b.correlate1d(inp.f32([4, 10, 3]), 4, 10, 3, [1, 2, 3])),
    spec('correlate1d [6, 5, 2] one tap (a scale)', c([6, 5, 2], [-1.5])),
  ];
}

function memoryCases(): SpecCase[] {
  return [
    spec('fromArray float32 round trip', (inp) => inp.f32([1000])),
    spec('fromArray tiny float32 (host)', (inp) => inp.f32([5])),
    spec('full float32', (_inp, b) => b.full(777, 2.5, 'float32')),
    spec('full -Infinity', (_inp, b) => b.full(100, -Infinity, 'float32')),
    spec('fromArray int32 round trip', (inp) => inp.ints(100, -1000, 1000)),
    spec('fromArray empty', (_inp, b) => b.fromArray([], 'float32')),
    spec('cast float32 -> int32 (truncates)', (inp, b) => b.cast(inp.f32([300], -5, 5), 'int32')),
    spec('cast int32 -> float32', (inp, b) => b.cast(inp.ints(300, -50, 50), 'float32')),
    spec('cast float32 -> float64', (inp, b) => b.cast(inp.f32([300]), 'float64')),
  ];
}

export const SPEC_CASES: readonly SpecCase[] = [
  ...memoryCases(), ...unaryCases(), ...binaryCases(), ...reduceCases(), ...copyCases(), ...matmulCases(), ...gatherCases(),
  ...fftCases(), ...correlateCases(),
];

// -- running --------------------------------------------------------------------------------------

/** Read a storage with `readAsync` when the backend has one (WebGPU), else `read`. */
export async function readStorage(b: Backend, s: Storage): Promise<TypedArray> {
  const async = (b as { readAsync?: (s: Storage) => Promise<TypedArray> }).readAsync;
  return async ? async.call(b, s) : b.read(s);
}

/** null when equal within tolerance, else a description of the first mismatch. */
export function compareArrays(got: TypedArray, want: TypedArray, rtol: number, atol: number): string | null {
  if (got.constructor !== want.constructor) return `dtype ${got.constructor.name}, want ${want.constructor.name}`;
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const exact = want instanceof Int32Array;
  let bad = 0;
  let first = '';
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = g === w || (Number.isNaN(g) && Number.isNaN(w)) || (!exact && Math.abs(g - w) <= atol + rtol * Math.abs(w));
    if (!ok && bad++ === 0) first = `[${i}] got ${g}, want ${w}`;
  }
  return bad === 0 ? null : `${bad}/${want.length} differ; first ${first}`;
}

export interface SpecResult {
  name: string;
  /** null when it matched, else the mismatch or the error. */
  error: string | null;
  ms: number;
}

export interface RunSpecOptions {
  /** Only cases whose name contains this. */
  filter?: string;
  /** Wraps each case, e.g. the gpu backend's `tidy`, so intermediates are freed. */
  scope?: <T>(fn: () => T) => T;
}

/** Run the table on `b` and on the reference `ref`; one result per case, errors caught. */
export async function runSpec(b: Backend, ref: Backend, options: RunSpecOptions = {}): Promise<SpecResult[]> {
  const scope = options.scope ?? (<T>(fn: () => T) => fn());
  const results: SpecResult[] = [];
  for (const c of SPEC_CASES) {
    if (options.filter && !c.name.includes(options.filter)) continue;
    const t0 = performance.now();
    let error: string | null;
    try {
      const want = ref.read(c.run(ref));
      const out = scope(() => c.run(b));
      const got = await readStorage(b, out);
      b.dispose(out);
      error = compareArrays(got, want, c.rtol ?? 1e-4, c.atol ?? 1e-5);
    } catch (e) {
      error = `threw ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
    }
    results.push({ name: c.name, error, ms: performance.now() - t0 });
  }
  return results;
}
