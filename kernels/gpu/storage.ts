/**
 * GPU storage handles and the `tidy` scopes that free them.
 *
 * Where a storage's numbers live (the placement rule, applied by GpuBackend in index.ts):
 *   - on the DEVICE (a gpu.js texture / WebGPU buffer, see device.ts) when the dtype is float32 and
 *     either the size is at least `hostBelow` (default 16) or the value was computed from a device input;
 *   - on the HOST (a typed array) otherwise: every float64 and int32 storage (GPU kernels compute in
 *     float32 only), empty storages (gpu.js cannot render 0 values) and tiny float32 constants, which
 *     are cheaper to hand to a kernel as an argument than to upload as a texture of their own.
 * Host arrays are still valid kernel inputs: gpu.js uploads them with the call.
 *
 * A storage is mutable in one way only: `copy(..., dst)` computes the new contents into a fresh
 * device buffer and swaps it in (the old one is deleted), which is how "write in place" looks on a
 * device whose kernels cannot write to their inputs.
 *
 * Not here: arithmetic, kernels, the ordering of work (runner.ts).
 */
import { BYTES_PER_ELEMENT, type Backend, type DType, type MemoryInfo, type Storage, type TypedArray } from '../backend.ts';
import type { DevicePayload } from './device.ts';
import { runInScope } from '../scope.ts';

let nextId = 1;

export class GpuStorage implements Storage {
  readonly id = nextId++;
  /** The numbers on the device (set once its kernel has run; swapped by copy-into-dst). */
  device: DevicePayload | null = null;
  /** The numbers on the host (float64, int32, empty or tiny storages). */
  host: TypedArray | null = null;
  /** Set when the kernel that fills this storage failed after the call returned (WebGPU only). */
  error: unknown = null;
  disposed = false;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly size: number,
    /** Decided at creation and never changed: where `device` or `host` will be set. */
    readonly onDevice: boolean,
  ) {
    const live = liveMemory(backend);
    live.storages++;
    live.bytes += size * BYTES_PER_ELEMENT[dtype];
    track(this);
  }
}

/** Per backend: storages created and not yet disposed, and their bytes (Backend.memory()). */
const liveByBackend = new WeakMap<Backend, MemoryInfo>();

export function liveMemory(backend: Backend): MemoryInfo {
  let live = liveByBackend.get(backend);
  if (live === undefined) liveByBackend.set(backend, live = { storages: 0, bytes: 0 });
  return live;
}

/** Mark `s` disposed (once) and take it off its backend's live count. */
export function markDisposed(s: GpuStorage): boolean {
  if (s.disposed) return false;
  s.disposed = true;
  const live = liveMemory(s.backend);
  live.storages--;
  live.bytes -= s.size * BYTES_PER_ELEMENT[s.dtype];
  return true;
}

export function asGpuStorage(s: Storage, backend: Backend): GpuStorage {
  if (!(s instanceof GpuStorage) || s.backend !== backend) {
    throw new Error(`the gpu backend was given storage from backend "${s.backend.name}"; move the tensor first`);
  }
  if (s.disposed) throw new Error(`gpu storage #${s.id} was used after dispose()`);
  return s;
}

// -- tidy: scoped disposal -----------------------------------------------------------------------

/** Open tidy scopes, innermost last. Each collects every storage created while it is innermost. */
const scopes: Set<GpuStorage>[] = [];

function track(s: GpuStorage): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(s);
}

/**
 * Run `fn` and dispose every GPU storage created inside it, except the ones it returns.
 * Returned storages are found in the result itself, in arrays and in plain objects (recursively);
 * pass `keep` to name them yourself (e.g. the storages behind returned Tensors). Nested scopes hand
 * their survivors to the enclosing scope. `fn` must be synchronous: an async `fn` would return
 * before its storages exist, so a Promise result throws.
 *
 *     const y = tidy(() => gpu.unary('exp', gpu.binary('mul', x, [1], two, [0], [n])));
 *     // the product is freed here; y survives
 */
export function tidy<T>(fn: () => T, keep?: (result: T) => Iterable<Storage>): T {
  const { result, scope } = runInScope(scopes, fn);
  const kept = new Set<GpuStorage>();
  for (const s of keep ? keep(result) : findStorages(result)) if (s instanceof GpuStorage) kept.add(s);
  for (const s of scope) {
    if (kept.has(s)) track(s); // survives into the enclosing scope, if any
    else if (!s.disposed) s.backend.dispose(s);
  }
  return result;
}

/** GpuStorages inside a value: itself, array elements, plain-object values (recursively). */
function* findStorages(v: unknown, depth = 0): Generator<GpuStorage> {
  if (v instanceof GpuStorage) {
    yield v;
  } else if (depth < 8 && Array.isArray(v)) {
    for (const x of v) yield* findStorages(x, depth + 1);
  } else if (depth < 8 && v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) yield* findStorages(x, depth + 1);
  }
}
