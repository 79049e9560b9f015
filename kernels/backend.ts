/**
 * The one interface between the engine and the machines that do arithmetic.
 *
 * What it is: a short list of kernels (map, zip with broadcasting, reduce, strided copy, matmul,
 * gather / scatter-add) over opaque `Storage` handles. The engine's ops call these and nothing else,
 * so an op never asks which device it runs on. `kernels/cpu/` is the plain reference implementation;
 * faster CPU paths and gpu.js kernels implement the same entry points and are tested against it.
 *
 * What it is not: autograd, shapes with meaning, or `Tensor`. Kernels know typed arrays, sizes and
 * strides only. Every `Storage` handed to a kernel is dense (row-major, offset 0) unless a stride
 * argument says otherwise; every `Storage` a kernel returns is dense and new.
 *
 * Broadcasting convention: an input laid out for an output of shape `outShape` is described by one
 * stride per output axis; a stride of 0 repeats that input along the axis (NumPy broadcasting).
 */

export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** What `Backend.memory()` reports. */
export interface MemoryInfo {
  /** Live storages. */
  storages: number;
  /** Their elements times the bytes per element. */
  bytes: number;
}

/** A block of numbers owned by one backend: a typed array on the CPU, a texture on a GPU. */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
}

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sin' | 'cos'
  | 'relu' | 'sigmoid' | 'tanh' | 'erf' | 'sign';
export const UNARY_OPS: readonly UnaryOp[] = [
  'neg', 'exp', 'log', 'sqrt', 'abs', 'sin', 'cos', 'relu', 'sigmoid', 'tanh', 'erf', 'sign',
];

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
];

/** Reductions over the last axis of an [outer, inner] block. `argmax` returns int32 indices. */
export type ReduceOp = 'sum' | 'max' | 'argmax';

/** C[b] = op(A[b]) · op(B[b]) for b < batch, op = transpose when the flag is set. */
export interface MatmulArgs {
  batch: number;
  m: number;
  k: number;
  n: number;
  /** Elements between consecutive A (B) matrices; 0 repeats one matrix for every batch. */
  aBatchStride: number;
  bBatchStride: number;
  /** A is stored as [k, m] (B as [n, k]) and used transposed. */
  transA: boolean;
  transB: boolean;
}

/** A strided view used as the source or destination of `copy`. */
export interface StridedView {
  storage: Storage;
  offset: number;
  strides: readonly number[];
}

export interface Backend {
  readonly name: string;

  // -- memory --------------------------------------------------------------------------------
  /** A new storage holding `data` converted to `dtype`. */
  fromArray(data: ArrayLike<number>, dtype: DType): Storage;
  /**
   * Optional: a storage that takes `data` itself, no copy (host-memory backends). The caller hands
   * the array over and must not write it afterwards. Without it, creation copies with `fromArray`.
   */
  adopt?(data: TypedArray): Storage;
  /** A new storage of `size` elements all equal to `value`. */
  full(size: number, value: number, dtype: DType): Storage;
  /** Copy the numbers back to the host. The returned array is the caller's to keep. */
  read(s: Storage): TypedArray;
  /**
   * Optional (host-memory backends): the storage's own array, no copy, for a caller that only reads
   * it at once and keeps nothing (`toArray` converts it straight into numbers). Never written to.
   */
  peek?(s: Storage): TypedArray;
  /**
   * The same, for devices that can only download asynchronously (WebGPU). Backends without it
   * are read with `read`; `Tensor.dataAsync()` picks whichever exists.
   */
  readAsync?(s: Storage): Promise<TypedArray>;
  /** Free a storage now (gpu.js: device memory; the CPU backends: recycle the array of one made inside a tidy scope, else nothing). */
  dispose(s: Storage): void;
  /**
   * Scoped disposal: run `fn` and free every storage created inside it except those `keep(result)`
   * names. gpu.js needs it (its textures are never garbage-collected); the CPU backends use it to
   * recycle arrays (kernels/cpu/pool.ts). Without it, `tidy` in engine/memory.ts just runs `fn`.
   */
  tidy?<T>(fn: () => T, keep: (result: T) => Iterable<Storage>): T;
  /**
   * Storages alive now and their bytes (what a leak check watches). gpu.js counts every storage not
   * yet disposed; the CPU backends count, once `trackMemory()` was called, the storages made since
   * then that the garbage collector has not reclaimed yet.
   */
  memory?(): MemoryInfo;
  /** Start counting live storages (the CPU backends; a no-op where counting is always on). */
  trackMemory?(): void;
  /** A new storage with the values converted (int32 conversion truncates toward zero). */
  cast(s: Storage, dtype: DType): Storage;

