/**
 * The Tensor: a shape, a dtype, a dense row-major storage owned by a backend, and autograd links.
 *
 * Tensors are always dense: movement ops (permute, expand, slice, ...) copy through the backend's
 * strided `copy` kernel instead of keeping strided views. That costs some memory traffic and buys a
 * much simpler engine: every kernel reads dense inputs, every op knows exactly what it holds.
 * `reshape` is the one op that shares storage, since a dense array can be re-read in any shape.
 *
 * The methods here are thin: each one forwards to the op of the same name in `ops/` or
 * `functional/`, where the forward and its backward live together. Not here: arithmetic.
 */
import { backward, isGradEnabled, type BackwardOptions, type GradNode } from './autograd.ts';
import { sizeOf, type DType, type Storage, type TypedArray } from '../kernels/backend.ts';
import { getBackend } from './device.ts';
import { fmtShape, shapesEqual } from './shape.ts';
import * as U from './ops/unary.ts';
import * as B from './ops/binary.ts';
import * as W from './ops/where.ts';
import * as R from './ops/reduce.ts';
import * as M from './ops/movement.ts';
import * as S from './ops/slice.ts';
import * as MM from './ops/matmul.ts';
import * as G from './ops/gather.ts';
import * as A from './functional/activation.ts';
import * as ST from './functional/stats.ts';

/** Something that can stand where a tensor operand goes: a tensor or a plain number. */
export type Operand = Tensor | number;

let nextId = 0;

/**
 * An n-dimensional array on one backend, with an optional autograd node. Ops are methods and
 * functions with PyTorch's names (`x.add(y)` = `add(x, y)`); `backward()` fills `.grad` of the leaves.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.mul(x).sum().backward();   // x.grad = 2x
 * x.shape;                     // [2, 2]
 */
export class Tensor {
  /** Unique, increasing: handy when debugging a graph. */
  readonly id = nextId++;
  readonly shape: readonly number[];
  /** The numbers, on the backend that owns them. Replaced (never mutated) by in-place updates. */
  storage: Storage;
  requiresGrad = false;
  /** Accumulated gradient after `backward()`; null until then. */
  grad: Tensor | null = null;
  /** How this tensor was computed; null for leaves and for anything made under `noGrad`. */
  gradNode: GradNode | null = null;

  constructor(storage: Storage, shape: readonly number[]) {
    if (sizeOf(shape) !== storage.size) {
      throw new Error(`internal: storage of ${storage.size} elements cannot have shape ${fmtShape(shape)}`);
    }
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
  }

  get dtype(): DType { return this.storage.dtype; }
  get ndim(): number { return this.shape.length; }
  /** Number of elements. */
  get size(): number { return this.storage.size; }
  /** PyTorch-style `x.size(dim)`-like accessor: length of one dimension (negative dims count from the end). */
  dim(d: number): number { return this.shape[d < 0 ? d + this.shape.length : d]; }

