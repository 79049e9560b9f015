/**
 * Explicit memory for devices that do not collect garbage (tfjs's `tidy` / `dispose`).
 *
 * On the gpu.js backend a tensor's numbers are a GL texture or a WebGPU buffer, which JavaScript's
 * collector never frees: every intermediate of every step stays on the device until disposed.
 * `tidy` frees them in bulk, `dispose` one at a time. On the CPU backends the numbers are typed
 * arrays: outside any scope the garbage collector frees them, as usual; a storage made inside a
 * `tidy` scope is released when the scope ends and its array handed to a later op of the same size
 * (kernels/cpu/pool.ts: a training step then reuses last step's arrays instead of making thousands
 * of new ones). Both go through the Backend interface (`Backend.tidy`, `Backend.dispose`).
 *
 * `tidy(fn, keep)` runs `fn` and frees every storage created inside it, except
 *   - the storages of the tensors `fn` returns (a Tensor, or arrays / plain objects of them);
 *   - the storages of the tensors in `keep`, and of their `.grad`s.
 * And it frees what the `keep` tensors let go of inside `fn`: a storage that a `keep` tensor (or its
 * grad) held on entry and no longer holds on exit. That is how a training step stays flat: the
 * optimizer replaces every parameter's storage (`Tensor.assign`), every moment tensor and every grad,
 * and the ones replaced are the previous step's, created outside this scope.
 *
 * In a training loop, keep the parameters and the optimizer state. The state tensors are new objects
 * after every step (and do not exist before the first), so pass `keep` as a function: it is asked
 * on entry and again on exit.
 *
 *     for (let step = 0; step < steps; step++) {
 *       const loss = tidy(() => {
 *         opt.zeroGrad();
 *         const loss = crossEntropy(model.forward(x), y);
 *         loss.backward();
 *         opt.step();
 *         return loss.detach();          // the graph's intermediates are freed, the value is not
 *       }, () => [...model.parameters(), ...opt.stateTensors()]);
 *       console.log((await loss.dataAsync())[0]);
 *       dispose(loss);
 *     }
 *
 * Rules that follow from this:
 *   - `fn` must be synchronous (a Promise result throws); read values after the scope, with `await`.
 *   - Run `backward()` inside the scope that built the graph: the intermediates it needs are freed
 *     on exit.
 *   - A tensor created outside the scope that shares a storage a `keep` tensor let go of is freed
 *     with it (e.g. the state-dict tensor a parameter was loaded from: `assign` shares storage).
 *     On the CPU only storages made inside some scope are ever freed, so a loaded checkpoint's
 *     tensors stay valid there.
 *   - Nested scopes hand what they keep to the enclosing scope.
 *   - A tensor used after its scope freed it throws, on every backend ("used after the tidy scope
 *     that made it ended"): never a silent read of numbers that now belong to another tensor.
 *
 * Watching for leaks (like tf.memory()): `memory()` gives the live storages and bytes of a backend.
 * gpu.js counts every storage not yet disposed. On the CPU backends "live" means not yet garbage
 * collected, counted only after `trackMemory()` (it costs a FinalizationRegistry entry per storage);
 * read it after a forced collection (`node --expose-gc`, `gc()`) for a number that means something.
 *
 * Not here: how a backend tracks its storages (kernels/gpu/storage.ts, kernels/cpu/index.ts).
 */
import type { Backend, MemoryInfo, Storage } from '../kernels/backend.ts';
import { getBackend, madeBackends } from './device.ts';
import { Tensor } from './tensor.ts';

/** What `tidy` looks through for tensors to keep: a Tensor, or arrays / plain objects of them. */
export type TensorContainer =
  | Tensor | number | string | boolean | null | undefined | void
  | readonly TensorContainer[] | { readonly [key: string]: TensorContainer };

/** Tensors that outlive a `tidy` scope; a function is asked on entry and on exit. */
export type KeepList = readonly Tensor[] | (() => readonly Tensor[]);

