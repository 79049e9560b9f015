/**
 * The machinery under every GPU op: a kernel cache, an in-order work queue, and the moves between
 * host and device.
 *
 * Kernel cache. gpu.js compiles a kernel for fixed sizes: loop bounds must be constants (a bound it
 * cannot prove constant is silently capped at `loopMaxIterations`) and shaders are fastest with sizes
 * baked in. So each op builds a key from its name, its constants (sizes, strides, op code), the output
 * size and its argument kinds, and `KernelRunner.kernel` compiles once per key and keeps the result
 * in a Map on the runner (one per backend), never on a tensor.
 *
 * Work queue. With `pipeline: true` a GL or WebAssembly kernel call returns its texture / array at
 * once, but a WebGPU call returns a Promise (its build and readback are asynchronous). The Backend
 * interface is synchronous, so every piece of work goes through `schedule`: it runs immediately while
 * nothing asynchronous is pending, and otherwise waits behind the pending work. Work therefore
 * executes in exactly the order it was issued in every mode, and a kernel reads its inputs'
 * contents as of the moment it was issued. In the GL, cpu and webasm modes the queue never waits
 * and everything is synchronous; on WebGPU `read` throws and `readAsync` must be awaited.
 * A failure after the call has returned is stored on the output storage, passed on to anything
 * computed from it, and thrown by `readAsync`.
 *
 * Not here: which op runs where (index.ts) or the kernels themselves (one file per op).
 */
import { allocArray, type Backend, type DType, type TypedArray } from '../backend.ts';
import {
  deletePayload, downloadPayload, kernelMode,
  type CompiledKernel, type DevicePayload, type GpuInstance, type KernelSource, type KernelThis,
} from './device.ts';
import { GpuStorage, markDisposed } from './storage.ts';

/** A kernel argument: a storage (device or host side), a host array, or a scalar uniform. */
export type KernelArg = GpuStorage | Float32Array | number;

export interface LaunchSpec {
  /** Kernel family, e.g. 'binary'. With constants, output size and argument kinds: the cache key. */
  name: string;
  source: KernelSource;
  /** Sizes, strides and op codes, baked into the compiled kernel. */
  constants: Record<string, number>;
  /** Output elements; the kernel runs one thread per element over a 1-D output. */
  size: number;
  args: KernelArg[];
  /** The largest constant loop bound in the kernel; `loopMaxIterations` is raised to cover it. */
  loopMax?: number;
  /** Runs just before the kernel, when host inputs are final (index range checks). */
  check?: () => void;
}

type Maybe<T> = T | Promise<T>;

/** `f(v)` now when `v` is a value, after it when it is a Promise. */
export function then<T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

export function all<T>(vs: Maybe<T>[]): Maybe<T[]> {
  return vs.some((v) => v instanceof Promise) ? Promise.all(vs) : (vs as T[]);
}

export interface RunnerOptions {
  /** Kernels return Promises (webasm threads, or WebGPU, which is always asynchronous). */
  asyncKernels: boolean;
}

export class KernelRunner {
  /** Compiled kernels by key. */
  readonly kernels = new Map<string, CompiledKernel>();
  /** Counters for tests and benchmarks. */
  readonly stats = { compiles: 0, launches: 0, uploads: 0, downloads: 0, liveDevice: 0 };
  /** Kernels that gpu.js moved off the requested mode, with its reason. */
  readonly fallbacks: string[] = [];
  /** The pending asynchronous work, or null when the queue is idle (always null in sync modes). */
  private tail: Promise<void> | null = null;
  /** Host-side storages with a write still queued (count): a synchronous read would see old numbers. */
  private readonly hostWrites = new Map<GpuStorage, number>();

  constructor(
    readonly gpu: GpuInstance,
    /** The gpu.js mode every kernel is expected to run in. */
    readonly mode: string,
    readonly backend: Backend,
    readonly options: RunnerOptions,
  ) {}

  // -- kernel cache -------------------------------------------------------------------------------

