/**
 * The gpu.js backend: the Backend interface on GL textures (webgl / webgl2), WebGPU storage buffers,
 * or gpu.js's CPU modes (cpu, webasm), one kernel per file in this folder, same entry points and
 * file names as kernels/cpu/. The CPU kernels are the reference every kernel here is tested against
 * (test/kernels/gpu.test.ts, test/browser/shaders.test.ts).
 *
 * How one op runs (e.g. `binary`):
 *   1. decide where the output lives (`alloc`, the placement rule in storage.ts);
 *   2. a device output with non-empty inputs runs a gpu.js kernel (binary.ts), compiled once per
 *      (op, shape) by runner.ts; anything else (int32 / float64 results, empty tensors) runs the CPU
 *      reference kernel on host copies of the inputs (`runner.hostOp`);
 *   3. the result stays where it is until `read` / `readAsync` downloads it or `dispose` / `tidy`
 *      frees it.
 * Not here: kernels (one file each), the queue and cache (runner.ts), autograd or Tensor.
 *
 *     const gpu = createGpuBackend('webgl2');   // prints the gpu.js mode and renderer once
 *     const y = tidy(() => gpu.unary('exp', gpu.fromArray([0, 1, 2], 'float32')));
 *     gpu.read(y);                              // Float32Array [1, 2.718.., 7.389..]
 *     gpu.dispose(y);
 */
import {
  denseStrides, sizeOf,
  type Backend, type BinaryOp, type DType, type MatmulArgs, type MemoryInfo, type ReduceOp,
  type Storage, type StridedView, type TypedArray, type UnaryOp,
} from '../backend.ts';
import { binary as cpuBinary, where as cpuWhere } from '../cpu/binary.ts';
import { copy as cpuCopy } from '../cpu/copy.ts';
import { correlate1d as cpuCorrelate1d } from '../cpu/correlate.ts';
import { gather as cpuGather, scatterAdd as cpuScatterAdd } from '../cpu/gather.ts';
import { matmul as cpuMatmul } from '../cpu/matmul.ts';
import { reduce as cpuReduce } from '../cpu/reduce.ts';
import { unary as cpuUnary } from '../cpu/unary.ts';
import { binaryGpu, whereGpu } from './binary.ts';
import { copyIntoGpu, planCopyInto, stridedCopyGpu } from './copy.ts';
import { correlate1dGpu } from './correlate.ts';
import {
  createGpu, describeRenderer, kernelMode, maxElements, resolvedMode, GPU_MODES, type GpuInstance, type GpuMode,
} from './device.ts';
import { gatherGpu, scatterAddGpu } from './gather.ts';
import { irfft2ByMatmul, rfft2ByMatmul } from './fft.ts';
import { matmulGpu } from './matmul.ts';
import { reduceGpu } from './reduce.ts';
import { KernelRunner, uploadSpec } from './runner.ts';
import { asGpuStorage, GpuStorage, liveMemory, tidy } from './storage.ts';
import { unaryGpu } from './unary.ts';

export { GpuStorage, tidy, GPU_MODES, type GpuMode };

export interface GpuBackendOptions {
  /** float32 storages created from host data with fewer elements stay on the host (default 16). */
  hostBelow?: number;
  /**
   * Run kernels under gpu.js's async contract (`asyncMode`): webasm then splits big kernels over
   * worker threads. Reads must then use `readAsync`. Always on for webgpu.
   */
  asyncKernels?: boolean;
  /** Print the mode line (default true). */
  log?: boolean;
}

export class GpuBackend implements Backend {
  readonly name: string = 'gpu';
  /** The gpu.js mode that really runs (what 'gpu' resolved to). */
  readonly mode: string;
  readonly runner: KernelRunner;
  readonly hostBelow: number;
  /** Largest tensor that fits one texture / one exactly indexed buffer in this mode. */
  readonly maxElements: number;
  /** "[spt-seg] backend gpu: gpu.js mode ... (renderer: ...)"; a Promise until the device answers. */
  readonly description: Promise<string>;

