/**
 * The fast CPU backend: the reference CPU backend with its hot float32 kernels replaced by
 * WebAssembly SIMD code, and matmul spread over all cores by a worker pool.
 *
 * What it overrides, float32 only (everything else, and every float64 / int32 call, is the
 * reference kernel, unchanged):
 *   matmul   packed, register-tiled SIMD GEMM on every core   (matmul.ts, pack.ts, gemm.ts, pool.ts)
 *   binary   add sub mul div maximum minimum eq ne lt le gt ge, same shape, a bias / per-row /
 *            scalar broadcast, or one repeated over leading and trailing axes  (binary.ts)
 *   unary    exp, sigmoid; neg abs sqrt relu (exact)           (unary.ts)
 *   reduce   sum over the last axis                           (reduce.ts)
 *   correlate1d  the 1-D filter of SSIM's blur                 (correlate.ts, correlate-simd.ts)
 *   copy     strided copies between arrays in the arena        (copy.ts, copy-simd.ts)
 * Storages are the reference's `CpuStorage` (plain typed arrays), so the two backends mix freely
 * and every inherited kernel reads them as usual. Float32 arrays of 256 floats or more made inside a
 * `tidy` scope are views into the arena (arena.ts): the elementwise and copy kernels read and write
 * them in place (others are copied into wasm memory first). The matmul copies
 * its operands into the shared memory its workers see, and its result out (O(n²) against O(n³)).
 * Inside a `tidy` scope the arrays are recycled ones (kernels/cpu/pool.ts).
 *
 * Use: `const wasm = createWasmBackend(); if (wasm) setBackend(wasm);` (null where the engine
 * lacks WebAssembly SIMD or SharedArrayBuffer; `wasmUnavailableReason()` says which).
 * On Node the matmul uses `os.availableParallelism()` threads (the calling thread plus workers
 * started at the first large matmul); in a browser it runs on the calling thread.
 */
import { denseStrides, sizeOf, type BinaryOp, type MatmulArgs, type ReduceOp, type Storage, type StridedView, type UnaryOp } from '../backend.ts';
import { CpuBackend, dataOf } from '../cpu/index.ts';
import { copy as cpuCopy } from '../cpu/copy.ts';
import { binaryF32 } from './binary.ts';
import { copyF32 } from './copy.ts';
import { correlateF32 } from './correlate.ts';
import { PARALLEL_MIN_MACS, matmulF32, type Parallel } from './matmul.ts';
import { createKernels, newF32, wasmUnavailableReason, type WasmKernels } from './module.ts';
import { createPool, defaultThreads } from './pool.ts';
import { reduceF32 } from './reduce.ts';
import { unaryF32 } from './unary.ts';

/**
 * Below this many elements the copies in and out of wasm memory cost about what the SIMD loop
 * saves, so elementwise ops and sums stay with the reference (measured: `bench/kernels/elementwise.bench.ts`).
 */
const ELEMENTWISE_MIN = 256;

export interface WasmBackendOptions {
  /** Threads for matmul, the calling one included (default: the cores this process may use). */
  threads?: number;
  /** Smallest product (batch·m·n·k multiply-adds) that uses the other threads (default 144³). */
  parallelMinMacs?: number;
}

export class WasmBackend extends CpuBackend {
  override readonly name: string = 'wasm';
  /** Threads a large matmul runs on (drops to 1 if worker threads turn out to be unavailable). */
  threads: number;
  readonly parallelMinMacs: number;
  private pool: Parallel | null = null;

  constructor(readonly kernels: WasmKernels, options: WasmBackendOptions = {}) {
    super();
    this.threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
    this.parallelMinMacs = options.parallelMinMacs ?? PARALLEL_MIN_MACS;
  }

  /** The worker pool, started at the first matmul large enough to use it. */
  private parallel(macs: number): Parallel | null {
    if (this.pool === null && this.threads > 1 && macs >= this.parallelMinMacs) {
      this.pool = createPool(this.kernels, this.threads);
      if (this.pool === null) this.threads = 1; // no workers here (or they failed to start: warned)
    }
    return this.pool;
  }

