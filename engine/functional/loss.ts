/**
 * Losses composed from primitives.
 *
 *   crossEntropy(logits [N, C, ...], target [N, ...] int32)
 *       = mean over non-ignored positions of  -log softmax(logits)[target]
 *     The pick is done with a one-hot mask (target == class index), so ignored targets (ignoreIndex,
 *     e.g. -100 or 255) select nothing and are excluded from the mean. Other out-of-range targets
 *     are an error, as in PyTorch.
 *   binaryCrossEntropyWithLogits(x, y) = max(x, 0) - x·y + log(1 + e^{-|x|})   (stable form)
 */
import { arange } from '../creation.ts';
import { fmtShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/** How a loss reduces its per-element values, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of `crossEntropy` (torch's `ignore_index`, `reduction`). */
export interface CrossEntropyOptions {
  /** Target value that contributes nothing (default -100, as PyTorch). */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/**
 * Softmax cross-entropy, as torch.nn.functional.cross_entropy: logits [N, C, ...], int32 class targets
 * [N, ...]; targets equal to `ignoreIndex` contribute nothing, and 'mean' divides by the others' count.
 *
 * @example
 * crossEntropy(tensor([[2, 0], [0, 2]]), tensor([0, 1], { dtype: 'int32' }));   // 0.1269
 * crossEntropy(logits, labels, { ignoreIndex: 255, reduction: 'sum' });
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = opts;
  if (logits.ndim < 2) throw new Error(`crossEntropy: logits must be [N, C, ...], got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  const spatial = logits.shape.slice(2);
  if (target.ndim !== logits.ndim - 1 || target.shape[0] !== n || target.shape.slice(1).some((s, i) => s !== spatial[i])) {
    throw new Error(`crossEntropy: target shape ${fmtShape(target.shape)} does not match logits ${fmtShape(logits.shape)} (expected [${[n, ...spatial]}])`);
  }
  for (const v of target.data()) {
    if (v !== ignoreIndex && (v < 0 || v >= c || !Number.isInteger(v))) {
      throw new RangeError(`crossEntropy: target ${v} is out of bounds for ${c} classes (and is not ignoreIndex ${ignoreIndex})`);
    }
  }
  const t = target.to(logits.dtype).unsqueeze(1); // [N, 1, ...]
  const classes = arange(c, undefined, 1, { dtype: logits.dtype, like: logits }).reshape([1, c, ...spatial.map(() => 1)]);
  const onehot = t.eq(classes); // [N, C, ...]; all zero where the target is ignored
  const valid = target.ne(ignoreIndex).to(logits.dtype);
  const picked = logits.logSoftmax(1).mul(onehot).sum(1).neg(); // [N, ...]
  if (reduction === 'none') return picked;
  if (reduction === 'sum') return picked.sum();
  return picked.sum().div(valid.sum());
}

/**
 * Sigmoid + binary cross-entropy in one stable formula, as torch.nn.functional.binary_cross_entropy_with_logits:
 * max(x, 0) - x·y + log(1 + e^-|x|).
 *
 * @example
 * binaryCrossEntropyWithLogits(tensor([0]), tensor([1]));   // 0.6931
 */
export function binaryCrossEntropyWithLogits(x: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor {
  // maximum(x, 0) rather than relu: its tie rule gives d/dx = ½ at x = 0, the true derivative there
  // (abs contributes 0 at 0), so zero logits (a zero-initialised head) get σ(0) - y as in PyTorch.
  const loss = x.maximum(0).sub(x.mul(y)).add(x.abs().neg().exp().add(1).log());
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.mean();
}

/**
 * (x - y)², reduced by mean (default), sum or none, as torch.nn.functional.mse_loss.
 *
 * @example
 * mseLoss(tensor([1, 2]), tensor([1, 4]));   // 2
 */
export function mseLoss(x: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor {
  const d = x.sub(y);
  const loss = d.mul(d);
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.mean();
}