  constructor(readonly gpu: GpuInstance, options: GpuBackendOptions = {}) {
    this.mode = resolvedMode(gpu);
    this.hostBelow = options.hostBelow ?? 16;
    this.maxElements = maxElements(gpu);
    const asyncKernels = this.mode === 'webgpu' || (options.asyncKernels ?? false);
    this.runner = new KernelRunner(gpu, this.mode, this, { asyncKernels });
    this.description = this.probe(options.log ?? true);
    void this.description.catch(() => undefined); // reported through readAsync / the first failing op
  }

  /** Run one tiny kernel so gpu.js commits to its kernel class, then describe what ran. */
  private probe(log: boolean): Promise<string> {
    const probe = this.fromArray(new Float32Array(Math.max(1, this.hostBelow)), 'float32') as GpuStorage;
    const kernel = this.runner.kernel(uploadSpec(probe.size, [new Float32Array(probe.size)]));
    return this.readAsync(probe).then(async () => {
      this.dispose(probe);
      const ran = kernelMode(kernel.kernel.constructor);
      const line = `[spt-seg] backend gpu: gpu.js mode ${ran} (renderer: ${await describeRenderer(this.gpu, kernel)})`;
      if (log) console.log(line);
      return line;
    });
  }

  /** Storages made and not yet disposed (device and host ones alike), and their bytes. */
  memory(): MemoryInfo {
    return { ...liveMemory(this) };
  }

  trackMemory(): void {
    // Always counted: one addition per storage.
  }

  // -- placement ------------------------------------------------------------------------------------

  /** A new storage, on the device iff float32 and (big enough or computed from a device input). */
  private alloc(dtype: DType, size: number, inputs: GpuStorage[] = []): GpuStorage {
    const onDevice = dtype === 'float32' && size > 0 && (size >= this.hostBelow || inputs.some((s) => s.onDevice));
    if (onDevice && size > this.maxElements) {
      throw new Error(`gpu backend (${this.mode}): ${size} elements exceed the ${this.maxElements} one tensor may hold here`);
    }
    return new GpuStorage(this, dtype, size, onDevice);
  }

  private s(x: Storage): GpuStorage {
    return asGpuStorage(x, this);
  }

  /** True when a GPU kernel computes `out` from `inputs`; else the CPU reference does (hostOp). */
  private onGpu(out: GpuStorage, inputs: GpuStorage[]): boolean {
    return out.onDevice && inputs.every((s) => s.size > 0);
  }

  // -- memory ---------------------------------------------------------------------------------------

  fromArray(data: ArrayLike<number>, dtype: DType): Storage {
    const out = this.alloc(dtype, data.length);
    // A copy either way: later changes to the caller's array must not reach the storage.
    if (out.onDevice) this.runner.launch(uploadSpec(out.size, [Float32Array.from(data)]), out);
    else out.host = convertArray(data, dtype); // a new storage: no queued work can be reading it
    return out;
  }

  full(size: number, value: number, dtype: DType): Storage {
    const out = this.alloc(dtype, size);
    if (out.onDevice) {
      // The value is a scalar argument (a uniform), not a constant: one kernel per size, not per value.
      this.runner.launch({ name: 'full', source: fullKernel, constants: {}, size, args: [value] }, out);
    } else {
      out.host = convertArray(new Float64Array(size).fill(value), dtype);
    }
    return out;
  }

  /** Synchronous download; throws in WebGPU mode (use readAsync). */
  read(s: Storage): TypedArray {
    return this.runner.read(this.s(s));
  }

  /** Download in every mode, after all work issued before it. */
  readAsync(s: Storage): Promise<TypedArray> {
    return this.runner.readAsync(this.s(s));
  }

  dispose(s: Storage): void {
    if (s instanceof GpuStorage && s.disposed) return;
    this.runner.dispose(this.s(s));
  }

  /** Scoped disposal (the Backend hook behind engine/memory.ts): storage.ts's `tidy`. */
  tidy<T>(fn: () => T, keep: (result: T) => Iterable<Storage>): T {
    return tidy(fn, keep);
  }

  cast(x: Storage, dtype: DType): Storage {
    const s = this.s(x);
    const out = this.alloc(dtype, s.size, [s]);
    if (this.onGpu(out, [s])) this.runner.launch(uploadSpec(out.size, [s]), out); // float32 copy, on the device
    else this.runner.hostOp(out, [s], ([a]) => convertArray(a, dtype));
    return out;
  }

