/**
 * Scaled dot-product attention, composed from primitives:
 *
 *   attn(Q, K, V) = softmax(Q Kᵀ · scale + mask) V,   scale = 1/√d by default
 *
 * Q [..., L, d], K [..., S, d], V [..., S, dv]; mask (additive, broadcast to [..., L, S]) holds 0
 * where attention is allowed and -Infinity (or a large negative number) where it is not.
 * Kᵀ is never materialised: the matmul kernel reads K transposed.
 */
import { Tensor } from '../tensor.ts';
import { matmulT } from '../ops/matmul.ts';
import { dropout } from './layers.ts';

/** Options of `scaledDotProductAttention`: an additive mask, the scale (default 1/√d) and attention dropout. */
export interface AttentionOptions {
  mask?: Tensor | null;
  scale?: number;
  dropoutP?: number;
  training?: boolean;
}

/**
 * softmax(q kᵀ · scale + mask) v, as torch.nn.functional.scaled_dot_product_attention: q [..., Nq, d],
 * k [..., Nk, d], v [..., Nk, dv]; scale defaults to 1/√d, an additive float mask broadcasts over the scores.
 *
 * @example
 * const out = scaledDotProductAttention(q, k, v, { mask: causalMask(77, q) });   // [B, H, 77, d]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const d = q.shape[q.ndim - 1];
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  let scores = matmulT(q, k, false, true).mul(scale); // [..., L, S]
  if (opts.mask) scores = scores.add(opts.mask);
  let attn = scores.softmax(-1);
  if (opts.dropoutP) attn = dropout(attn, opts.dropoutP, opts.training ?? true);
  return attn.matmul(v); // [..., L, dv]
}

/**
 * The additive causal mask [L, L]: 0 on and below the diagonal, -Infinity above (CLIP's text mask).
 *
 * @example
 * causalMask(3, x);   // [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]
 */
export function causalMask(length: number, like: Tensor): Tensor {
  const values = new Float64Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) values[i * length + j] = -Infinity;
  return new Tensor(like.storage.backend.fromArray(values, like.dtype), [length, length]);
}
