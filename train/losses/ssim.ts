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
 * Why two 1-D filters: the 2-D window is the outer product g gᵀ of the 1-D window g, so the 2-D
 * filter is the 1-D filter g along H followed by g along W (`correlate1d`, engine/ops/correlate.ts,
 * zero-padded like the official conv2d): 2·11 multiply-adds per pixel instead of 121, and autograd
 * differentiates it for free (its backward is the same filter reversed; g is symmetric). An earlier
 * version multiplied by [n, n] band matrices, Gh · X · Gwᵀ; the filters give the same float32 sums
 * bit for bit on the wasm backend, at a sixth of the work on the world's 64 × 64 masks
 * (see kernels/wasm/correlate-simd.ts).
 *
 * Glossary: B batch, C channels (classes), H, W height and width, r the window radius.
 */
import { correlate1d, type Tensor } from '../../engine/index.ts';
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
  const g = gaussianWindow(windowSize, sigma);
  const blur = (z: Tensor) => correlate1d(correlate1d(z, g, -2), g, -1); // [.., H, W]: along H, then W
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