  // -- elementwise ----------------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    const s = this.s(x);
    const out = this.alloc(s.dtype, s.size, [s]);
    if (this.onGpu(out, [s])) unaryGpu(this.runner, op, s, out);
    else this.runner.hostOp(out, [s], ([a]) => cpuUnary(op, a));
    return out;
  }

  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[],
    outShape: readonly number[]): Storage {
    const sa = this.s(a);
    const sb = this.s(b);
    const out = this.alloc(sa.dtype, sizeOf(outShape), [sa, sb]);
    if (this.onGpu(out, [sa, sb])) binaryGpu(this.runner, op, sa, aStrides, sb, bStrides, outShape, out);
    else this.runner.hostOp(out, [sa, sb], ([x, y]) => cpuBinary(op, x, aStrides, y, bStrides, outShape, sa.dtype));
    return out;
  }

  where(c: Storage, cStrides: readonly number[], a: Storage, aStrides: readonly number[],
    b: Storage, bStrides: readonly number[], outShape: readonly number[]): Storage {
    const [sc, sa, sb] = [this.s(c), this.s(a), this.s(b)];
    const out = this.alloc(sa.dtype, sizeOf(outShape), [sc, sa, sb]);
    if (this.onGpu(out, [sc, sa, sb])) whereGpu(this.runner, sc, cStrides, sa, aStrides, sb, bStrides, outShape, out);
    else this.runner.hostOp(out, [sc, sa, sb], ([x, y, z]) => cpuWhere(x, cStrides, y, aStrides, z, bStrides, outShape, sa.dtype));
    return out;
  }

  // -- reductions -----------------------------------------------------------------------------------

  reduce(op: ReduceOp, x: Storage, outer: number, inner: number): Storage {
    const s = this.s(x);
    const cpu = (arrays: TypedArray[]): TypedArray => cpuReduce(op, arrays[0], outer, inner, s.dtype);
    if (op === 'argmax') {
      // Indices are int32, so the result lives on the host: reduce on the device, download [outer].
      const out = this.alloc('int32', outer);
      if (s.onDevice && outer > 0 && inner > 0) {
        const cols = this.runner.alloc(outer);
        reduceGpu(this.runner, op, s, outer, inner, cols);
        this.runner.hostOp(out, [cols], ([f]) => Int32Array.from(f));
        this.runner.dispose(cols);
      } else {
        this.runner.hostOp(out, [s], cpu);
      }
      return out;
    }
    const out = this.alloc(s.dtype, outer, [s]);
    if (this.onGpu(out, [s]) && inner > 0) reduceGpu(this.runner, op, s, outer, inner, out);
    else this.runner.hostOp(out, [s], cpu);
    return out;
  }

  // -- movement -------------------------------------------------------------------------------------

  copy(src: StridedView, shape: readonly number[], dst?: StridedView): Storage {
    const s = this.s(src.storage);
    const size = sizeOf(shape);
    if (dst === undefined) {
      const out = this.alloc(s.dtype, size, [s]);
      if (this.onGpu(out, [s])) stridedCopyGpu(this.runner, src, s, shape, out);
      else this.runner.hostOp(out, [s], ([a]) => copyToNew(a, src, shape, s.dtype));
      return out;
    }
    const d = this.s(dst.storage);
    if (size === 0) return d;
    const plan = d.onDevice && s.size > 0 ? planCopyInto(shape, src, dst) : null;
    if (plan !== null) {
      copyIntoGpu(this.runner, s, d, plan);
    } else {
      // Host path: the CPU copy into a host copy of dst, which then replaces dst's contents.
      this.runner.hostOpInto(d, [s, d], ([a, old]) => {
        cpuCopy(a, src.offset, src.strides, old, dst.offset, dst.strides, shape);
        return old;
      });
    }
    return d;
  }

  // -- linear algebra -------------------------------------------------------------------------------

  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage {
    const [sa, sb] = [this.s(a), this.s(b)];
    const out = this.alloc(sa.dtype, args.batch * args.m * args.n, [sa, sb]);
    if (this.onGpu(out, [sa, sb])) matmulGpu(this.runner, sa, sb, args, out);
    else this.runner.hostOp(out, [sa, sb], ([x, y]) => cpuMatmul(x, y, args, sa.dtype));
    return out;
  }

  // -- filters -------------------------------------------------------------------------------------

  correlate1d(x: Storage, outer: number, n: number, inner: number, weights: readonly number[]): Storage {
    const sx = this.s(x);
    const out = this.alloc(sx.dtype, outer * n * inner, [sx]);
    if (this.onGpu(out, [sx])) correlate1dGpu(this.runner, sx, n, inner, weights, out);
    else this.runner.hostOp(out, [sx], ([a]) => cpuCorrelate1d(a, outer, n, inner, weights, sx.dtype));
    return out;
  }

  // -- Fourier transforms: DFT matrices through this backend's own matmul (fft.ts) -------------------

  rfft2(x: Storage, batch: number, H: number, W: number, scale: number): Storage {
    return rfft2ByMatmul(this, x, batch, H, W, scale);
  }

  irfft2(X: Storage, batch: number, H: number, W: number, scale: number): Storage {
    return irfft2ByMatmul(this, X, batch, H, W, scale);
  }

  // -- indexing -------------------------------------------------------------------------------------

  gather(x: Storage, outer: number, n: number, inner: number, idx: Storage, m: number,
    idxStrides: readonly number[]): Storage {
    const [sx, si] = [this.s(x), this.s(idx)];
    const out = this.alloc(sx.dtype, outer * m * inner, [sx]);
    if (this.onGpu(out, [sx, si])) gatherGpu(this.runner, sx, outer, n, inner, si, m, idxStrides, out);
    else this.runner.hostOp(out, [sx, si], ([a, i]) => cpuGather(a, outer, n, inner, i, m, idxStrides, sx.dtype));
    return out;
  }

  scatterAdd(src: Storage, outer: number, n: number, inner: number, idx: Storage, m: number,
    idxStrides: readonly number[]): Storage {
    const [ss, si] = [this.s(src), this.s(idx)];
    const out = this.alloc(ss.dtype, outer * n * inner, [ss]);
    if (this.onGpu(out, [ss, si])) scatterAddGpu(this.runner, ss, outer, n, inner, si, m, idxStrides, out);
    else this.runner.hostOp(out, [ss, si], ([a, i]) => cpuScatterAdd(a, outer, n, inner, i, m, idxStrides, ss.dtype));
    return out;
  }

  // -- housekeeping ---------------------------------------------------------------------------------

  /** Resolves when all issued work has run (WebGPU); immediate in the synchronous modes. */
  flush(): Promise<void> {
    return this.runner.flush();
  }

  /** Free the compiled kernels and the gpu.js instance (and its webasm worker pool). */
  async destroy(): Promise<void> {
    await this.runner.flush();
    this.runner.clearKernels();
    await this.gpu.destroy();
  }
}

