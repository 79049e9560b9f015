/**
 * Elementwise binary primitives with NumPy broadcasting: add, sub, mul, div, pow, maximum, minimum.
 *
 * Forward: both operands are read through broadcast strides (stride 0 repeats an axis).
 * Backward: the gradient has the broadcast output shape, so each input's gradient is summed back
 * over the axes it was broadcast along (`unbroadcast`, in unbroadcast.ts).
 * A plain number operand takes the tensor's dtype and needs no gradient.
 * `div` is true division, as torch's `/`: int32 / int32 gives float32 (an IoU from integer counts).
 */
import type { BinaryOp, DType, Storage } from '../../kernels/backend.ts';
import { broadcastShapes, broadcastStrides } from '../shape.ts';
import { fromOp, scalarLike, Tensor, type Operand } from '../tensor.ts';
import { unbroadcast } from './unbroadcast.ts';
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

/**
 * a + b elementwise, with NumPy broadcasting; a number takes the tensor's dtype.
 *
 * @example
 * add(tensor([[1], [2]]), tensor([10, 20]));   // [[11, 21], [12, 22]]
 */
export const add = (a: Operand, b: Operand) => binaryOp('add', a, b);
/**
 * a - b elementwise, with broadcasting.
 *
 * @example
 * sub(tensor([3, 4]), 1);   // [2, 3]
 */
export const sub = (a: Operand, b: Operand) => binaryOp('sub', a, b);
/**
 * a · b elementwise, with broadcasting.
 *
 * @example
 * mul(tensor([1, 2]), tensor([3, 4]));   // [3, 8]
 */
export const mul = (a: Operand, b: Operand) => binaryOp('mul', a, b);
/**
 * a / b elementwise, with broadcasting; true division (int32 / int32 gives float32, as torch's `/`).
 *
 * @example
 * div(tensor([1, 3], { dtype: 'int32' }), 2);   // [0.5, 1.5] float32
 */
export const div = (a: Operand, b: Operand) => binaryOp('div', a, b);
/**
 * a ** b elementwise, with broadcasting; d/db is taken as 0 where a = 0, as PyTorch.
 *
 * @example
 * pow(tensor([2, 3]), 2);   // [4, 9]
 */
export const pow = (a: Operand, b: Operand) => binaryOp('pow', a, b);
/**
 * The larger of a and b elementwise, with broadcasting; ties split the gradient in half, as torch.maximum.
 *
 * @example
 * maximum(tensor([1, 5]), tensor([3, 2]));   // [3, 5]
 */
export const maximum = (a: Operand, b: Operand) => binaryOp('maximum', a, b);
/**
 * The smaller of a and b elementwise, with broadcasting; ties split the gradient in half, as torch.minimum.
 *
 * @example
 * minimum(tensor([1, 5]), tensor([3, 2]));   // [1, 2]
 */
export const minimum = (a: Operand, b: Operand) => binaryOp('minimum', a, b);
