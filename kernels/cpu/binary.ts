/**
 * Elementwise binary kernels with NumPy broadcasting (stride 0 = repeat), and `where`.
 * Comparisons produce 1 or 0 in the output dtype. The reference for every other backend.
 */
import { allocArray, sizeOf, type BinaryOp, type DType, type TypedArray } from '../backend.ts';
import { stridedLoop } from './strided.ts';

export const BINARY_FNS: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  // NaN-propagating, like torch.maximum / torch.minimum.
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
};

export function binary(
  op: BinaryOp,
  a: TypedArray, aStrides: readonly number[],
  b: TypedArray, bStrides: readonly number[],
  outShape: readonly number[], dtype: DType,
): TypedArray {
  const out = allocArray(dtype, sizeOf(outShape));
  const f = BINARY_FNS[op];
  stridedLoop(outShape, [aStrides, bStrides], [0, 0], (o, [ia, ib], [sa, sb], len) => {
    for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = f(a[ia], b[ib]);
  });
  return out;
}

export function where(
  c: TypedArray, cStrides: readonly number[],
  a: TypedArray, aStrides: readonly number[],
  b: TypedArray, bStrides: readonly number[],
  outShape: readonly number[], dtype: DType,
): TypedArray {
  const out = allocArray(dtype, sizeOf(outShape));
  stridedLoop(outShape, [cStrides, aStrides, bStrides], [0, 0, 0], (o, [ic, ia, ib], [sc, sa, sb], len) => {
    for (let j = 0; j < len; j++, ic += sc, ia += sa, ib += sb) out[o + j] = c[ic] !== 0 ? a[ia] : b[ib];
  });
  return out;
}
