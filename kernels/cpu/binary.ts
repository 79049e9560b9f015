/**
 * Elementwise binary kernels with NumPy broadcasting (stride 0 = repeat), and `where`.
 * Comparisons produce 1 or 0 in the output dtype. The reference for every other backend.
 */
import { sizeOf, type BinaryOp, type DType, type TypedArray } from '../backend.ts';
import { allocArray } from './pool.ts';
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

/**
 * out[o] = BINARY_FNS[op](a[ia], b[ib]) over the broadcast index space. Hot kernel: like `unary`,
 * each common op gets a loop body of its own, so its call site sees one operation and V8 compiles
 * it to the plain arithmetic; one body calling `f(a, b)` for every op could not inline `f`
 * (comparisons on 590K floats measured 1.2-3.6× slower that way). The values are exactly BINARY_FNS[op]'s.
 */
export function binary(
  op: BinaryOp,
  a: TypedArray, aStrides: readonly number[],
  b: TypedArray, bStrides: readonly number[],
  outShape: readonly number[], dtype: DType,
): TypedArray {
  const out = allocArray(dtype, sizeOf(outShape));
  const strides = [aStrides, bStrides], at = [0, 0];
  type Body = (o: number, starts: number[], steps: number[], len: number) => void;
  let body: Body;
  switch (op) {
    case 'add': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] + b[ib]; }; break;
    case 'sub': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] - b[ib]; }; break;
    case 'mul': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] * b[ib]; }; break;
    case 'div': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] / b[ib]; }; break;
    case 'eq': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] === b[ib] ? 1 : 0; }; break;
    case 'ne': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] !== b[ib] ? 1 : 0; }; break;
    case 'lt': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] < b[ib] ? 1 : 0; }; break;
    case 'le': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] <= b[ib] ? 1 : 0; }; break;
    case 'gt': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] > b[ib] ? 1 : 0; }; break;
    case 'ge': body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = a[ia] >= b[ib] ? 1 : 0; }; break;
    default: {
      const f = BINARY_FNS[op]; // pow, maximum, minimum
      body = (o, [ia, ib], [sa, sb], len) => { for (let j = 0; j < len; j++, ia += sa, ib += sb) out[o + j] = f(a[ia], b[ib]); };
    }
  }
  stridedLoop(outShape, strides, at, body);
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