  // -- elementwise -----------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage): Storage;
  /** out[i] = op(a[i·aStrides], b[i·bStrides]) over `outShape`; comparisons give 1 or 0. */
  binary(
    op: BinaryOp,
    a: Storage, aStrides: readonly number[],
    b: Storage, bStrides: readonly number[],
    outShape: readonly number[],
  ): Storage;
  /** out = cond != 0 ? a : b, each input broadcast by its strides over `outShape`. */
  where(
    cond: Storage, condStrides: readonly number[],
    a: Storage, aStrides: readonly number[],
    b: Storage, bStrides: readonly number[],
    outShape: readonly number[],
  ): Storage;

  // -- reductions --------------------------------------------------------------------------------
  /** Reduce the last axis of `x` seen as [outer, inner]; returns [outer]. */
  reduce(op: ReduceOp, x: Storage, outer: number, inner: number): Storage;

  // -- movement ----------------------------------------------------------------------------------
  /**
   * Copy the strided view `src` of shape `shape` into `dst` (a strided view into an existing
   * storage, which is written in place) or, when `dst` is omitted, into a new dense storage.
   * Negative strides are allowed (flip).
   */
  copy(src: StridedView, shape: readonly number[], dst?: StridedView): Storage;

  // -- linear algebra --------------------------------------------------------------------------
  /** Batched matrix product; returns dense [batch, m, n]. */
  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage;

  // -- filters (kernels/*/correlate.ts) --------------------------------------------------------
  /**
   * 1-D correlation along the middle axis of x seen as [outer, n, inner], zero-padded so the length
   * stays n: out[o, i, j] = Σ_t weights[t] · x[o, i + t − r, j] over the t with 0 <= i + t − r < n,
   * r = (K − 1) / 2 for K = weights.length (odd). Terms are added in ascending t. Returns dense
   * [outer, n, inner] (scipy.ndimage.correlate1d with mode 'constant', cval 0).
   */
  correlate1d(x: Storage, outer: number, n: number, inner: number, weights: readonly number[]): Storage;

  // -- Fourier transforms (kernels/*/fft.ts) ---------------------------------------------------
  /**
   * 2-D DFT of each real [H, W] image of x [batch, H, W], onesided along W:
   * X[h, k] = scale · Σ_{m,n} x[m, n] e^{−2πi(hm/H + kn/W)} for k <= W/2; returns dense
   * [batch, H, W/2+1, 2] (last axis real, imaginary). Unnormalized apart from `scale`.
   */
  rfft2(x: Storage, batch: number, H: number, W: number, scale: number): Storage;
  /**
   * The C2R inverse: X [batch, H, W/2+1, 2] -> real [batch, H, W], y = scale · Σ X e^{+2πi(..)} over the
   * Hermitian completion along W, the imaginary parts of bins 0 and W/2 (W even) ignored (torch's irfft2).
   */
  irfft2(X: Storage, batch: number, H: number, W: number, scale: number): Storage;

  // -- indexing ----------------------------------------------------------------------------------
  /**
   * x seen as [outer, n, inner]; idx (int32) read with `idxStrides` over [outer, m, inner].
   * out[o, j, i] = x[o, idx[o, j, i], i]; returns dense [outer, m, inner].
   */
  gather(x: Storage, outer: number, n: number, inner: number,
    idx: Storage, m: number, idxStrides: readonly number[]): Storage;
  /** The adjoint of gather: out[o, idx[o, j, i], i] += src[o, j, i]; returns dense [outer, n, inner]. */
  scatterAdd(src: Storage, outer: number, n: number, inner: number,
    idx: Storage, m: number, idxStrides: readonly number[]): Storage;
}

// -- small shared helpers ----------------------------------------------------------------------

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a dense array of this shape. */
export function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4 };

/** The dtype of a typed array (Float32Array, Float64Array or Int32Array). */
export function dtypeOfArray(a: TypedArray): DType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
  }
}