  kernel(spec: LaunchSpec): CompiledKernel {
    const kinds = spec.args.map(argKind).join(',');
    const key = `${spec.name}|${spec.size}|${JSON.stringify(spec.constants)}|${kinds}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.gpu.createKernel(spec.source, {
        output: [spec.size],
        constants: spec.constants,
        pipeline: true, // results stay on the device as textures / buffers
        immutable: true, // every call gets a new output (a mutable kernel reuses its texture)
        precision: 'single', // float32 texels, not 8-bit packed
        tactic: 'precision', // highp in GLSL
        loopMaxIterations: Math.max(1000, (spec.loopMax ?? 0) + 1),
        asyncMode: this.options.asyncKernels,
      });
      this.kernels.set(key, k);
      this.stats.compiles++; // gpu.js compiles on the first call; counted here once per key
    }
    return k;
  }

  /** Destroy every compiled kernel (they hold their last output texture and GL programs). */
  clearKernels(): void {
    for (const k of this.kernels.values()) k.destroy();
    this.kernels.clear();
  }

  // -- the queue ------------------------------------------------------------------------------------

  /** True while asynchronous work is pending (WebGPU): synchronous reads are impossible then. */
  get busy(): boolean {
    return this.tail !== null;
  }

  /**
   * Run `task` in issue order. Sync modes run it now and let errors propagate to the caller; once
   * something is pending it runs later and an error goes to `onLateError`.
   */
  schedule(task: () => Maybe<void>, onLateError: (e: unknown) => void): void {
    if (this.tail === null) {
      const r = task();
      if (r instanceof Promise) this.setTail(r.catch(onLateError));
      return;
    }
    this.setTail(this.tail.then(task).catch(onLateError));
  }

  private setTail(p: Promise<void>): void {
    this.tail = p;
    void p.then(() => {
      if (this.tail === p) this.tail = null;
    });
  }

  /** Resolves when everything issued so far has run. */
  async flush(): Promise<void> {
    while (this.tail !== null) await this.tail;
  }

  /** A new float32 storage on the device, for an op's intermediate results. */
  alloc(size: number): GpuStorage {
    return new GpuStorage(this.backend, 'float32', size, true);
  }

  // -- launching ------------------------------------------------------------------------------------

  /** Run a kernel into the (new, device-side) storage `out`. */
  launch(spec: LaunchSpec, out: GpuStorage): void {
    this.launchThen(spec, out, (p) => { this.setDevice(out, p); });
  }

  /** Run a kernel and swap its result in as the new contents of `dst` (copy-into). */
  launchInto(spec: LaunchSpec, dst: GpuStorage): void {
    this.launchThen(spec, dst, (p) => { this.setDevice(dst, p); });
  }

  private launchThen(spec: LaunchSpec, out: GpuStorage, done: (p: DevicePayload) => void): void {
    const kernel = this.kernel(spec);
    this.schedule(() => {
      spec.check?.();
      const args = spec.args.map(argValue);
      this.stats.launches++;
      return then(kernel(...args), (p) => {
        this.checkMode(kernel, spec.name);
        done(p);
      });
    }, (e) => { out.error = e; });
  }

  /** Warn once per kernel family when gpu.js silently ran a kernel in another mode. */
  private checkMode(kernel: CompiledKernel, name: string): void {
    const ran = kernelMode(kernel.kernel.constructor);
    if (ran === this.mode) return;
    const msg = `${name}: requested ${this.mode}, ran ${ran}${kernel.kernel.fallbackReason ? ` (${kernel.kernel.fallbackReason})` : ''}`;
    if (!this.fallbacks.includes(msg)) {
      this.fallbacks.push(msg);
      console.warn(`[spt-seg] gpu.js fallback: ${msg}`);
    }
  }

  // -- host side ----------------------------------------------------------------------------------

  /**
   * Compute `out` on the host from the host copies of `inputs` (device inputs are downloaded). A
   * device-side `out` is uploaded afterwards. For float64 / int32 results, empty tensors and
   * conversions, with the CPU reference kernels as `compute`.
   */
  hostOp(out: GpuStorage, inputs: GpuStorage[], compute: (arrays: TypedArray[]) => TypedArray): void {
    this.hostOpThen(out, inputs, compute, (p) => { this.setDevice(out, p); });
  }

  /** `hostOp` whose result replaces the contents of the existing storage `dst` (copy-into). */
  hostOpInto(dst: GpuStorage, inputs: GpuStorage[], compute: (arrays: TypedArray[]) => TypedArray): void {
    this.hostOpThen(dst, inputs, compute, (p) => { this.setDevice(dst, p); });
  }

  private hostOpThen(
    out: GpuStorage, inputs: GpuStorage[], compute: (arrays: TypedArray[]) => TypedArray,
    done: (p: DevicePayload) => void,
  ): void {
    let queued = !out.onDevice; // until `out.host` holds the result
    if (queued) this.hostWrites.set(out, (this.hostWrites.get(out) ?? 0) + 1);
    const settle = (): void => {
      if (!queued) return;
      queued = false;
      const n = this.hostWrites.get(out)! - 1;
      if (n > 0) this.hostWrites.set(out, n);
      else this.hostWrites.delete(out);
    };
    try {
      this.schedule(() => then(all(inputs.map((s) => this.download(s))), (arrays) => {
        const result = compute(arrays);
        if (!out.onDevice) {
          out.host = result;
          settle();
          return;
        }
        const f32 = toFloat32(result);
        this.stats.uploads++;
        return then(this.kernel(uploadSpec(out.size, [f32]))(f32), done);
      }), (e) => { out.error = e; settle(); });
    } catch (e) {
      settle(); // thrown by a synchronous run (idle queue): nothing is left to wait for
      throw e;
    }
  }

  /** The contents of `s` as a new host array of its dtype, at the current point of the queue. */
  download(s: GpuStorage): Maybe<TypedArray> {
    if (s.error !== null) throw s.error;
    if (s.host !== null) return s.host.slice();
    if (s.device === null) throw new Error(`gpu storage #${s.id} has no contents (disposed or never computed)`);
    this.stats.downloads++;
    return then(downloadPayload(s.device, s.size), (f32) => convert(f32, s.dtype));
  }

