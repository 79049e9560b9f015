/**
 * The catalogue of backends: which device names exist and how to build one of each. Internal to the
 * engine — users choose a device with `useDevice` / `SPT_DEVICE` / `--device`, which engine/device.ts
 * resolves (once per name: it keeps the backend this file builds).
 *
 *   cpu          the reference loops (slow, the oracle every other backend is tested against)
 *   wasm         WebAssembly SIMD kernels + a worker pool over all cores (the fastest CPU path)
 *   gpu          gpu.js, mode chosen by gpu.js (headlessgl, webgl2, webgl, then webasm)
 *   gpu:<mode>   gpu.js in one mode: cpu, webasm, webgl, webgl2, webgpu, headlessgl
 *   auto         wasm where WebAssembly SIMD and SharedArrayBuffer exist, else cpu
 *
 * Not here: which backend is active, caching, printing (engine/device.ts); Tensor (kernels know none).
 */
import type { Backend } from './backend.ts';
import { CpuBackend } from './cpu/index.ts';
import { createGpuBackend, GPU_MODES, type GpuMode } from './gpu/index.ts';
import { createWasmBackend, wasmUnavailableReason } from './wasm/index.ts';

/** Every name `createBackendNamed` accepts, plus 'auto' (resolved by the engine). */
export const DEVICE_NAMES: readonly string[] = [
  'auto', 'cpu', 'wasm', 'gpu', ...GPU_MODES.filter((m) => m !== 'gpu').map((m) => `gpu:${m}`),
];

export { wasmUnavailableReason };

/**
 * A new backend for a concrete device name (not 'auto'). Throws, naming the reason, where the
 * device cannot run here or the name is unknown. gpu.js backends print a line with the real mode.
 */
export function createBackendNamed(name: string): Backend {
  if (name === 'cpu') return new CpuBackend();
  if (name === 'wasm') {
    const wasm = createWasmBackend();
    if (wasm === null) throw new Error(`device "wasm" is not available here: ${wasmUnavailableReason() ?? 'unknown reason'}`);
    return wasm;
  }
  if (name === 'gpu' || name.startsWith('gpu:')) {
    const mode = (name === 'gpu' ? 'gpu' : name.slice(4)) as GpuMode;
    if (!GPU_MODES.includes(mode)) throw unknownDevice(name);
    return createGpuBackend(mode);
  }
  throw unknownDevice(name);
}

export function unknownDevice(name: string): Error {
  return new Error(`unknown device "${name}"; choose one of: ${DEVICE_NAMES.join(', ')}`);
}
