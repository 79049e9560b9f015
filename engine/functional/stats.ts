/**
 * Statistics composed from primitives: mean, variance, L2 norm. No backward of their own:
 * autograd differentiates the sum / mul / sqrt they are made of.
 */
import { normDims, sizeOf } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

function count(x: Tensor, dim: number | readonly number[] | undefined): number {
  return sizeOf(normDims(dim, x.ndim).map((d) => x.shape[d]));
}

export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  if (x.dtype === 'int32') throw new Error('mean: needs a floating point tensor (use .float()), got int32');
  return x.sum(dim as number | number[] | undefined, keepdim).div(count(x, dim));
}

/** Σ (x - mean)² / (N - correction); correction 1 is the unbiased estimate (torch default). */
export function variance(x: Tensor, dim?: number | readonly number[], keepdim = false, correction = 1): Tensor {
  const d = dim as number | number[] | undefined;
  const centered = x.sub(mean(x, d, true));
  return centered.mul(centered).sum(d, keepdim).div(Math.max(count(x, dim) - correction, 0));
}

/** Euclidean norm √(Σ x²) over `dim`. */
export function norm(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return x.mul(x).sum(dim as number | number[] | undefined, keepdim).sqrt();
}