  // -- reading numbers back ---------------------------------------------------------------------
  /** All elements as a flat array of numbers (row-major). */
  toArray(): number[] {
    const b = this.storage.backend;
    return toNumbers(b.peek ? b.peek(this.storage) : b.read(this.storage)); // peek: no intermediate copy
  }
  /** The elements as a typed array copy (row-major). */
  data(): TypedArray { return this.storage.backend.read(this.storage); }
  /** The elements, downloaded asynchronously where the device needs it (WebGPU); works everywhere. */
  async dataAsync(): Promise<TypedArray> {
    const b = this.storage.backend;
    return b.readAsync ? b.readAsync(this.storage) : b.read(this.storage);
  }
  async toArrayAsync(): Promise<number[]> { return toNumbers(await this.dataAsync()); }
  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.storage.backend.read(this.storage)[0];
  }
  toString(): string {
    const vals = this.size <= 16 ? this.toArray().map((v) => +v.toPrecision(6)).join(', ') : `${this.size} values`;
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''}: ${vals})`;
  }

  // -- autograd -----------------------------------------------------------------------------------
  /**
   * Accumulate d(this)/d(leaf) into every leaf's `.grad`. `grad` defaults to 1 for a one-element
   * tensor (a loss) and must otherwise have exactly this tensor's shape (as in PyTorch). The options
   * may come first, as a PyTorch user writes them: `loss.backward({ retainGraph: true })`.
   */
  backward(grad?: Tensor | number | BackwardOptions, opts?: BackwardOptions): void {
    if (grad !== undefined && !(grad instanceof Tensor) && typeof grad !== 'number') {
      if (opts !== undefined) throw new Error('backward(options, options): pass the options once, as the first or the second argument');
      opts = grad;
      grad = undefined;
    }
    const options = checkBackwardOptions(opts);
    let g: Tensor;
    if (grad instanceof Tensor) {
      if (!shapesEqual(grad.shape, this.shape)) {
        throw new Error(`backward: gradient of shape ${fmtShape(grad.shape)} does not match tensor shape ${fmtShape(this.shape)} (the shapes must be equal, not only the sizes)`);
      }
      g = grad.to(this.dtype);
    } else {
      if (grad !== undefined && !Number.isFinite(grad)) throw new Error(`backward: the gradient must be a tensor or a finite number, got ${grad}`);
      if (grad === undefined && this.size !== 1) {
        throw new Error(`backward() without a gradient needs a one-element tensor (a loss), got shape ${fmtShape(this.shape)}`);
      }
      g = new Tensor(this.storage.backend.full(this.size, grad ?? 1, this.dtype), this.shape);
    }
    backward(this, g, options);
  }
  /** The same numbers, cut off from the graph. */
  detach(): Tensor { return new Tensor(this.storage, this.shape); }
  /** Set `.grad` to null. */
  zeroGrad(): void { this.grad = null; }
  /** Mark a leaf as requiring grad (returns this, like PyTorch's `requires_grad_`). */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype === 'int32') throw new Error('only floating point tensors can require gradients');
    if (this.gradNode !== null) throw new Error('requiresGrad_ can only change leaf tensors');
    this.requiresGrad = flag;
    return this;
  }
  /**
   * Replace this tensor's numbers with `src`'s (same size), outside the graph: optimizer updates and
   * weight loading. Converts dtype and moves across backends when needed.
   */
  assign(src: Tensor): this {
    if (src.size !== this.size) throw new Error(`assign: shape ${fmtShape(src.shape)} does not match ${fmtShape(this.shape)}`);
    const backend = this.storage.backend;
    let storage = src.storage.backend === backend ? src.storage : backend.fromArray(src.data(), src.dtype);
    if (storage.dtype !== this.dtype) storage = backend.cast(storage, this.dtype);
    this.storage = storage;
    return this;
  }
  /** Convert to another dtype (differentiable between float types). */
  to(dtype: DType): Tensor { return U.cast(this, dtype); }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  int(): Tensor { return this.to('int32'); }

  // -- elementwise ----------------------------------------------------------------------------
  neg(): Tensor { return U.neg(this); }
  exp(): Tensor { return U.exp(this); }
  log(): Tensor { return U.log(this); }
  sqrt(): Tensor { return U.sqrt(this); }
  abs(): Tensor { return U.abs(this); }
  sin(): Tensor { return U.sin(this); }
  cos(): Tensor { return U.cos(this); }
  relu(): Tensor { return U.relu(this); }
  sigmoid(): Tensor { return U.sigmoid(this); }
  tanh(): Tensor { return U.tanh(this); }
  erf(): Tensor { return U.erf(this); }
  sign(): Tensor { return U.sign(this); }
  add(o: Operand): Tensor { return B.add(this, o); }
  sub(o: Operand): Tensor { return B.sub(this, o); }
  mul(o: Operand): Tensor { return B.mul(this, o); }
  div(o: Operand): Tensor { return B.div(this, o); }
  pow(o: Operand): Tensor { return B.pow(this, o); }
  maximum(o: Operand): Tensor { return B.maximum(this, o); }
  minimum(o: Operand): Tensor { return B.minimum(this, o); }
  square(): Tensor { return B.mul(this, this); }
  reciprocal(): Tensor { return B.div(1, this); }
  rsqrt(): Tensor { return B.div(1, U.sqrt(this)); }
  clamp(min?: number | null, max?: number | null): Tensor { return W.clamp(this, min, max); }
  eq(o: Operand): Tensor { return W.eq(this, o); }
  ne(o: Operand): Tensor { return W.ne(this, o); }
  lt(o: Operand): Tensor { return W.lt(this, o); }
  le(o: Operand): Tensor { return W.le(this, o); }
  gt(o: Operand): Tensor { return W.gt(this, o); }
  ge(o: Operand): Tensor { return W.ge(this, o); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return A.gelu(this, approximate); }
  quickGelu(): Tensor { return A.quickGelu(this); }
  softmax(dim: number): Tensor { return A.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return A.logSoftmax(this, dim); }

  // -- reductions -----------------------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  mean(dim?: number | number[], keepdim = false): Tensor { return ST.mean(this, dim, keepdim); }
  /**
   * Max over `dim` (all dims when omitted or `[]`). Gradient as torch: over one dim it flows to the
   * index argmax returns (the first maximum); over all dims or a list of dims it is split evenly between ties.
   */
  max(dim?: number | number[], keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  min(dim?: number | number[], keepdim = false): Tensor { return R.max(U.neg(this), dim, keepdim).neg(); }
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  /** Variance with Bessel's correction by default (`correction = 1`), as torch.var. */
  var(dim?: number | number[], keepdim = false, correction = 1): Tensor { return ST.variance(this, dim, keepdim, correction); }
  norm(dim?: number | number[], keepdim = false): Tensor { return ST.norm(this, dim, keepdim); }

  // -- movement -------------------------------------------------------------------------------
  reshape(shape: readonly number[]): Tensor { return M.reshape(this, shape); }
  view(shape: readonly number[]): Tensor { return M.reshape(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return M.flatten(this, startDim, endDim); }
  permute(dims: readonly number[]): Tensor { return M.permute(this, dims); }
  transpose(dim0: number, dim1: number): Tensor { return M.transpose(this, dim0, dim1); }
  /** Matrix transpose of a 2-D tensor (PyTorch `.T` / `.t()`). */
  t(): Tensor {
    if (this.ndim !== 2) throw new Error(`t() expects a 2-D tensor, got shape ${fmtShape(this.shape)}`);
    return M.transpose(this, 0, 1);
  }
  expand(shape: readonly number[]): Tensor { return M.expand(this, shape); }
  unsqueeze(dim: number): Tensor { return M.unsqueeze(this, dim); }
  squeeze(dim?: number): Tensor { return M.squeeze(this, dim); }
  flip(dims: number | readonly number[]): Tensor { return M.flip(this, dims); }
  slice(dim: number, start: number, end?: number, step = 1): Tensor { return S.slice(this, dim, start, end, step); }
  /** Elements [start, start+length) along `dim`, like torch.narrow. */
  narrow(dim: number, start: number, length: number): Tensor { return S.slice(this, dim, start, start + length); }
  pad(pads: readonly (readonly [number, number])[], value = 0): Tensor { return S.pad(this, pads, value); }
  chunk(chunks: number, dim = 0): Tensor[] { return S.chunk(this, chunks, dim); }

  // -- linear algebra and indexing ---------------------------------------------------------------
  matmul(o: Tensor): Tensor { return MM.matmul(this, o); }
  gather(dim: number, index: Tensor): Tensor { return G.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return G.indexSelect(this, dim, index); }
}

/** Options of `backward`, checked: a plain object with known keys only (a typo must not pass). */
function checkBackwardOptions(opts: unknown): BackwardOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`backward: options must be an object like { retainGraph: true }, got ${String(opts)}`);
  }
  for (const [key, value] of Object.entries(opts)) {
    if (key !== 'retainGraph') throw new Error(`backward: unknown option "${key}" (known: retainGraph)`);
    if (value !== undefined && typeof value !== 'boolean') throw new Error(`backward: retainGraph must be a boolean, got ${String(value)}`);
  }
  return opts as BackwardOptions;
}

/**
 * Build the result of an op: wrap the storage and, when grad mode is on and an input needs a
 * gradient, record how to push gradients back to the inputs.
 */
export function fromOp(
  storage: Storage,
  shape: readonly number[],
  op: string,
  inputs: readonly Tensor[],
  backwardFn: (grad: Tensor) => readonly (Tensor | null)[],
): Tensor {
  const out = new Tensor(storage, shape);
  if (isGradEnabled() && inputs.some((x) => x.requiresGrad)) {
    out.requiresGrad = true;
    out.gradNode = { op, inputs, backward: backwardFn };
  }
  return out;
}

/** A tensor made from a number, matching `like`'s dtype and backend (a "weak" scalar, as in PyTorch). */
export function scalarLike(value: number, like: Tensor): Tensor {
  return new Tensor(like.storage.backend.full(1, value, like.dtype), []);
}

/** A tensor of `shape` filled with `value`, on `like`'s backend and dtype. */
export function fullLike(shape: readonly number[], value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  return new Tensor(like.storage.backend.full(sizeOf(shape), value, dtype), shape);
}

/** The default backend, for creation functions. */
export function defaultBackend() {
  return getBackend();
}

/**
 * A typed array's values as a plain array, ~10x faster than `Array.from` at 1M elements
 * (bench/engine/toarray.bench.ts): filling with a double first makes V8 allocate a packed array
 * of unboxed doubles once, where `Array.from` grows a generic array through the iterator protocol.
 */
function toNumbers(values: TypedArray): number[] {
  const out = new Array<number>(values.length).fill(0.5);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}
