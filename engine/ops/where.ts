/**
 * Masks: comparisons (eq, ne, lt, le, gt, ge) and `where(cond, a, b)`, plus `clamp` built on where.
 *
 * Comparisons give 1 / 0 in the operands' dtype (there is no bool dtype) and carry no gradient.
 * `where` picks a where cond != 0 and b elsewhere; its gradient goes to the branch that was picked.
 */
import { broadcastShapes, broadcastStrides } from '../shape.ts';
import { fromOp, scalarLike, Tensor, type Operand } from '../tensor.ts';
import { operands, rawBinary, unbroadcast } from './binary.ts';

function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', x: Operand, y: Operand): Tensor {
  const [a, b] = operands(x, y);
  const { storage, shape } = rawBinary(op, a, b);
  return new Tensor(storage, shape);
}

export const eq = (a: Operand, b: Operand) => compare('eq', a, b);
export const ne = (a: Operand, b: Operand) => compare('ne', a, b);
export const lt = (a: Operand, b: Operand) => compare('lt', a, b);
export const le = (a: Operand, b: Operand) => compare('le', a, b);
export const gt = (a: Operand, b: Operand) => compare('gt', a, b);
export const ge = (a: Operand, b: Operand) => compare('ge', a, b);

/** Elementwise `cond ? a : b` with broadcasting over all three. */
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

/** Limit values to [min, max]; the gradient passes where min <= x <= max, as torch.clamp. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  let y = x;
  if (min !== undefined && min !== null) y = where(y.lt(min), min, y);
  if (max !== undefined && max !== null) y = where(y.gt(max), max, y);
  return y;
}
