/**
 * The thin layer between spt-seg and gpu.js: which modes exist, what a "device buffer" is in each
 * of them, and how to ask what hardware really runs.
 *
 * What it does: creates the gpu.js `GPU` instance, names the handful of gpu.js objects we touch with
 * narrow types (gpu.js ships wide, partly wrong typings), reads back and deletes device buffers, and
 * describes the device (mode + renderer) so the backend can print it once.
 *
 * What it does not: any arithmetic, caching or ordering (see runner.ts), or any Node-only import:
 * this file is bundled for the browser too.
 *
 * Device buffers by gpu.js mode (all kernels run with `pipeline: true, immutable: true`):
 *   webgl, webgl2, headlessgl  a GL texture object (`Texture`, float32 per texel), deleted with `.delete()`
 *   webgpu                     a `WebGPUBufferResult` (a storage buffer); `.toArray()` returns a Promise
 *   cpu, webasm                a plain `Float32Array` (gpu.js has no device memory there)
 */
import { GPU } from 'gpu.js';

/** Modes that gpu.js 2.24 accepts and that keep every kernel of one backend on one device. */
export type GpuMode = 'gpu' | 'cpu' | 'webasm' | 'webgl' | 'webgl2' | 'webgpu' | 'headlessgl';
export const GPU_MODES: readonly GpuMode[] = ['gpu', 'cpu', 'webasm', 'webgl', 'webgl2', 'webgpu', 'headlessgl'];

/** A gpu.js GL texture or WebGPU buffer handle: what a pipeline kernel returns on a real device. */
export interface DeviceHandle {
  toArray(): unknown;
  delete(): void;
}

/** What a kernel returns (or resolves to) with `pipeline: true`. */
export type DevicePayload = DeviceHandle | Float32Array;

/** `this` inside a kernel function: the thread index and the per-shape constants. */
export interface KernelThis<C> {
  thread: { x: number; y: number; z: number };
  constants: C;
}

/**
 * A kernel function as we write it: plain `function`, `this` typed, Float32Array arguments.
 * gpu.js stringifies and re-parses it, so it must not close over anything.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelSource = (this: KernelThis<any>, ...args: never[]) => number;

/** The callable that `gpu.createKernel` returns, reduced to what we use. */
export interface CompiledKernel {
  (...args: (DevicePayload | Float32Array | number)[]): DevicePayload | Promise<DevicePayload>;
  /** The kernel instance that really runs (gpu.js swaps it on fallback). */
  kernel: { constructor: { mode?: string; name: string }; fallbackReason?: string | null; context?: unknown };
  destroy(removeCanvasReferences?: boolean): void;
}

/** The subset of the gpu.js `GPU` instance we use. */
export interface GpuInstance {
  mode: string;
  Kernel: { mode: string; name: string; features?: { maxTextureSize?: number } | null; testContext?: unknown } | null;
  context: unknown;
  createKernel(source: KernelSource, settings: object): CompiledKernel;
  destroy(): Promise<void> | void;
}

/** Create the gpu.js instance. Throws when gpu.js rejects the mode outright (e.g. webgl2 in Node). */
export function createGpu(mode: GpuMode): GpuInstance {
  return new GPU({ mode }) as unknown as GpuInstance;
}

/** gpu.js kernel classes and the mode names they stand for (all GL classes report `mode` 'gpu'). */
const KERNEL_MODES: Record<string, string> = {
  WebGL2Kernel: 'webgl2', WebGLKernel: 'webgl', HeadlessGLKernel: 'headlessgl',
  WebGPUKernel: 'webgpu', WebAssemblyKernel: 'webasm', CPUKernel: 'cpu',
};

/** The mode of a gpu.js kernel class, by class name (gpu.js builds are not minified). */
export function kernelMode(cls: { name: string; mode?: string }): string {
  return KERNEL_MODES[cls.name] ?? cls.mode ?? cls.name;
}

/** The mode gpu.js resolved `mode` to ('gpu' picks the best available kernel class). */
export function resolvedMode(gpu: GpuInstance): string {
  return gpu.Kernel ? kernelMode(gpu.Kernel) : gpu.mode;
}

export function isHostArray(p: DevicePayload): p is Float32Array {
  return p instanceof Float32Array;
}

/** Copy a device payload to a new Float32Array of `size` elements (a Promise on WebGPU). */
export function downloadPayload(p: DevicePayload, size: number): Float32Array | Promise<Float32Array> {
  if (isHostArray(p)) return p.slice(0, size);
  const out = p.toArray();
  if (out instanceof Promise) return out.then((a) => toFloat32(a, size));
  return toFloat32(out, size);
}

function toFloat32(a: unknown, size: number): Float32Array {
  // 1-D pipeline outputs read back as a Float32Array of exactly `output[0]` values.
  if (a instanceof Float32Array) return a.length === size ? a : a.slice(0, size);
  return Float32Array.from(a as ArrayLike<number>).slice(0, size);
}

/** Release device memory. Plain arrays are left to the garbage collector. */
export function deletePayload(p: DevicePayload): void {
  if (!isHostArray(p)) p.delete();
}

/**
 * Largest 1-D output gpu.js can render in this mode. gpu.js lays a 1-D output of n values out as a
 * near-square texture (`utils.closestSquareDimensions`), so the limit is maxTextureSize², not
 * maxTextureSize; float32 thread indices stay exact only below 2^24 (see strided.ts), which is the
 * tighter bound on every device we know of.
 */
export function maxElements(gpu: GpuInstance): number {
  const exactIndex = 2 ** 24;
  let side = Infinity;
  try {
    side = gpu.Kernel?.features?.maxTextureSize ?? Infinity;
  } catch {
    // Feature probing needs a context; modes without one have no texture limit.
  }
  return Math.min(exactIndex, side * side);
}

/** Which hardware runs the kernels: the GL renderer string, or the WebGPU adapter info. */
export async function describeRenderer(gpu: GpuInstance, kernel?: CompiledKernel): Promise<string> {
  const mode = kernel ? kernelMode(kernel.kernel.constructor) : resolvedMode(gpu);
  if (mode === 'webgl' || mode === 'webgl2' || mode === 'headlessgl') {
    const gl = (kernel?.kernel.context ?? gpu.context ?? gpu.Kernel?.testContext) as WebGLRenderingContext | null;
    return gl ? glRenderer(gl) : 'unknown GL renderer';
  }
  if (mode === 'webgpu') return webgpuAdapterInfo();
  if (mode === 'webasm') return 'WebAssembly on the CPU';
  return 'JavaScript on the CPU';
}

/** The unmasked renderer (WEBGL_debug_renderer_info), e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...))". */
export function glRenderer(gl: WebGLRenderingContext | WebGL2RenderingContext): string {
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

interface AdapterInfoLike { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }

/** "vendor architecture description" of the adapter WebGPU hands out (the one gpu.js also gets). */
export async function webgpuAdapterInfo(): Promise<string> {
  const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: AdapterInfoLike } | null> } } }).navigator;
  if (!nav?.gpu) return 'no navigator.gpu';
  const adapter = await nav.gpu.requestAdapter();
  if (!adapter) return 'no WebGPU adapter';
  const i = adapter.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => s);
  return `WebGPU ${parts.join(' ') || 'adapter'}${i.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
}