  override matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return super.matmul(a, b, args);
    // A stack of matrices times one shared matrix ([batch, m, k] · [k, n], A not transposed) is one
    // taller product [batch·m, k] · [k, n] over the same memory: B is packed once and the GEMM runs
    // on long panels instead of `batch` small ones. Every element is the same sum in the same order
    // (the register tile does not depend on the row), so the result is identical bit for bit.
    if (args.batch > 1 && args.bBatchStride === 0 && !args.transA && args.aBatchStride === args.m * args.k) {
      args = { ...args, batch: 1, m: args.batch * args.m, aBatchStride: 0 };
    }
    const macs = args.batch * args.m * args.n * args.k;
    const out = matmulF32(this.kernels, this.parallel(macs), this.parallelMinMacs,
      dataOf(a) as Float32Array, dataOf(b) as Float32Array, args);
    return this.wrap(out, 'float32');
  }

  override binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[],
    outShape: readonly number[]): Storage {
    if (a.dtype === 'float32' && b.dtype === 'float32' && a.size + b.size >= ELEMENTWISE_MIN) {
      const out = binaryF32(this.kernels, op, dataOf(a) as Float32Array, aStrides, dataOf(b) as Float32Array, bStrides, outShape);
      if (out !== null) return this.wrap(out, 'float32');
    }
    return super.binary(op, a, aStrides, b, bStrides, outShape);
  }

  override unary(op: UnaryOp, x: Storage): Storage {
    if (x.dtype === 'float32' && x.size >= ELEMENTWISE_MIN) {
      const out = unaryF32(this.kernels, op, dataOf(x) as Float32Array);
      if (out !== null) return this.wrap(out, 'float32');
    }
    return super.unary(op, x);
  }

  override copy(src: StridedView, shape: readonly number[], dst?: StridedView): Storage {
    const s = dataOf(src.storage);
    if (s instanceof Float32Array && (dst === undefined || dst.storage.dtype === 'float32')) {
      // A new dense target gets an uninitialised array: the copy writes every element of it.
      const target = dst ?? { storage: this.wrap(newF32(sizeOf(shape)), 'float32'), offset: 0, strides: denseStrides(shape) };
      const d = dataOf(target.storage) as Float32Array;
      if (copyF32(this.kernels, s, src.offset, src.strides, d, target.offset, target.strides, shape)) return target.storage;
      if (dst === undefined) { // not in the arena after all: the reference loop into the array made above
        cpuCopy(s, src.offset, src.strides, d, 0, target.strides, shape);
        return target.storage;
      }
    }
    return super.copy(src, shape, dst);
  }

  override correlate1d(x: Storage, outer: number, n: number, inner: number, weights: readonly number[]): Storage {
    // Always the SIMD kernel for float32 (no size threshold): its sums are those of the band-matrix
    // matmul it replaced, at every size (correlate-simd.ts).
    if (x.dtype === 'float32') {
      const out = correlateF32(this.kernels, dataOf(x) as Float32Array, outer, n, inner, weights);
      if (out !== null) return this.wrap(out, 'float32');
    }
    return super.correlate1d(x, outer, n, inner, weights);
  }

  override reduce(op: ReduceOp, x: Storage, outer: number, inner: number): Storage {
    if (x.dtype === 'float32' && x.size >= ELEMENTWISE_MIN) {
      const out = reduceF32(this.kernels, op, dataOf(x) as Float32Array, outer, inner);
      if (out !== null) return this.wrap(out, 'float32');
    }
    return super.reduce(op, x, outer, inner);
  }
}

export { wasmUnavailableReason };

/**
 * The wasm backend, or null (and `onUnavailable(reason)`) where WebAssembly SIMD or
 * SharedArrayBuffer is missing. Each backend has its own wasm memory and thread pool.
 */
export function createWasmBackend(
  options: WasmBackendOptions & { onUnavailable?: (reason: string) => void } = {},
): WasmBackend | null {
  const reason = wasmUnavailableReason();
  if (reason !== null) {
    options.onUnavailable?.(reason);
    return null;
  }
  return new WasmBackend(createKernels(), options);
}
