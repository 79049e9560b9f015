/**
 * Elementwise binary primitives with NumPy broadcasting: add, sub, mul, div, pow, maximum, minimum.
 *
 * Forward: both operands are read through broadcast strides (stride 0 repeats an axis).
 * Backward: the gradient has the broadcast output shape, so each input's gradient is summed back
 * over the axes it was broadcast along (`unbroadcast`).
 * A plain number operand takes the tensor's dtype and needs no gradient.
 * `div` is true division, as torch's `/`: int32 / int32 gives float32 (an IoU from integer counts).
 */
import type { BinaryOp, DType, Storage } from '../../kernels/backend.ts';
import { broadcastShapes, broadcastStrides, shapesEqual } from '../shape.ts';
import { fromOp, scalarLike, Tensor, type Operand } from '../tensor.ts';
import { where } from './where.ts';

const RANK: Record<DType, number> = { int32: 0, float32: 1, float64: 2 };

/** Turn both operands into tensors of one dtype (int32 < float32 < float64, like PyTorch). */
export function operands(a: Operand, b: Operand): [Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new Error('a binary op needs at least one tensor operand');
  let ta = a instanceof Tensor ? a : scalarLike(a, b as Tensor);
  let tb = b instanceof Tensor ? b : scalarLike(b, ta);
  if (!(a instanceof Tensor) && !Number.isInteger(a) && tb.dtype === 'int32') ta = scalarLike(a as number, tb.to('float32'));
  if (!(b instanceof Tensor) && !Number.isInteger(b) && ta.dtype === 'int32') tb = scalarLike(b as number, ta.to('float32'));
  if (ta.storage.backend !== tb.storage.backend) {
    throw new Error(`operands live on different backends ("${ta.storage.backend.name}" and "${tb.storage.backend.name}")`);
  }
  if (ta.dtype !== tb.dtype) {
    if (RANK[ta.dtype] < RANK[tb.dtype]) ta = ta.to(tb.dtype);
    else tb = tb.to(ta.dtype);
  }
  return [ta, tb];
}

/** Sum `g` over the axes that broadcasting added or stretched, giving a gradient of `shape`. */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  return g.sum(dims, true).reshape(shape);
}

/** Run a binary kernel on two tensors with broadcasting; no autograd. */
export function rawBinary(op: BinaryOp, a: Tensor, b: Tensor): { storage: Storage; shape: number[] } {
  const shape = broadcastShapes(a.shape, b.shape);
  const storage = a.storage.backend.binary(
    op, a.storage, broadcastStrides(a.shape, shape), b.storage, broadcastStrides(b.shape, shape), shape,
  );
  return { storage, shape };
}

type Grads = (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

const GRADS: Record<'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum', Grads> = {
  add: (_a, _b, _y, g) => [g, g],
  sub: (_a, _b, _y, g) => [g, g.neg()],
  mul: (a, b, _y, g) => [g.mul(b), g.mul(a)],
  div: (a, b, _y, g) => [g.div(b), g.mul(a).div(b.mul(b)).neg()],
  // d a^b / da = b a^(b-1);  d a^b / db = a^b ln a (taken as 0 where a = 0, as PyTorch does).
  pow: (a, b, y, g) => [
    a.requiresGrad ? g.mul(b).mul(a.pow(b.sub(1))) : null,
    b.requiresGrad ? g.mul(y).mul(where(a.eq(0), 0, a.log())) : null,
  ],
  // Ties split the gradient in half between the two inputs, as torch.maximum does.
  maximum: (a, b, _y, g) => tieSplit(a.gt(b), a.eq(b), g),
  minimum: (a, b, _y, g) => tieSplit(a.lt(b), a.eq(b), g),
};

function tieSplit(aWins: Tensor, tie: Tensor, g: Tensor): [Tensor, Tensor] {
  const wa = aWins.add(tie.mul(0.5));
  return [g.mul(wa), g.mul(wa.neg().add(1))];
}

function binaryOp(op: keyof typeof GRADS, x: Operand, y: Operand): Tensor {
  let [a, b] = operands(x, y);
  if (op === 'div' && a.dtype === 'int32') [a, b] = [a.to('float32'), b.to('float32')];
  const { storage, shape } = rawBinary(op, a, b);
  const out: Tensor = fromOp(storage, shape, op, [a, b], (g) => {
    const [ga, gb] = GRADS[op](a, b, out, g);
    return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
  });
  return out;
}

export const add = (a: Operand, b: Operand) => binaryOp('add', a, b);
export const sub = (a: Operand, b: Operand) => binaryOp('sub', a, b);
export const mul = (a: Operand, b: Operand) => binaryOp('mul', a, b);
export const div = (a: Operand, b: Operand) => binaryOp('div', a, b);
export const pow = (a: Operand, b: Operand) => binaryOp('pow', a, b);
export const maximum = (a: Operand, b: Operand) => binaryOp('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => binaryOp('minimum', a, b);
