/**
 * correlate1d: a fixed 1-D filter slid along one dim, zero-padded so the length stays, as one
 * primitive (scipy.ndimage.correlate1d with mode 'constant'; the blur of SSIM is two of them).
 *
 *   correlate1d(x, w, dim)[.., i, ..] = Σ_t w[t] · x[.., i + t − r, ..]     r = (K − 1) / 2
 *
 * over the taps t = 0 .. K−1 that land inside the dim (outside it x counts as 0). K is odd, so tap
 * r sits on i itself. In PyTorch terms, with n = x.shape[dim]:
 *   F.conv1d(x.movedim(dim, -1).reshape(-1, 1, n), w.view(1, 1, K), padding=K // 2)   (moved back)
 * conv1d is a correlation too (no kernel flip), which is why the name says correlate.
 *
 * Backward: the map is linear in x, and its adjoint slides the reversed taps:
 *   dx[.., j, ..] = Σ_i g[.., i, ..] · w[j − i + r] = Σ_s w[K − 1 − s] · g[.., j + s − r, ..]
 * (s = i − j + r), i.e. correlate1d(g, reversed w, dim), with the same zero padding. The taps are
 * constants: there is no gradient for them.
 *
 * Why a primitive and not a matmul by the [n, n] band matrix of w (what SSIM did before): a K-tap
 * filter costs K multiply-adds per output where the matmul costs n (11 against 64 for the world's
 * masks), and the kernels add the same products in the same order (see kernels/wasm/correlate-simd.ts).
 * Does not: even K, learnable taps, strides, dilation, or paddings other than zeros.
 * Glossary: K taps, r = (K − 1) / 2 the radius, n the length of `dim`, outer / inner the sizes before / after it.
 */
import { fmtShape, normDim, sizeOf } from '../shape.ts';
import { fromOp, type Tensor } from '../tensor.ts';

/**
 * Correlate x with the K fixed taps `weights` (K odd) along `dim`, zeros beyond both ends; same shape as x.
 *
 * @example
 * correlate1d(x, [0.25, 0.5, 0.25], -1);   // [B, H, W]: each row blurred, edges zero-padded
 */
export function correlate1d(x: Tensor, weights: ArrayLike<number>, dim: number): Tensor {
  if (x.dtype === 'int32') throw new Error('correlate1d: expected a float32 or float64 tensor, got int32');
  const w = Array.from(weights);
  if (w.length % 2 !== 1) throw new Error(`correlate1d: expected an odd number of weights, got ${w.length}`);
  if (!w.every(Number.isFinite)) throw new Error(`correlate1d: weights must be finite numbers, got [${w.join(', ')}]`);
  if (x.ndim === 0) throw new Error(`correlate1d: expected a tensor with at least one dim, got ${fmtShape(x.shape)}`);
  const d = normDim(dim, x.ndim);
  return correlateAlong(x, w, d);
}

function correlateAlong(x: Tensor, w: readonly number[], d: number): Tensor {
  const outer = sizeOf(x.shape.slice(0, d)), n = x.shape[d], inner = sizeOf(x.shape.slice(d + 1));
  const storage = x.storage.backend.correlate1d(x.storage, outer, n, inner, w);
  return fromOp(storage, x.shape, 'correlate1d', [x], (g) => [correlateAlong(g, [...w].reverse(), d)]);
}