/** A kernel that fills its output with the scalar argument `v`. */
function fullKernel(v: number): number {
  return v;
}

function convertArray(a: ArrayLike<number>, dtype: DType): TypedArray {
  if (dtype === 'int32') return Int32Array.from(a, Math.trunc);
  return dtype === 'float64' ? Float64Array.from(a) : Float32Array.from(a);
}

function copyToNew(a: TypedArray, src: StridedView, shape: readonly number[], dtype: DType): TypedArray {
  const out = convertArray(new Float64Array(sizeOf(shape)), dtype);
  cpuCopy(a, src.offset, src.strides, out, 0, denseStrides(shape), shape);
  return out;
}

/**
 * Create the gpu.js backend. `mode` defaults to 'gpu' (gpu.js picks: headlessgl, webgl2, webgl,
 * then webasm); 'webgpu' must be asked for. gpu.js falls back silently, so the backend prints once
 * which mode really runs and on what renderer, and warns if a kernel later lands elsewhere.
 *
 *     setBackend(createGpuBackend('webgl2'));
 *     // [spt-seg] backend gpu: gpu.js mode webgl2 (renderer: ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...)))
 */
export function createGpuBackend(mode: GpuMode = 'gpu', options: GpuBackendOptions = {}): GpuBackend {
  if (!GPU_MODES.includes(mode)) {
    throw new Error(`unknown gpu.js mode "${mode}"; known: ${GPU_MODES.join(', ')}`);
  }
  return new GpuBackend(createGpu(mode), options);
}
