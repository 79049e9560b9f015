/**
 * Making tensors: from data, constant fills, ranges, and random draws from the seeded generator.
 * Numbers are produced on the host and uploaded once, to the backend the options name:
 *   { like: x }           x's backend (how a composite makes a constant beside its input)
 *   { device: 'cpu' }     a device name or a Backend (engine/device.ts)
 *   neither               the active backend (`useDevice` / `getBackend()`)
 */
import { dtypeOfArray, sizeOf, type Backend, type DType, type TypedArray } from '../kernels/backend.ts';
import { device, getBackend } from './device.ts';
import { defaultGenerator, type Generator } from './rng.ts';
import { fmtShape } from './shape.ts';
import { Tensor } from './tensor.ts';

/**
 * Options every creation function takes: dtype (float32), requiresGrad, and where to create (`like` or `device`).
 */
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** Create on this tensor's backend (its dtype is not implied: pass `dtype` too if wanted). */
  like?: Tensor;
  /** Create on this device (a name such as 'cpu' or 'gpu:cpu', or a Backend). */
  device?: string | Backend;
}

/** The backend `opts` asks for: `like`'s, else `device`, else the active one. */
export function backendFor(opts: TensorOptions): Backend {
  if (opts.like !== undefined && opts.device !== undefined) {
    const want = device(opts.device);
    if (want !== opts.like.storage.backend) {
      throw new Error(`tensor options: like (on "${opts.like.storage.backend.name}") and device "${want.name}" disagree`);
    }
    return want;
  }
  if (opts.like !== undefined) return opts.like.storage.backend;
  if (opts.device !== undefined) return device(opts.device);
  return getBackend();
}

/** TensorOptions plus the generator to draw from (default: the global one `manualSeed` seeds). */
export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** Nested arrays of numbers, any depth. */
export type NestedArray = number | readonly NestedArray[];

function make(values: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  if (sizeOf(shape) !== values.length) {
    throw new Error(`tensor: ${values.length} values cannot have shape ${fmtShape(shape)}`);
  }
  const t = new Tensor(backendFor(opts).fromArray(values, dtype), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0] as NestedArray;
  }
  return shape;
}

/**
 * A tensor from numbers: a flat array or typed array with an explicit shape, or nested arrays.
 *   tensor([[1, 2], [3, 4]])              // shape [2, 2], float32
 *   tensor(new Float64Array(6), [2, 3], { dtype: 'float64', requiresGrad: true })
 */
export function tensor(data: NestedArray | ArrayLike<number>, shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  if (typeof data === 'number') return make([data], shape ?? [], opts);
  const nested = Array.isArray(data);
  const flat: ArrayLike<number> = nested ? (data as NestedArray[]).flat(Infinity as 1) as number[] : data as ArrayLike<number>;
  const inferred = nested ? inferShape(data as NestedArray) : [flat.length];
  if (nested && sizeOf(inferred) !== flat.length) throw new Error('tensor: nested arrays are ragged');
  return make(flat, shape ?? inferred, opts);
}

/**
 * A tensor over `data` itself where the backend can hold host memory (cpu, wasm) and `opts.dtype`
 * is absent or the array's own, as torch.as_tensor shares a NumPy array's memory: no copy, and
 * writes through the tensor change `data`. Otherwise (a GPU backend, another dtype) one copy, as
 * `tensor()` makes. For loading checkpoints: every weight becomes a view into the file's bytes.
 *
 * @example
 * const x = asTensor(new Float32Array([1, 2, 3, 4]), [2, 2]);   // shares the array on host backends
 */
