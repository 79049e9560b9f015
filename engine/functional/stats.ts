/**
 * Statistics: mean, variance, L2 norm.
 *
 * mean and variance are composed from primitives and have no backward of their own: autograd
 * differentiates the sum / mul / div they are made of. `norm` has its own backward, because the
 * composite √(Σ x²) differentiates to ∞ · 0 = NaN at a zero vector, where torch.linalg.norm's
 * gradient is 0:  d‖x‖/dx = x / ‖x‖, taken as 0 where ‖x‖ = 0.
 *
 * `dim` omitted or `[]` reduces every dim, as torch does.
 */
import { noGrad } from '../autograd.ts';
import { reducedDims } from '../ops/reduce.ts';
import { where } from '../ops/where.ts';
import { sizeOf } from '../shape.ts';
import { fromOp, type Tensor } from '../tensor.ts';

function count(x: Tensor, dim: number | readonly number[] | undefined): number {
  return sizeOf(reducedDims(dim, x.ndim).map((d) => x.shape[d]));
}

/**
 * The mean over `dim` (all when omitted), as torch.mean: a sum times 1/n.
 *
 * @example
 * mean(tensor([[1, 2], [3, 4]]), 0);   // [2, 3]
 */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  if (x.dtype === 'int32') throw new Error('mean: needs a floating point tensor (use .float()), got int32');
  return x.sum(dim as number | number[] | undefined, keepdim).div(count(x, dim));
}

/**
 * Σ (x - mean)² / (N - correction); correction 1 is the unbiased estimate (torch default).
 *
 * @example
 * variance(tensor([1, 2, 3, 4]));              // 1.6667 (unbiased)
 * variance(tensor([1, 2, 3, 4]), 0, false, 0);  // 1.25
 */
export function variance(x: Tensor, dim?: number | readonly number[], keepdim = false, correction = 1): Tensor {
  const d = dim as number | number[] | undefined;
  const centered = x.sub(mean(x, d, true));
  return centered.mul(centered).sum(d, keepdim).div(Math.max(count(x, dim) - correction, 0));
}

/**
 * Euclidean norm √(Σ x²) over `dim`; its gradient x / ‖x‖ is 0 at a zero vector (as torch).
 *
 * @example
 * norm(tensor([3, 4]));   // 5
 */
export function norm(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  if (x.dtype === 'int32') throw new Error('norm: needs a floating point tensor (use .float()), got int32');
  const d = dim as number | number[] | undefined;
  const n = noGrad(() => x.mul(x).sum(d, true).sqrt()); // keepdim shape: broadcasts against x
  const shape = keepdim ? n.shape : n.shape.filter((_, i) => !reducedDims(dim, x.ndim).includes(i));
  return fromOp(n.storage, shape, 'norm', [x], (g) => [
    where(n.eq(0), 0, x.div(n)).mul(g.reshape(n.shape)),
  ]);
}
