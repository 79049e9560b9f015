/**
 * Choosing the device: `useDevice(name)` with name from the argument, else the SPT_DEVICE
 * environment variable, else 'auto'.
 *
 *   cpu          the reference loops (slow, the oracle every other backend is tested against)
 *   wasm         WebAssembly SIMD kernels + a worker pool over all cores (the fastest CPU path)
 *   gpu          gpu.js, mode chosen by gpu.js (headlessgl, webgl2, webgl, then webasm)
 *   gpu:<mode>   gpu.js in one mode: cpu, webasm, webgl, webgl2, webgpu, headlessgl
 *   auto         wasm where WebAssembly SIMD and SharedArrayBuffer exist, else cpu
 *
 * It prints once which backend really runs (gpu.js also says which mode and renderer, since it
 * falls back silently). Ops never ask: they run on the backend that holds their inputs.
 */
import { setBackend, type Backend } from './backend.ts';
import { CpuBackend } from './cpu/index.ts';
import { createGpuBackend, GPU_MODES, type GpuMode } from './gpu/index.ts';
import { createWasmBackend, wasmUnavailableReason } from './wasm/index.ts';

export const DEVICE_NAMES = ['auto', 'cpu', 'wasm', 'gpu', ...GPU_MODES.filter((m) => m !== 'gpu').map((m) => `gpu:${m}`)] as const;

let announced = '';

function announce(line: string, quiet: boolean): void {
  if (quiet || line === announced) return;
  announced = line;
  console.error(`[spt-seg] backend ${line}`);
}

/** Make `name` the backend new tensors are created on, and return it. */
export function useDevice(name?: string, opts: { quiet?: boolean } = {}): Backend {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const wanted = (name ?? env?.SPT_DEVICE ?? 'auto').trim().toLowerCase();
  const quiet = opts.quiet ?? false;
  if (wanted === 'cpu') {
    announce('cpu: reference kernels', quiet);
    return setBackend(new CpuBackend());
  }
  if (wanted === 'wasm' || wanted === 'auto') {
    const wasm = createWasmBackend();
    if (wasm) {
      announce(`wasm: WebAssembly SIMD, ${wasm.threads} thread${wasm.threads > 1 ? 's' : ''}`, quiet);
      return setBackend(wasm);
    }
    const reason = wasmUnavailableReason() ?? 'unknown reason';
    if (wanted === 'wasm') throw new Error(`device "wasm" is not available here: ${reason}`);
    announce(`cpu: reference kernels (wasm unavailable: ${reason})`, quiet);
    return setBackend(new CpuBackend());
  }
  if (wanted === 'gpu' || wanted.startsWith('gpu:')) {
    const mode = (wanted === 'gpu' ? 'gpu' : wanted.slice(4)) as GpuMode;
    return setBackend(createGpuBackend(mode)); // prints its own line with the real mode
  }
  throw new Error(`unknown device "${wanted}"; choose one of: ${DEVICE_NAMES.join(', ')}`);
}