/**
 * Run `fn`; free every storage created inside it except those of the returned tensors and of
 * `keep` (with their grads), and the storages `keep` tensors held on entry but replaced inside `fn`
 * (gpu.js deletes them; the CPU backends recycle their arrays). On a backend without scopes, just run `fn`.
 *
 *     const y = tidy(() => x.mul(2).exp().sum());   // the product and the exp are freed; y is not
 */
export function tidy<T>(fn: () => T, keep: KeepList = []): T {
  const keepList = typeof keep === 'function' ? keep : () => keep;
  const entryKeep = keepList();
  const backends = scopedBackends(entryKeep);
  if (backends.length === 0) {
    const result = fn();
    // The same contract on every backend, so a loop written on the CPU does not break on a GPU.
    if (result instanceof Promise) throw new Error('tidy(fn): fn returned a Promise; tidy scopes must be synchronous');
    return result;
  }
  const held = storagesOf(entryKeep);
  let kept = new Set<Storage>();
  const keepOnExit = (r: T): Set<Storage> => {
    kept = storagesOf([...tensorsIn(r), ...keepList()]);
    return kept;
  };
  // One scope per backend kind, nested: each frees what was made on it and is not kept.
  const run = backends.reduceRight<() => T>((inner, b) => () => b.tidy!(inner, keepOnExit), fn);
  const result = run();
  for (const s of held) if (!kept.has(s) && s.backend.tidy) s.backend.dispose(s);
  return result;
}

/**
 * Free the device memory of a tensor (and of tensors in arrays / plain objects) now. The tensor is
 * unusable afterwards; so is any tensor sharing its storage (`reshape`, `detach`). Its `.grad` is
 * left alone. On the CPU backends it recycles a storage made inside a tidy scope and does nothing
 * to any other (the garbage collector's).
 *
 * @example
 * dispose([a, b]);   // frees their device memory now (on the CPU: recycles them if a tidy scope made them)
 */
export function dispose(x: TensorContainer): void {
  for (const t of tensorsIn(x)) t.storage.backend.dispose(t.storage);
}

/**
 * Live storages and bytes on a backend (default: the active one); zeros where it does not count.
 *
 * @example
 * memory().bytes;   // bytes of the live storages on the current backend
 */
export function memory(on: Backend | Tensor = getBackend()): MemoryInfo {
  const backend = on instanceof Tensor ? on.storage.backend : on;
  return backend.memory?.() ?? { storages: 0, bytes: 0 };
}

/**
 * Start counting live storages on a backend (default: the active one); see the header.
 *
 * @example
 * trackMemory();   // then memory() counts tensors and bytes
 */
export function trackMemory(on: Backend | Tensor = getBackend()): void {
  const backend = on instanceof Tensor ? on.storage.backend : on;
  backend.trackMemory?.();
}

/**
 * The backends whose scopes `tidy` opens: the active one, those holding the kept tensors, and every
 * backend `device()` has made, so that a scope frees what it made on any of them (a model on gpu.js
 * run while the CPU is the active backend, as the page does). One per scope implementation: all CPU
 * backends share kernels/cpu/pool.ts's scopes, all gpu.js backends kernels/gpu/storage.ts's.
 */
function scopedBackends(keep: readonly Tensor[]): Backend[] {
  const byScope = new Map<unknown, Backend>();
  for (const b of [getBackend(), ...keep.map((t) => t.storage.backend), ...madeBackends()]) {
    if (b.tidy && !byScope.has(b.tidy)) byScope.set(b.tidy, b);
  }
  return [...byScope.values()];
}

/** The storages of `tensors` and of their grads. */
function storagesOf(tensors: Iterable<Tensor>): Set<Storage> {
  const out = new Set<Storage>();
  for (const t of tensors) {
    out.add(t.storage);
    if (t.grad !== null) out.add(t.grad.storage);
  }
  return out;
}

/** Tensors inside a value: itself, array elements, plain-object values (recursively, 8 levels). */
function tensorsIn(v: unknown, depth = 0, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) {
    out.push(v);
  } else if (depth < 8 && Array.isArray(v)) {
    for (const x of v) tensorsIn(x, depth + 1, out);
  } else if (depth < 8 && v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) tensorsIn(x, depth + 1, out);
  }
  return out;
}
