/**
 * Which device runs: the one module that selects a backend. It knows the device names, makes each
 * backend once per name, resolves 'auto' and SPT_DEVICE, and holds the active backend.
 *
 *   useDevice('wasm')            // make wasm the backend new tensors are created on
 *   useDevice()                  // the SPT_DEVICE environment variable, else 'auto'
 *   device('gpu:cpu')            // that backend, without making it the active one
 *   getBackend()                 // the active backend ('auto' until something else is chosen)
 *   zeros([2, 3], { device: 'cpu' }), ones([4], { like: x })    // creation on a chosen backend
 *
 * Names:
 *   cpu          the reference loops (slow, the oracle every other backend is tested against)
 *   wasm         WebAssembly SIMD kernels + a worker pool over all cores (the fastest CPU path)
 *   gpu          gpu.js, mode chosen by gpu.js (headlessgl, webgl2, webgl, then webasm)
 *   gpu:<mode>   gpu.js in one mode: cpu, webasm, webgl, webgl2, webgpu, headlessgl
 *   auto         wasm where WebAssembly SIMD and SharedArrayBuffer exist, else cpu
 *
 * Why once: ops compare operands' backends by identity. A second `useDevice('cpu')` must give the
 * backend the first gave, or a model loaded before it and a batch made after it could not meet
 * ("operands live on different backends"). `setBackend('cpu')` and the default backend come from the
 * same cache. `useDevice` prints once which backend really runs (gpu.js also says which mode and
 * renderer, since it falls back silently). Ops never ask: they run on the backend that holds their inputs.
 *
 * This is the one file of engine/ that imports concrete backends (kernels/cpu, wasm, gpu); every other
 * engine file sees only the `Backend` interface of kernels/backend.ts.
 * Not here: the kernels (kernels/), the interface they implement (kernels/backend.ts).
 */
import type { Backend } from '../kernels/backend.ts';
import { CpuBackend } from '../kernels/cpu/index.ts';
import { createGpuBackend, GPU_MODES, type GpuMode } from '../kernels/gpu/index.ts';
import { createWasmBackend, wasmUnavailableReason } from '../kernels/wasm/index.ts';

/** The names of concrete backends: what `backendNames()` lists and `createBackend` builds. */
const BACKEND_NAMES: readonly string[] = ['cpu', 'wasm', 'gpu', ...GPU_MODES.filter((m) => m !== 'gpu').map((m) => `gpu:${m}`)];

/** Every name `useDevice`, `device` and `setBackend` accept: 'auto' and the concrete ones. */
export const DEVICE_NAMES: readonly string[] = ['auto', ...BACKEND_NAMES];

/** The concrete device names (DEVICE_NAMES without 'auto'). */
export function backendNames(): string[] {
  return [...BACKEND_NAMES];
}

/** Each backend made so far, by canonical device name. */
const made = new Map<string, Backend>();
/** Where new tensors are created; 'auto' on first use when nothing was chosen. */
let active: Backend | null = null;
let announced = '';

function unknownDevice(name: string): Error {
  return new Error(`unknown device "${name}"; choose one of: ${DEVICE_NAMES.join(', ')}`);
}

/**
 * A new backend for a concrete device name. Throws, naming the reason, where the device cannot run
 * here. gpu.js backends print a line with the real mode.
 */
function createBackend(name: string): Backend {
  if (name === 'cpu') return new CpuBackend();
  if (name === 'wasm') {
    const wasm = createWasmBackend();
    if (wasm === null) throw new Error(`device "wasm" is not available here: ${wasmUnavailableReason() ?? 'unknown reason'}`);
    return wasm;
  }
  return createGpuBackend((name === 'gpu' ? 'gpu' : name.slice(4)) as GpuMode);
}

/** The user's choice as given: `name`, else SPT_DEVICE, else 'auto'; trimmed, lower case. */
function requestedName(name?: string): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return (name ?? env?.SPT_DEVICE ?? 'auto').trim().toLowerCase();
}

/**
 * The canonical name for a user's choice: trimmed, lower case, 'auto' resolved, SPT_DEVICE read.
 *
 * @example
 * resolveDeviceName(' GPU ');   // 'gpu'
 * resolveDeviceName('auto');   // 'wasm' where WebAssembly SIMD runs, else 'cpu'
 */
export function resolveDeviceName(name?: string): string {
  const wanted = requestedName(name);
  if (wanted === 'auto') return wasmUnavailableReason() === null ? 'wasm' : 'cpu';
  if (!BACKEND_NAMES.includes(wanted)) throw unknownDevice(wanted);
  return wanted;
}

/** Every backend `device()` has made in this process (the scopes of `tidy` cover them all). */
export function madeBackends(): Backend[] {
  return [...made.values()];
}

/**
 * The backend for a device name (made on first use, the same object ever after), or the backend
 * itself when given one. Does not change the active backend.
 *
 * @example
 * const cpu = device('cpu');   // the same object on every call
 * tensor([1, 2], { device: cpu });
 */
export function device(nameOrBackend: string | Backend): Backend {
  if (typeof nameOrBackend !== 'string') return nameOrBackend;
  const name = resolveDeviceName(nameOrBackend);
  let backend = made.get(name);
  if (backend === undefined) {
    backend = createBackend(name);
    made.set(name, backend);
  }
  return backend;
}

/**
 * Where new tensors are created. Ops run on the backend that owns their inputs. Until `useDevice` or
 * `setBackend` chooses one, this is `device('auto')` (SPT_DEVICE is read only by `useDevice`).
 */
export function getBackend(): Backend {
  active ??= device('auto');
  return active;
}

/**
 * Make a backend, or the backend of a device name (`device(name)`), the one new tensors are created
 * on, without printing; return it.
 *
 * @example
 * setBackend('cpu');   // the same object as useDevice('cpu') and device('cpu')
 */
export function setBackend(nameOrBackend: string | Backend): Backend {
  active = device(nameOrBackend);
  return active;
}

function announce(line: string, quiet: boolean): void {
  if (quiet || line === announced) return;
  announced = line;
  console.error(`[spt-seg] backend ${line}`);
}

function lineFor(name: string, backend: Backend, requested: string): string | null {
  if (name === 'cpu' && requested === 'auto') return `cpu: reference kernels (wasm unavailable: ${wasmUnavailableReason() ?? 'unknown reason'})`;
  if (name === 'cpu') return 'cpu: reference kernels';
  if (name === 'wasm') {
    const threads = (backend as Backend & { threads?: number }).threads ?? 1;
    return `wasm: WebAssembly SIMD, ${threads} thread${threads > 1 ? 's' : ''}`;
  }
  return null; // gpu.js printed its own line when the backend was made
}

/**
 * Make `name` (default: SPT_DEVICE, else 'auto') the backend new tensors are created on; print once
 * (to stderr) which backend runs; return it.
 *
 * @example
 * useDevice('cpu');
 * randn([2, 2]).storage.backend.name;   // 'cpu'
 */
export function useDevice(name?: string, opts: { quiet?: boolean } = {}): Backend {
  const requested = requestedName(name);
  const resolved = resolveDeviceName(requested);
  const backend = setBackend(resolved);
  const line = lineFor(resolved, backend, requested);
  if (line !== null) announce(line, opts.quiet ?? false);
  return backend;
}