export function asTensor(data: TypedArray, shape: readonly number[] = [data.length], opts: TensorOptions = {}): Tensor {
  const own = dtypeOfArray(data);
  const backend = backendFor(opts);
  if (backend.adopt === undefined || (opts.dtype ?? own) !== own) return make(data, shape, opts);
  if (sizeOf(shape) !== data.length) throw new Error(`asTensor: ${data.length} values cannot have shape ${fmtShape(shape)}`);
  const t = new Tensor(backend.adopt(data), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/**
 * A tensor of `shape` filled with `value`, as torch.full.
 *
 * @example
 * full([2, 2], 7);                    // [[7, 7], [7, 7]]
 */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  const t = new Tensor(backendFor(opts).full(sizeOf(shape), value, opts.dtype ?? 'float32'), shape);
  if (opts.requiresGrad) t.requiresGrad_();
  return t;
}

/**
 * A tensor of `shape` filled with 0 (float32 unless `opts.dtype`).
 *
 * @example
 * zeros([2, 3]);                      // [[0, 0, 0], [0, 0, 0]]
 */
export const zeros = (shape: readonly number[], opts: TensorOptions = {}) => full(shape, 0, opts);
/**
 * A tensor of `shape` filled with 1 (float32 unless `opts.dtype`).
 *
 * @example
 * ones([2], { dtype: 'int32' });     // [1, 1]
 */
export const ones = (shape: readonly number[], opts: TensorOptions = {}) => full(shape, 1, opts);
/**
 * Zeros (ones) of x's shape and dtype, on x's backend (as torch.zeros_like keeps the device).
 *
 * @example
 * zerosLike(randn([2, 3]));   // [[0, 0, 0], [0, 0, 0]]
 */
export const zerosLike = (x: Tensor, opts: TensorOptions = {}) => full(x.shape, 0, { dtype: x.dtype, ...(opts.device === undefined ? { like: x } : {}), ...opts });
/**
 * Ones of `x`'s shape and dtype, on `x`'s backend unless `opts.device` says otherwise.
 *
 * @example
 * onesLike(tensor([1, 2], { dtype: 'int32' }));   // [1, 1] int32
 */
export const onesLike = (x: Tensor, opts: TensorOptions = {}) => full(x.shape, 1, { dtype: x.dtype, ...(opts.device === undefined ? { like: x } : {}), ...opts });

/**
 * start, start+step, ... < end (one argument: 0 .. end-1), like torch.arange.
 *
 * @example
 * arange(5);          // [0, 1, 2, 3, 4]
 * arange(1, 2, 0.25); // [1, 1.25, 1.5, 1.75]
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  const n = Math.max(Math.ceil((b - a) / step), 0);
  const values = Array.from({ length: n }, (_, i) => a + i * step);
  return make(values, [n], opts);
}

/**
 * The n×n identity matrix.
 *
 * @example
 * eye(2);   // [[1, 0], [0, 1]]
 */
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) values[i * n + i] = 1;
  return make(values, [n, n], opts);
}

function draw(shape: readonly number[], opts: RandomOptions, sample: (g: Generator) => number): Tensor {
  const g = opts.generator ?? defaultGenerator;
  const values = new Float64Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = sample(g);
  return make(values, shape, opts);
}

/**
 * Standard normal samples.
 *
 * @example
 * manualSeed(0);
 * const w = randn([3, 2], { requiresGrad: true });
 */
export const randn = (shape: readonly number[], opts: RandomOptions = {}) => draw(shape, opts, (g) => g.normal());
/**
 * Uniform samples in [0, 1).
 *
 * @example
 * const u = rand([4]);   // uniform in [0, 1)
 */
export const rand = (shape: readonly number[], opts: RandomOptions = {}) => draw(shape, opts, (g) => g.random());
/**
 * Uniform samples in [low, high), as torch.empty(shape).uniform_(low, high).
 *
 * @example
 * const w = uniform([4, 4], -0.1, 0.1);
 */
export const uniform = (shape: readonly number[], low = 0, high = 1, opts: RandomOptions = {}) =>
  draw(shape, opts, (g) => low + (high - low) * g.random());
/**
 * Normal samples with `mean` and `std`, as torch.empty(shape).normal_(mean, std).
 *
 * @example
 * const w = normal([4, 4], 0, 0.02);
 */
export const normal = (shape: readonly number[], mean = 0, std = 1, opts: RandomOptions = {}) =>
  draw(shape, opts, (g) => mean + std * g.normal());
/**
 * Integers in [low, high) (int32 by default).
 *
 * @example
 * randint(0, 10, [3]);   // three int32 values in [0, 10)
 */
export const randint = (low: number, high: number, shape: readonly number[], opts: RandomOptions = {}) =>
  draw(shape, { dtype: 'int32', ...opts }, (g) => g.int(low, high));

/**
 * Normal(mean, std) restricted to [a, b] by redrawing values outside (like timm's trunc_normal_,
 * whose bounds are absolute values, default ±2).
 *
 * @example
 * const w = truncNormal([768, 768], 0, 0.02);   // within [-2, 2] (absolute bounds, as timm)
 */
export function truncNormal(shape: readonly number[], mean = 0, std = 1, a = -2, b = 2, opts: RandomOptions = {}): Tensor {
  if (!(a < b)) throw new Error(`truncNormal: need a < b, got [${a}, ${b}]`);
  return draw(shape, opts, (g) => {
    for (let tries = 0; tries < 10000; tries++) {
      const v = mean + std * g.normal();
      if (v >= a && v <= b) return v;
    }
    throw new Error(`truncNormal: [${a}, ${b}] is too far in the tail of Normal(${mean}, ${std})`);
  });
}
