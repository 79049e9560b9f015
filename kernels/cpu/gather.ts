/**
 * Gather and its adjoint scatter-add, on x seen as [outer, n, inner] and an int32 index read with
 * strides over [outer, m, inner] (stride 0 broadcasts one index row, as index_select does).
 * Out-of-range indices throw here, with the offending value, rather than read garbage.
 */
import { type DType, type TypedArray } from '../backend.ts';
import { allocArray } from './pool.ts';

function checkIndex(v: number, n: number): void {
  if (v < 0 || v >= n || !Number.isInteger(v)) {
    throw new RangeError(`index ${v} is out of range for a dimension of size ${n}`);
  }
}

export function gather(
  x: TypedArray, outer: number, n: number, inner: number,
  idx: TypedArray, m: number, [so, sm, si]: readonly number[], dtype: DType,
): TypedArray {
  const out = allocArray(dtype, outer * m * inner);
  let w = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const v = idx[o * so + j * sm + i * si];
        checkIndex(v, n);
        out[w++] = x[(o * n + v) * inner + i];
      }
    }
  }
  return out;
}

export function scatterAdd(
  src: TypedArray, outer: number, n: number, inner: number,
  idx: TypedArray, m: number, [so, sm, si]: readonly number[], dtype: DType,
): TypedArray {
  const out = allocArray(dtype, outer * n * inner);
  let r = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const v = idx[o * so + j * sm + i * si];
        checkIndex(v, n);
        out[(o * n + v) * inner + i] += src[r++];
      }
    }
  }
  return out;
}