  /**
   * Synchronous read; while WebGPU work is pending, only of a host-side storage whose numbers are
   * final (int32 targets, tiny constants: what loss functions check on the host).
   */
  read(s: GpuStorage): TypedArray {
    if (this.busy && (s.host === null || this.hostWrites.has(s))) throw asyncReadError(this.mode);
    const r = this.download(s);
    if (r instanceof Promise) {
      void r.catch(() => undefined);
      throw asyncReadError(this.mode);
    }
    return r;
  }

  readAsync(s: GpuStorage): Promise<TypedArray> {
    return new Promise<TypedArray>((resolve, reject) => {
      try {
        this.schedule(() => then(this.download(s), resolve), reject);
      } catch (e) {
        reject(e);
      }
    });
  }

  /** Free the storage's memory once the work issued before this call has run. */
  dispose(s: GpuStorage): void {
    if (!markDisposed(s)) return;
    this.schedule(() => {
      this.setDevice(s, null);
      s.host = null;
    }, () => undefined);
  }

  /**
   * Point `s` at a new device payload (or none), deleting the one it replaces. Deleting right away
   * is safe: GL and WebGPU keep a deleted texture / buffer alive for work already queued on it.
   */
  private setDevice(s: GpuStorage, p: DevicePayload | null): void {
    const old = s.device;
    s.device = p;
    if (p !== null) this.stats.liveDevice++;
    if (old !== null) {
      deletePayload(old);
      this.stats.liveDevice--;
    }
  }
}

// -- helpers --------------------------------------------------------------------------------------

/** The identity kernel: host array (or another texture) in, device buffer out. */
export function uploadKernel(this: KernelThis<object>, x: Float32Array): number {
  return x[this.thread.x];
}

export function uploadSpec(size: number, args: KernelArg[]): LaunchSpec {
  return { name: 'upload', source: uploadKernel, constants: {}, size, args };
}

/** What a kernel is handed for an argument, resolved when the kernel runs. */
function argValue(a: KernelArg): DevicePayload | Float32Array | number {
  if (!(a instanceof GpuStorage)) return a;
  if (a.error !== null) throw a.error;
  if (a.device !== null) return a.device;
  if (a.host !== null) return toFloat32(a.host); // int32 indices and float64 values are exact below 2^24
  throw new Error(`gpu storage #${a.id} has no contents`);
}

/** The argument's part of the cache key: device buffer, host array or scalar, with its length. */
function argKind(a: KernelArg): string {
  if (typeof a === 'number') return 's';
  if (a instanceof GpuStorage) return `${a.onDevice ? 'd' : 'h'}${a.size}`;
  return `h${a.length}`;
}

function toFloat32(a: TypedArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

function convert(f32: Float32Array, dtype: DType): TypedArray {
  if (dtype === 'float32') return f32;
  const out = allocArray(dtype, f32.length);
  out.set(f32);
  return out;
}

function asyncReadError(mode: string): Error {
  return new Error(`gpu backend (${mode}): this read needs an asynchronous readback; use await backend.readAsync(storage)`);
}
