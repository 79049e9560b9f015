/**
 * Masks: comparisons (eq, ne, lt, le, gt, ge) and `where(cond, a, b)`, plus `clamp` built on where.
 *
 * Comparisons give 1 / 0 in the operands' dtype (there is no bool dtype) and carry no gradient.
 * `where` picks a where cond != 0 and b elsewhere; its gradient goes to the branch that was picked.
 */
import { broadcastShapes, broadcastStrides } from '../shape.ts';
import { fromOp, scalarLike, Tensor, type Operand } from '../tensor.ts';
import { operands, rawBinary } from './binary.ts';
import { unbroadcast } from './unbroadcast.ts';

function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', x: Operand, y: Operand): Tensor {
  const [a, b] = operands(x, y);
  const { storage, shape } = rawBinary(op, a, b);
  return new Tensor(storage, shape);
}

/**
 * a == b elementwise, with broadcasting: 1 where it holds, else 0, in the operands' common dtype; no gradient.
 *
 * @example
 * eq(tensor([1, 2, 3]), 2);   // [0, 1, 0]
 */
export const eq = (a: Operand, b: Operand) => compare('eq', a, b);
/**
 * a != b elementwise, with broadcasting (1 / 0, no gradient).
 *
 * @example
 * ne(tensor([1, 2, 3]), 2);   // [1, 0, 1]
 */
export const ne = (a: Operand, b: Operand) => compare('ne', a, b);
/**
 * a < b elementwise, with broadcasting (1 / 0, no gradient).
 *
 * @example
 * lt(tensor([1, 2, 3]), 2);   // [1, 0, 0]
 */
export const lt = (a: Operand, b: Operand) => compare('lt', a, b);
/**
 * a <= b elementwise, with broadcasting (1 / 0, no gradient).
 *
 * @example
 * le(tensor([1, 2, 3]), 2);   // [1, 1, 0]
 */
export const le = (a: Operand, b: Operand) => compare('le', a, b);
/**
 * a > b elementwise, with broadcasting (1 / 0, no gradient).
 *
 * @example
 * gt(tensor([1, 2, 3]), 2);   // [0, 0, 1]
 */
export const gt = (a: Operand, b: Operand) => compare('gt', a, b);
/**
 * a >= b elementwise, with broadcasting (1 / 0, no gradient).
 *
 * @example
 * ge(tensor([1, 2, 3]), 2);   // [0, 1, 1]
 */
export const ge = (a: Operand, b: Operand) => compare('ge', a, b);

/**
 * Elementwise `cond ? a : b` with broadcasting over all three.
 *
 * @example
 * where(x.gt(0), x, 0);   // relu, with the gradient flowing only where x > 0
 */
export function where(cond: Tensor, x: Operand, y: Operand): Tensor {
  const [a, b] = operands(x instanceof Tensor || y instanceof Tensor ? x : scalarLike(x, cond), y);
  const shape = broadcastShapes(cond.shape, a.shape, b.shape);
  const backend = a.storage.backend;
  const storage = backend.where(
    cond.storage, broadcastStrides(cond.shape, shape),
    a.storage, broadcastStrides(a.shape, shape),
    b.storage, broadcastStrides(b.shape, shape), shape,
  );
  return fromOp(storage, shape, 'where', [a, b], (g) => {
    const zero = scalarLike(0, g);
    return [
      a.requiresGrad ? unbroadcast(where(cond, g, zero), a.shape) : null,
      b.requiresGrad ? unbroadcast(where(cond, zero, g), b.shape) : null,
    ];
  });
}

/**
 * Limit values to [min, max]; the gradient passes where min <= x <= max, as torch.clamp.
 *
 * @example
 * clamp(tensor([-2, 0.5, 3]), 0, 1);   // [0, 0.5, 1]
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  let y = x;
  if (min !== undefined && min !== null) y = where(y.lt(min), min, y);
  if (max !== undefined && max !== null) y = where(y.gt(max), max, y);
  return y;
}
