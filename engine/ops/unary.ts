/**
 * Elementwise unary primitives and their derivatives, one table row each.
 *
 *   y = f(x)            dL/dx = dL/dy · f'(x)
 *
 * Each backward is written with other tensor ops, so it runs on whatever backend holds x.
 * `saved` says which of x, y the derivative needs. `cast` (dtype conversion) is here too.
 */
import type { DType, UnaryOp } from '../../kernels/backend.ts';
import { fromOp, Tensor } from '../tensor.ts';

type Derivative = (x: Tensor, y: Tensor, g: Tensor) => Tensor | null;

/** dL/dx for each op, from the input x, the output y and the output gradient g. */
const DERIVATIVES: Record<UnaryOp, Derivative> = {
  neg: (_x, _y, g) => g.neg(),
  exp: (_x, y, g) => g.mul(y), // d exp(x) = exp(x)
  log: (x, _y, g) => g.div(x),
  sqrt: (_x, y, g) => g.div(y.mul(2)), // d sqrt(x) = 1 / (2 sqrt(x))
  abs: (x, _y, g) => g.mul(x.sign()), // 0 at x = 0, like PyTorch
  sin: (x, _y, g) => g.mul(x.cos()),
  cos: (x, _y, g) => g.mul(x.sin()).neg(),
  relu: (x, _y, g) => g.mul(x.gt(0)),
  sigmoid: (_x, y, g) => g.mul(y.mul(y.neg().add(1))), // s(1 - s)
  tanh: (_x, y, g) => g.mul(y.mul(y).neg().add(1)), // 1 - tanh²
  erf: (x, _y, g) => g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI))), // 2/√π e^{-x²}
  sign: () => null, // piecewise constant: no gradient
};

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const b = x.storage.backend;
  const y = fromOp(b.unary(op, x.storage), x.shape, op, [x], (g) => [DERIVATIVES[op](x, y, g)]);
  return y;
}

/**
 * -x elementwise.
 *
 * @example
 * neg(tensor([1, -2]));   // [-1, 2]
 */
export const neg = (x: Tensor) => unaryOp('neg', x);
/**
 * e^x elementwise.
 *
 * @example
 * exp(tensor([0, 1]));   // [1, 2.71828]
 */
export const exp = (x: Tensor) => unaryOp('exp', x);
/**
 * The natural logarithm elementwise (-Infinity at 0, NaN below).
 *
 * @example
 * log(tensor([1, Math.E]));   // [0, 1]
 */
export const log = (x: Tensor) => unaryOp('log', x);
/**
 * √x elementwise.
 *
 * @example
 * sqrt(tensor([4, 9]));   // [2, 3]
 */
export const sqrt = (x: Tensor) => unaryOp('sqrt', x);
/**
 * |x| elementwise (gradient sign(x), 0 at 0, as PyTorch).
 *
 * @example
 * abs(tensor([-2, 3]));   // [2, 3]
 */
export const abs = (x: Tensor) => unaryOp('abs', x);
/**
 * sin x elementwise.
 *
 * @example
 * sin(tensor([0, Math.PI / 2]));   // [0, 1]
 */
export const sin = (x: Tensor) => unaryOp('sin', x);
/**
 * cos x elementwise.
 *
 * @example
 * cos(tensor([0, Math.PI]));   // [1, -1]
 */
export const cos = (x: Tensor) => unaryOp('cos', x);
/**
 * max(x, 0) elementwise (gradient 0 at 0, as PyTorch).
 *
 * @example
 * relu(tensor([-1, 2]));   // [0, 2]
 */
export const relu = (x: Tensor) => unaryOp('relu', x);
/**
 * 1 / (1 + e^-x) elementwise.
 *
 * @example
 * sigmoid(tensor([0]));   // [0.5]
 */
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', x);
/**
 * tanh x elementwise.
 *
 * @example
 * tanh(tensor([0, 100]));   // [0, 1]
 */
export const tanh = (x: Tensor) => unaryOp('tanh', x);
/**
 * The error function elementwise (the exact GELU uses it).
 *
 * @example
 * erf(tensor([0, 10]));   // [0, 1]
 */
export const erf = (x: Tensor) => unaryOp('erf', x);
/**
 * -1, 0 or 1 elementwise; no gradient (zero almost everywhere).
 *
 * @example
 * sign(tensor([-3, 0, 2]));   // [-1, 0, 1]
 */
export const sign = (x: Tensor) => unaryOp('sign', x);

/** Convert to `dtype`. Between float types the gradient converts back; to int32 it stops. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  const b = x.storage.backend;
  const storage = b.cast(x.storage, dtype);
  if (dtype === 'int32') return new Tensor(storage, x.shape);
  return fromOp(storage, x.shape, 'cast', [x], (g) => [cast(g, x.dtype)]);
}
