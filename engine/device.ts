/**
 * Which device runs: the one registry of backends, each created once per device name.
 *
 *   useDevice('wasm')            // make wasm the backend new tensors are created on
 *   useDevice()                  // the SPT_DEVICE environment variable, else 'auto'
 *   device('gpu:cpu')            // that backend, without making it the active one
 *   zeros([2, 3], { device: 'cpu' }), ones([4], { like: x })    // creation on a chosen backend
 *
 * Names (kernels/select.ts): auto, cpu, wasm, gpu, gpu:<mode>. 'auto' is wasm where WebAssembly
 * SIMD and SharedArrayBuffer exist, else cpu.
 *
 * Why once: ops compare operands' backends by identity. A second `useDevice('cpu')` must give the
 * backend the first gave, or a model loaded before it and a batch made after it could not meet
 * ("operands live on different backends"). `setBackend('cpu')` goes through the same registry.
 * It prints once which backend really runs (gpu.js also says which mode and renderer, since it
 * falls back silently). Ops never ask: they run on the backend that holds their inputs.
 *
 * Not here: the kernels (kernels/), the active-backend slot itself (kernels/backend.ts).
 */
import { registerBackend, setBackend, type Backend } from '../kernels/backend.ts';
import { createBackendNamed, DEVICE_NAMES, unknownDevice, wasmUnavailableReason } from '../kernels/select.ts';

export { DEVICE_NAMES };

/** Each backend made so far, by canonical device name. */
const made = new Map<string, Backend>();
let announced = '';

function announce(line: string, quiet: boolean): void {
  if (quiet || line === announced) return;
  announced = line;
  console.error(`[spt-seg] backend ${line}`);
}

/**
 * The canonical name for a user's choice: trimmed, lower case, 'auto' resolved, SPT_DEVICE read.
 *
 * @example
 * resolveDeviceName(' GPU ');   // 'gpu'
 * resolveDeviceName('auto');   // 'wasm' where WebAssembly SIMD runs, else 'cpu'
 */
export function resolveDeviceName(name?: string): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const wanted = (name ?? env?.SPT_DEVICE ?? 'auto').trim().toLowerCase();
  if (wanted === 'auto') return wasmUnavailableReason() === null ? 'wasm' : 'cpu';
  if (!DEVICE_NAMES.includes(wanted)) throw unknownDevice(wanted);
  return wanted;
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
    backend = createBackendNamed(name);
    made.set(name, backend);
  }
  return backend;
}

/**
 * Make `name` (default: SPT_DEVICE, else 'auto') the backend new tensors are created on; return it.
 *
 * @example
 * useDevice('cpu');   // prints once (to stderr) which backend runs
 * randn([2, 2]).storage.backend.name;   // 'cpu'
 */
export function useDevice(name?: string, opts: { quiet?: boolean } = {}): Backend {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const requested = (name ?? env?.SPT_DEVICE ?? 'auto').trim().toLowerCase();
  const backend = device(requested);
  const line = lineFor(resolveDeviceName(requested), backend, requested);
  if (line !== null) announce(line, opts.quiet ?? false);
  return setBackend(backend);
}

// `setBackend(name)` and the default backend come from this registry too, so they hand out the
// same objects as `useDevice`. A factory returns null where its device cannot run here.
for (const name of DEVICE_NAMES.filter((n) => n !== 'auto')) {
  registerBackend(name, () => {
    try {
      return device(name);
    } catch {
      return null;
    }
  });
}
