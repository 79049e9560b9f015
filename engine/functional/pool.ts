/**
 * 2-D average pooling, `F.avg_pool2d(x, kernel_size, stride)` with no padding, floor mode and square
 * windows, as two matrix products (the same construction as the bilinear resize in interpolate.ts).
 *
 * The mean over a k×k window is the mean over its k rows of the means over its k columns, so it is
 * separable. One axis of length L pooled to n = floor((L − k) / s) + 1 outputs is the [n, L] matrix
 *
 *   P[o, i] = 1/k   for  o·s <= i < o·s + k,   0 elsewhere
 *
 * and  y = Py · x · Pxᵀ  for x [.., H, W]. Built from `matmul`, autograd gives the backward
 * (Pyᵀ · g · Px: each output's gradient spread evenly over its window) for free.
 * Does: any kernel and stride (stride defaults to the kernel, as torch). Does not: padding,
 *   ceil_mode, count_include_pad (moot without padding), rectangular kernels, divisor_override.
 *
 * Glossary: B batch, C channels, H, W input height and width, h, w output height and width.
 */
import type { Tensor } from '../tensor.ts';
import { constantLike } from './constant.ts';

/** The [n, L] (or, transposed, [L, n]) pooling matrix of one axis; see the header. */
function poolMatrix(L: number, k: number, s: number, like: Tensor, transposed: boolean): Tensor {
  const n = Math.floor((L - k) / s) + 1;
  const m = new Float64Array(n * L);
  for (let o = 0; o < n; o++) {
    for (let i = o * s; i < o * s + k; i++) m[transposed ? i * n + o : o * L + i] = 1 / k;
  }
  return constantLike(m, transposed ? [L, n] : [n, L], like);
}

/**
 * Average pooling of x [B, C, H, W] (or [C, H, W]) over k×k windows every `stride` positions.
 *
 *   avgPool2d(randn([1, 512, 33, 33]), 3)   // [1, 512, 11, 11]  (HiLo's Lo-Fi keys, method.md §2.4)
 */
export function avgPool2d(x: Tensor, kernelSize: number, stride: number = kernelSize): Tensor {
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new Error(`avgPool2d: expected x [B, C, H, W] or [C, H, W], got [${x.shape.join(', ')}]`);
  }
  if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new Error(`avgPool2d: kernelSize must be a positive integer, got ${kernelSize}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`avgPool2d: stride must be a positive integer, got ${stride}`);
  const H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
  if (H < kernelSize || W < kernelSize) {
    throw new Error(`avgPool2d: the ${kernelSize}x${kernelSize} kernel is larger than the ${H}x${W} input`);
  }
  const rows = poolMatrix(H, kernelSize, stride, x, false); // [h, H]
  const colsT = poolMatrix(W, kernelSize, stride, x, true); // [W, w]
  return rows.matmul(x).matmul(colsT); // [B, C, h, w]
}
