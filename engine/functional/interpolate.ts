/**
 * Bilinear resizing of the last two axes as two matrix products, with PyTorch's semantics for
 * `F.interpolate(x, size, mode='bilinear', align_corners=False)` (no antialias).
 *
 * Does: build the [out, in] interpolation matrix of one axis (`bilinearWeights`, `bilinearMatrix`) and
 *   resize x [.., H, W] -> [.., h, w] as  Ry · x · Rxᵀ  (`resize2d`, and the torch-named `interpolate`).
 *   Bilinear interpolation is separable (interpolate rows, then columns), and each 1-D pass is linear
 *   in x, so it is a matrix. Because it is built from `matmul`, autograd differentiates it for free:
 *   the backward is Ryᵀ · g · Rx. The matrices are constants made on x's backend and in x's dtype.
 *   Used for the ViT positional-embedding grid (14x14 -> 32x32, method.md §1.3) and by the SPT decoder
 *   and loss to upsample mask logits (method.md §8 step 10).
 * Does not: antialias when shrinking (torch's default `antialias=False` does not either), the
 *   align_corners=True convention, bicubic / nearest, or resizing of images as uint8 (model/preprocess.ts).
 *
 * The 1-D rule (aten/src/ATen/native/UpSample.h, area_pixel_compute_source_index):
 *   src = (dst + 0.5) · in/out − 0.5, clamped below at 0;   i0 = floor(src), i1 = min(i0 + 1, in − 1)
 *   out[dst] = (1 − λ) · x[i0] + λ · x[i1],   λ = src − i0
 * (The pixel centres of both grids are aligned, hence the ±0.5.)
 *
 * Glossary: H, W input height and width; h, w output height and width.
 */
import type { Tensor } from '../tensor.ts';
import { constantLike } from './constant.ts';

/**
 * The [outSize, inSize] matrix whose row `dst` holds the weights that output position `dst` gives to
 * each input position (at most two non-zero entries, summing to 1). Computed in float64.
 *
 * @example
 * bilinearWeights(2, 4).length;   // 8, the [4, 2] matrix row by row
 */
export function bilinearWeights(inSize: number, outSize: number): Float64Array {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 1 || outSize < 1) {
    throw new Error(`bilinearWeights: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  }
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let dst = 0; dst < outSize; dst++) {
    const src = Math.max((dst + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const lambda = src - i0;
    m[dst * inSize + i0] += 1 - lambda;
    m[dst * inSize + i1] += lambda; // when i1 == i0 (last row) the weights add up to 1 on one entry
  }
  return m;
}

/**
 * `bilinearWeights` as a constant tensor [outSize, inSize] (no gradient), on the backend and in the
 * dtype of `like` (default: the global backend, float32).
 *
 * @example
 * bilinearMatrix(2, 4).shape;   // [4, 2]
 */
export function bilinearMatrix(inSize: number, outSize: number, like?: Tensor): Tensor {
  return constantLike(bilinearWeights(inSize, outSize), [outSize, inSize], like); // [out, in]
}

/** The transposed matrix [inSize, outSize], built directly so that no transpose copy is needed. */
function bilinearMatrixT(inSize: number, outSize: number, like: Tensor): Tensor {
  const m = bilinearWeights(inSize, outSize);
  const t = new Float64Array(m.length);
  for (let o = 0; o < outSize; o++) for (let i = 0; i < inSize; i++) t[i * outSize + o] = m[o * inSize + i];
  return constantLike(t, [inSize, outSize], like); // [in, out]
}

/**
 * Resize the last two axes of x [.., H, W] to [.., outH, outW] with bilinear interpolation
 * (torch `F.interpolate(mode='bilinear', align_corners=False)`). Differentiable in x.
 * Returns x itself when the size does not change.
 *
 *   resize2d(randn([1, 768, 14, 14]), 32, 32)   // [1, 768, 32, 32]
 */
export function resize2d(x: Tensor, outH: number, outW: number): Tensor {
  if (x.ndim < 2) throw new Error(`resize2d: expected a tensor [.., H, W], got ${x.ndim} dims`);
  const H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
  if (H === outH && W === outW) return x;
  let y = x;
  if (H !== outH) y = bilinearMatrix(H, outH, x).matmul(y); // [.., h, W]
  if (W !== outW) y = y.matmul(bilinearMatrixT(W, outW, x)); // [.., h, w]
  return y;
}

/** Options of `interpolate` (F.interpolate's `mode` and `align_corners`; one combination is supported). */
export interface InterpolateOptions {
  /** Only 'bilinear' (torch's default is 'nearest': pass the mode explicitly in torch to compare). */
  mode?: 'bilinear';
  /** Only false, the convention of F.interpolate's default and of SPT-SEG. */
  alignCorners?: false;
}

/**
 * torch `F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)` for x [.., H, W]
 * (torch wants exactly [B, C, H, W]; any leading dims work here).
 *
 *   interpolate(logits, [512, 512])   // [B, C, 32, 32] -> [B, C, 512, 512]
 */
export function interpolate(x: Tensor, size: readonly [number, number], opts: InterpolateOptions = {}): Tensor {
  const { mode = 'bilinear', alignCorners = false } = opts;
  if (mode !== 'bilinear') throw new Error(`interpolate: only mode 'bilinear' is implemented, got '${String(mode)}'`);
  if (alignCorners !== false) throw new Error('interpolate: only alignCorners = false is implemented');
  if (size.length !== 2 || !size.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new Error(`interpolate: size must be two positive integers, got [${size.join(', ')}]`);
  }
  return resize2d(x, size[0], size[1]);
}
