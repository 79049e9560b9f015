/**
 * SSIM (Wang et al. 2004, "Image Quality Assessment: From Error Visibility to Structural Similarity")
 * with a Gaussian window, and the SSIM loss 1 − SSIM that SPT-SEG puts on the RAW mask logits against
 * the one-hot targets (method.md §3.3; [SPT] `models/losses/criterion.py`, the pytorch-ssim code).
 *
 * Does: for x, y [.., H, W] (e.g. [B, C, H, W]; every [H, W] plane is one channel, so the filter is
 *   depthwise per class, like F.conv2d(groups = C)), with blur = the 11 × 11 Gaussian window (σ 1.5,
 *   normalised to sum 1) applied with zero padding 5 so that the output keeps the size H × W:
 *     μx = blur(x), μy = blur(y),  σx² = blur(x²) − μx²,  σy² = blur(y²) − μy²,  σxy = blur(x·y) − μx·μy
 *     ssim_map = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C1 = 0.01², C2 = 0.03²
 *   and SSIM = the mean of ssim_map over everything (B, C, H, W), or a weighted mean (the corrected
 *   ignore mode of spt-loss.ts). C1 and C2 assume a dynamic range of 1, which logits do not respect:
 *   that is the official behaviour, kept on purpose.
 * Does not: the sample-covariance correction (skimage's default; the official code has none), or
 *   cropping the borders (skimage averages over the interior only; see test/train/losses.test.ts).
 *
 * Why matrices: the 2-D window is the outer product g gᵀ of the 1-D window g, so the 2-D filter is a
 * 1-D filter along H followed by one along W. A zero-padded 1-D filter of a length-n axis is linear,
 * so it is an [n, n] matrix: row i holds g centred on i, cut off at the borders (that cut is exactly the
 * zero padding),
 *     G[i, j] = g[j − i + r]  when |j − i| <= r (r = 5),  else 0        (a band matrix)
 * and the whole blur of a plane X [H, W] is  Gh · X · Gwᵀ : two matmuls, which broadcast over the
 * leading axes and which autograd differentiates for free (the backward is Ghᵀ · dY · Gw). The band
 * matrices are constants built on the input's backend and dtype.
 *
 * Glossary: B batch, C channels (classes), H, W height and width, r the window radius.
 */
import { Tensor } from '../../engine/index.ts';
import { checkSameShape } from './rows.ts';

/** Options of the SSIM map: the Gaussian window and the stabilisers (defaults 11, 1.5, 0.01², 0.03²). */
export interface SSIMOptions {
  /** Side of the square Gaussian window (odd). */
  windowSize?: number;
  /** Standard deviation of the Gaussian, in pixels. */
  sigma?: number;
  /** Stabilisers of the luminance and contrast terms: (0.01·L)² and (0.03·L)² for a dynamic range L = 1. */
  c1?: number;
  c2?: number;
}

/** SSIMOptions plus weights for the mean. */
export interface SSIMMeanOptions extends SSIMOptions {
  /** Weights broadcastable to the SSIM map (0 leaves a position out): the mean becomes Σ w·map / Σ w. */
  weight?: Tensor;
}

/**
 * The normalised 1-D Gaussian window g[k] ∝ exp(−(k − r)² / 2σ²), k = 0 .. size−1, r = ⌊size/2⌋.
 *
 * @example
 * gaussianWindow(11, 1.5).length;   // 11, summing to 1
 */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`ssim: windowSize must be a positive odd integer, got ${size}`);
  if (!(sigma > 0)) throw new Error(`ssim: sigma must be positive, got ${sigma}`);
  const r = (size - 1) / 2;
  const g = new Float64Array(size);
  let total = 0;
  for (let k = 0; k < size; k++) total += g[k] = Math.exp(-((k - r) ** 2) / (2 * sigma * sigma));
  for (let k = 0; k < size; k++) g[k] /= total;
  return g;
}

/**
 * The [n, n] band matrix of the zero-padded 1-D filter g along an axis of length n (or its transpose),
 * as a constant on `like`'s backend and dtype.
 */
export function bandMatrix(n: number, g: Float64Array, like: Tensor, transposed = false): Tensor {
  const r = (g.length - 1) / 2;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - r); j <= Math.min(n - 1, i + r); j++) {
      m[transposed ? j * n + i : i * n + j] = g[j - i + r];
    }
  }
  return new Tensor(like.storage.backend.fromArray(m, like.dtype), [n, n]);
}

/**
 * The per-position SSIM map [.., H, W] of x and y (same shape). Differentiable in both.
 *
 * @example
 * ssimMap(pred, target).shape;   // [B, C, H, W]: the SSIM of each pixel's window
 */
export function ssimMap(x: Tensor, y: Tensor, opts: SSIMOptions = {}): Tensor {
  const { windowSize = 11, sigma = 1.5, c1 = 0.01 ** 2, c2 = 0.03 ** 2 } = opts;
  checkSameShape('ssim', x, y);
  if (x.ndim < 2) throw new Error(`ssim: expected tensors [.., H, W], got [${x.shape}]`);
  if (y.dtype !== x.dtype) y = y.to(x.dtype);
  const H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
  const g = gaussianWindow(windowSize, sigma);
  const gh = bandMatrix(H, g, x); // [H, H]
  const gwT = bandMatrix(W, g, x, true); // [W, W]
  const blur = (z: Tensor) => gh.matmul(z).matmul(gwT); // [.., H, W]
  const mu1 = blur(x), mu2 = blur(y); // [.., H, W]
  const mu1Sq = mu1.mul(mu1), mu2Sq = mu2.mul(mu2), mu12 = mu1.mul(mu2);
  const sigma1Sq = blur(x.mul(x)).sub(mu1Sq);
  const sigma2Sq = blur(y.mul(y)).sub(mu2Sq);
  const sigma12 = blur(x.mul(y)).sub(mu12);
  const num = mu12.mul(2).add(c1).mul(sigma12.mul(2).add(c2));
  const den = mu1Sq.add(mu2Sq).add(c1).mul(sigma1Sq.add(sigma2Sq).add(c2));
  return num.div(den); // [.., H, W]
}

/**
 * SSIM of x and y: the mean of the SSIM map over every position and channel (a scalar), or its
 * weighted mean when `weight` is given.
 *
 *   ssim(logits, onehot)      // logits, onehot [B, C, H, W] -> scalar
 */
export function ssim(x: Tensor, y: Tensor, opts: SSIMMeanOptions = {}): Tensor {
  const map = ssimMap(x, y, opts);
  if (opts.weight === undefined) return map.mean();
  const w = opts.weight.to(map.dtype).expand(map.shape);
  return map.mul(w).sum().div(w.sum().maximum(1e-12));
}

/**
 * The SSIM loss 1 − SSIM(x, y) (official `loss_ssim`).
 *
 * @example
 * const loss = ssimLoss(pred, target);   // 1 - mean SSIM
 */
export function ssimLoss(x: Tensor, y: Tensor, opts: SSIMMeanOptions = {}): Tensor {
  return ssim(x, y, opts).neg().add(1);
}
