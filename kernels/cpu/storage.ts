/**
 * CPU storage: a dense typed array. The reference kernels in this folder read `.data` directly.
 * Not here: any arithmetic.
 */
import type { Backend, DType, Storage, TypedArray } from '../backend.ts';

export class CpuStorage implements Storage {
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
  return s.data;
}
