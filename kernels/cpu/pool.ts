/**
 * Scoped memory for the CPU backends (cpu and wasm): `tidy` scopes over CpuStorages, and a free list
 * that hands the arrays they release to the next ops that need an array of the same dtype and length.
 *
 * Why: a training step makes thousands of fresh typed arrays (every op's output), the same shapes
 * every step. A fresh array costs a calloc, a page fault per 4 KiB on first write (slow in a VM) and
 * garbage-collector work later, and its memory is cold in the cache; the loss of the world's SPT-SEG
 * step alone makes 590K-float temporaries by the dozen. PyTorch's CPU allocator reuses freed blocks;
 * this is the same idea, bounded by the scope a training loop already opens (engine/memory.ts `tidy`).
 *
 * The contract is the gpu.js backend's (kernels/gpu/storage.ts), so one loop runs on both:
 *   - a storage created while a scope is open belongs to it; when the scope ends, every such storage
 *     that is not kept (returned, or named by `keep`) is disposed;
 *   - a disposed storage's array goes to the free list, and the storage is marked: any later use
 *     throws (`dataOf`), so a tensor that escaped its scope by another way fails loudly instead of
 *     reading numbers that now belong to someone else;
 *   - storages created outside every scope are left to the garbage collector, as before: `dispose`
 *     of one does nothing. So is an adopted array (`asTensor`'s views of a file's bytes): it is
 *     never recycled, since its owner may still read it.
 * Does not: decide what a scope keeps (engine/memory.ts), or allocate wasm memory itself (the wasm
 * backend registers its arena as the source of fresh float32 arrays: `useFloat32Source`).
 */
import { allocArray as freshArray, dtypeOfArray, type DType, type Storage, type TypedArray } from '../backend.ts';
import { runInScope } from '../scope.ts';
import type { CpuStorage } from './storage.ts';

/** The most bytes the free list holds; arrays released beyond it are left to the garbage collector. */
export const POOL_LIMIT_BYTES = 1024 * 1024 * 1024;
/** Arrays shorter than this are cheap to make (V8 allocates them on its own heap) and are not pooled. */
const POOL_MIN_LENGTH = 256;

const free = new Map<string, TypedArray[]>();
let freeBytes = 0;

const keyOf = (dtype: DType, length: number): string => `${dtype}:${length}`;

/** A released array of this dtype and length, or null. Its contents are whatever it last held. */
function reuse(dtype: DType, size: number): TypedArray | null {
  if (size < POOL_MIN_LENGTH) return null;
  const list = free.get(keyOf(dtype, size));
  const a = list?.pop();
  if (a === undefined) return null;
  freeBytes -= a.byteLength;
  return a;
}

/**
 * Where fresh float32 arrays come from, when something better than `new Float32Array` is registered:
 * the wasm backend's arena (kernels/wasm/arena.ts), whose views its SIMD kernels use in place.
 * `alloc` returns null when it has no room (the array is then an ordinary one); `reclaim` takes back
 * one of its arrays that the pool is dropping (true), so that its room is free at once.
 */
export interface Float32Source {
  alloc(size: number, zeroed: boolean): Float32Array | null;
  reclaim(a: Float32Array): boolean;
}
let float32Source: Float32Source | null = null;

/** Register (or, with null, remove) the source of fresh float32 arrays of POOL_MIN_LENGTH or more. */
export function useFloat32Source(source: Float32Source | null): void {
  float32Source = source;
}

/**
 * A new array: inside a tidy scope, from the registered float32 source when there is one and it has
 * room. Only inside a scope: there a storage's end is known (the scope disposes it, and its array goes
 * back to the pool or the source at once). An array made outside every scope ends only when the garbage
 * collector finds it, and the source would hear of that only after the current synchronous work (a
 * FinalizationRegistry callback), so a long computation outside `tidy` would hold the source's memory
 * to the end; those stay ordinary arrays, as before.
 */
function fresh(dtype: DType, size: number, zeroed: boolean): TypedArray {
  if (dtype === 'float32' && float32Source !== null && size >= POOL_MIN_LENGTH && scopes.length > 0) {
    const a = float32Source.alloc(size, zeroed) ?? (giveBackFloat32() > 0 ? float32Source.alloc(size, zeroed) : null);
    if (a !== null) return a;
  }
  return freshArray(dtype, size);
}

/**
 * The source ran short: hand it every free float32 array of its own that the pool holds (arrays
 * waiting for a length that may never be asked for again). Returns how many it took back.
 */
function giveBackFloat32(): number {
  if (float32Source === null) return 0;
  let taken = 0;
  for (const [key, list] of free) {
    if (!key.startsWith('float32:')) continue;
    const kept: TypedArray[] = [];
    for (const a of list) {
      if (float32Source.reclaim(a as Float32Array)) {
        freeBytes -= a.byteLength;
        taken++;
      } else {
        kept.push(a);
      }
    }
    free.set(key, kept);
  }
  return taken;
}

/** A zero-filled array: a released one when there is one of this dtype and length, else a new one. */
export function allocArray(dtype: DType, size: number): TypedArray {
  const a = reuse(dtype, size);
  if (a === null) return fresh(dtype, size, true);
  a.fill(0);
  return a;
}

/** Like `allocArray` but not cleared, for a caller that writes every element (the wasm copy-out). */
export function allocArrayUninitialised(dtype: DType, size: number): TypedArray {
  return reuse(dtype, size) ?? fresh(dtype, size, false);
}

/** Give an array back for reuse (dropped, or returned to its float32 source, when the free list is full or the array is small). */
function release(a: TypedArray): void {
  if (a.length < POOL_MIN_LENGTH || freeBytes + a.byteLength > POOL_LIMIT_BYTES) {
    if (a instanceof Float32Array) float32Source?.reclaim(a);
    return;
  }
  const key = keyOf(dtypeOfArray(a), a.length);
  let list = free.get(key);
  if (list === undefined) free.set(key, list = []);
  list.push(a);
  freeBytes += a.byteLength;
}

/** Bytes waiting in the free list (for tests and the memory report). */
export function pooledBytes(): number {
  return freeBytes;
}

/** Empty the free list (the arrays go back to their float32 source, or to the garbage collector). */
export function clearPool(): void {
  giveBackFloat32();
  free.clear();
  freeBytes = 0;
}

// -- scopes --------------------------------------------------------------------------------------

/** Open tidy scopes, innermost last; each holds the storages created while it is innermost. */
const scopes: Set<CpuStorage>[] = [];

/** Called for every new storage: it belongs to the innermost open scope, if any. */
export function track(s: CpuStorage): void {
  if (scopes.length === 0) return;
  s.scoped = true;
  scopes[scopes.length - 1].add(s);
}

/**
 * Dispose a storage: mark it (later use throws) and recycle its array. Only storages made inside a
 * scope are disposed; any other is the garbage collector's, and this does nothing.
 */
export function disposeStorage(s: CpuStorage): void {
  if (!s.scoped || s.disposed) return;
  s.disposed = true;
  if (s.recyclable) release(s.data);
}

/** Run `fn`; dispose every storage created inside it except the ones `keep(result)` names. */
export function tidy<T>(fn: () => T, keep: (result: T) => Iterable<Storage>): T {
  const { result, scope } = runInScope(scopes, fn);
  const kept = new Set<Storage>(keep(result));
  for (const s of scope) {
    if (kept.has(s)) track(s); // survives into the enclosing scope, if any
    else disposeStorage(s);
  }
  return result;
}
