/**
 * The reference CPU backend: plain TypeScript loops over typed arrays, one kernel per file in this
 * folder. Slow and obviously correct; every faster backend is tested against it.
 */
import {
  denseStrides, dtypeOfArray, sizeOf,
  type Backend, type BinaryOp, type DType, type MatmulArgs, type MemoryInfo, type ReduceOp,
  type Storage, type StridedView, type TypedArray, type UnaryOp,
} from '../backend.ts';
import { binary, where } from './binary.ts';
import { copy } from './copy.ts';
import { correlate1d } from './correlate.ts';
import { irfft2, rfft2 } from './fft.ts';
import { gather, scatterAdd } from './gather.ts';
import { matmul } from './matmul.ts';
import { reduce } from './reduce.ts';
import { allocArray, disposeStorage, tidy, track } from './pool.ts';
import { CpuStorage, dataOf } from './storage.ts';
import { unary } from './unary.ts';

export { CpuStorage, dataOf };

export class CpuBackend implements Backend {
  readonly name: string = 'cpu';

  /**
   * Live-storage accounting, off until `trackMemory()`: it costs a FinalizationRegistry entry per
   * storage (~0.5 µs). A storage counts as live until the garbage collector reclaims it.
   */
  private live: { info: MemoryInfo; registry: FinalizationRegistry<number> } | null = null;

  /** Wrap an array this backend owns from now on. */
  wrap(data: TypedArray, dtype: DType): CpuStorage {
    const s = new CpuStorage(this, data, dtype);
    track(s); // inside a tidy scope, the scope owns it (pool.ts)
    if (this.live !== null) {
      this.live.info.storages++;
      this.live.info.bytes += data.byteLength;
      this.live.registry.register(s, data.byteLength);
    }
    return s;
  }

  trackMemory(): void {
    if (this.live !== null) return;
    const info: MemoryInfo = { storages: 0, bytes: 0 };
    this.live = {
      info,
      registry: new FinalizationRegistry((bytes: number) => {
        info.storages--;
        info.bytes -= bytes;
      }),
    };
  }

  /** Storages made since `trackMemory()` and not yet garbage-collected (zeros before it). */
  memory(): MemoryInfo {
    return this.live === null ? { storages: 0, bytes: 0 } : { ...this.live.info };
  }

  fromArray(data: ArrayLike<number>, dtype: DType): Storage {
    const arr = allocArray(dtype, data.length);
    // A typed array source is one bulk copy (a memcpy when the dtypes match); `set` converts each
    // element exactly as the indexed store below does. Plain arrays take the loop.
    if (ArrayBuffer.isView(data)) arr.set(data as TypedArray);
    else for (let i = 0; i < data.length; i++) arr[i] = data[i];
    return this.wrap(arr, dtype);
  }

  /** Take `data` as a storage of its own dtype, without copying it. */
  adopt(data: TypedArray): Storage {
    const s = this.wrap(data, dtypeOfArray(data));
    s.recyclable = false; // the caller's array: never handed to another tensor
    return s;
  }

  full(size: number, value: number, dtype: DType): Storage {
    const arr = allocArray(dtype, size);
    if (value !== 0) arr.fill(value);
    return this.wrap(arr, dtype);
  }

  read(s: Storage): TypedArray {
    return dataOf(s).slice();
  }

  peek(s: Storage): TypedArray {
    return dataOf(s);
  }

  /** Storages made inside a tidy scope are recycled (pool.ts); any other is the garbage collector's. */
  dispose(s: Storage): void {
    if (s instanceof CpuStorage) disposeStorage(s);
  }

  /** Scoped disposal (the Backend hook behind engine/memory.ts): pool.ts's `tidy`. */
  tidy<T>(fn: () => T, keep: (result: T) => Iterable<Storage>): T {
    return tidy(fn, keep);
  }

  cast(s: Storage, dtype: DType): Storage {
    const src = dataOf(s);
    const arr = allocArray(dtype, src.length);
    if (dtype === 'int32') for (let i = 0; i < src.length; i++) arr[i] = Math.trunc(src[i]);
    else arr.set(src);
    return this.wrap(arr, dtype);
  }

  unary(op: UnaryOp, x: Storage): Storage {
    return this.wrap(unary(op, dataOf(x)), x.dtype);
  }

  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[],
    outShape: readonly number[]): Storage {
    return this.wrap(binary(op, dataOf(a), aStrides, dataOf(b), bStrides, outShape, a.dtype), a.dtype);
  }

  where(c: Storage, cStrides: readonly number[], a: Storage, aStrides: readonly number[],
    b: Storage, bStrides: readonly number[], outShape: readonly number[]): Storage {
    return this.wrap(where(dataOf(c), cStrides, dataOf(a), aStrides, dataOf(b), bStrides, outShape, a.dtype), a.dtype);
  }

  reduce(op: ReduceOp, x: Storage, outer: number, inner: number): Storage {
    return this.wrap(reduce(op, dataOf(x), outer, inner, x.dtype), op === 'argmax' ? 'int32' : x.dtype);
  }

  copy(src: StridedView, shape: readonly number[], dst?: StridedView): Storage {
    const target = dst ?? { storage: this.full(sizeOf(shape), 0, src.storage.dtype), offset: 0, strides: denseStrides(shape) };
    copy(dataOf(src.storage), src.offset, src.strides, dataOf(target.storage), target.offset, target.strides, shape);
    return target.storage;
  }

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    return this.wrap(matmul(dataOf(a), dataOf(b), args, a.dtype), a.dtype);
  }

  correlate1d(x: Storage, outer: number, n: number, inner: number, weights: readonly number[]): Storage {
    return this.wrap(correlate1d(dataOf(x), outer, n, inner, weights, x.dtype), x.dtype);
  }

  // -- Fourier transforms (fft.js for powers of two, a direct DFT otherwise) --------------------

  rfft2(x: Storage, batch: number, H: number, W: number, scale: number): Storage {
    return this.wrap(rfft2(dataOf(x), batch, H, W, scale, x.dtype), x.dtype);
  }

  irfft2(X: Storage, batch: number, H: number, W: number, scale: number): Storage {
    return this.wrap(irfft2(dataOf(X), batch, H, W, scale, X.dtype), X.dtype);
  }

  gather(x: Storage, outer: number, n: number, inner: number, idx: Storage, m: number,
    idxStrides: readonly number[]): Storage {
    return this.wrap(gather(dataOf(x), outer, n, inner, dataOf(idx), m, idxStrides, x.dtype), x.dtype);
  }

  scatterAdd(src: Storage, outer: number, n: number, inner: number, idx: Storage, m: number,
    idxStrides: readonly number[]): Storage {
    return this.wrap(scatterAdd(dataOf(src), outer, n, inner, dataOf(idx), m, idxStrides, src.dtype), src.dtype);
  }
}
