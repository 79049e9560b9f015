/**
 * CPU storage: a dense typed array. The reference kernels in this folder read it through `dataOf`.
 * A storage made inside a `tidy` scope is `scoped`; once the scope disposes it, its array belongs to
 * the free list (pool.ts) and `dataOf` refuses it. Not here: any arithmetic.
 */
import type { Backend, DType, Storage, TypedArray } from '../backend.ts';

export class CpuStorage implements Storage {
  /** Made inside a tidy scope (pool.ts): disposing it recycles its array. */
  scoped = false;
  /** Disposed by its scope: the array may already hold another tensor's numbers. */
  disposed = false;
  /** False for an adopted array (its owner may still read it): never handed to another tensor. */
  recyclable = true;

  constructor(
    readonly backend: Backend,
    readonly data: TypedArray,
    readonly dtype: DType,
  ) {}

  get size(): number {
    return this.data.length;
  }
}

/** The typed array behind a storage from any CPU-side backend. */
export function dataOf(s: Storage): TypedArray {
  if (!(s instanceof CpuStorage)) {
    throw new Error(`a CPU kernel was given storage from backend "${s.backend.name}"; move the tensor first`);
  }
  if (s.disposed) {
    throw new Error('a CPU tensor was used after the tidy scope that made it ended (or after dispose()); return it from the scope, or name it in keep, to use it later');
  }
  return s.data;
}
