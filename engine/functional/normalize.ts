/**
 * L2 normalization along one dim, `F.normalize(x, p=2, dim=1, eps=1e-12)`, composed from primitives:
 *
 *   normalize(x) = x / max(‖x‖₂, eps)      (the norm taken over `dim`, kept as a size-1 dim)
 *
 * Autograd differentiates it through norm, clamp and div. As in torch, a vector whose norm is below
 * eps is divided by eps (so zero stays zero) and the clamp blocks the gradient through its norm.
 * Does: p = 2 only. Does not: other p, or an `out` argument.
 */
import type { Tensor } from '../tensor.ts';
import { clamp } from '../ops/where.ts';
import { norm } from './stats.ts';

/** Options of `normalize` (F.normalize's `p`, `dim`, `eps`). */
export interface NormalizeOptions {
  /** Only 2 (the default of torch). */
  p?: 2;
  /** The dim to normalize over. Default 1, as torch's F.normalize (CLIP features use dim = -1). */
  dim?: number;
  /** Lower bound on the norm (default 1e-12, as torch). */
  eps?: number;
}

/**
 * x / max(‖x‖₂ over dim, eps), like `torch.nn.functional.normalize`. Mind the default dim = 1.
 *
 *   normalize(features, { dim: -1 })   // [N, D] rows of unit length
 */
export function normalize(x: Tensor, opts: NormalizeOptions = {}): Tensor {
  const { p = 2, dim = 1, eps = 1e-12 } = opts;
  if (p !== 2) throw new Error(`normalize: only p = 2 is implemented, got ${String(p)}`);
  if (x.ndim === 0) throw new Error('normalize: expected at least one dim, got a scalar');
  if (!Number.isInteger(dim) || dim < -x.ndim || dim >= x.ndim) {
    throw new Error(`normalize: dim ${dim} out of range for a ${x.ndim}-d tensor [${x.shape.join(', ')}]`);
  }
  return x.div(clamp(norm(x, dim, true), eps));
}
