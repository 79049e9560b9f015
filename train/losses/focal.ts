/**
 * Sigmoid focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"), as SPT-SEG and
 * ZegCLIP use it for the mask logits (method.md §3.2; [SPT] `models/losses/criterion.py`
 * `sigmoid_focal_loss`, itself the DETR / MaskFormer function).
 *
 * Does: per element (x a logit, t ∈ [0, 1] its binary target, p = σ(x))
 *     ce   = BCEWithLogits(x, t) = max(x, 0) − x·t + log(1 + e^{−|x|})
 *     p_t  = p·t + (1 − p)(1 − t)                 (the probability given to the true answer)
 *     α_t  = α·t + (1 − α)(1 − t)                 (α = 0.25: positives 0.25, negatives 0.75)
 *     loss = α_t · (1 − p_t)^γ · ce               (γ = 2 down-weights the easy elements)
 *   then the official reduction: the mean over the last axis (pixels) of each row, the sum over the
 *   rows (the (b, c) masks), divided by numMasks. Inputs [R, P] or [B, C, H, W] (then every (b, c)
 *   is a row of H·W pixels). An optional `weight` (1 = counted, 0 = left out) turns the per-row mean
 *   into a mean over the counted pixels only: the corrected ignore mode of sptLoss (spt-loss.ts).
 * Does not: build the targets from labels (spt-loss.ts), or upsample.
 *
 * Composed from engine primitives, so autograd supplies the backward.
 * Glossary: R rows (masks), P pixels per row; B batch, C classes, H, W height and width.
 */
import { binaryCrossEntropyWithLogits, type Tensor } from '../../engine/index.ts';
import { asRows, checkSameShape } from './rows.ts';

export interface FocalOptions {
  /** Weight of the positives (negatives get 1 − alpha); a negative value turns the weighting off. */
  alpha?: number;
  /** Focusing exponent of (1 − p_t). */
  gamma?: number;
  /**
   * Per-element weights broadcastable to the logits (0 leaves a pixel out). The mean of each row then
   * divides by the row's total weight (at least 1) instead of by the number of pixels.
   */
  weight?: Tensor;
}

/**
 * sigmoid_focal_loss(inputs, targets, num_masks, alpha, gamma) of the official code: a scalar.
 *
 *   sigmoidFocalLoss(logits, onehot, 3)      // logits, onehot [B, C, H, W]; 3 masks in the batch
 */
export function sigmoidFocalLoss(logits: Tensor, targets: Tensor, numMasks: number, opts: FocalOptions = {}): Tensor {
  const { alpha = 0.25, gamma = 2, weight } = opts;
  checkSameShape('sigmoidFocalLoss', logits, targets);
  if (!(numMasks > 0)) throw new Error(`sigmoidFocalLoss: numMasks must be positive, got ${numMasks}`);
  if (!(gamma >= 0)) throw new Error(`sigmoidFocalLoss: gamma must be >= 0, got ${gamma}`);
  const x = asRows(logits); // [R, P]
  const t = asRows(targets.to(logits.dtype)); // [R, P]
  const ce = binaryCrossEntropyWithLogits(x, t, 'none'); // [R, P]
  const p = x.sigmoid();
  const pt = p.mul(t).add(p.neg().add(1).mul(t.neg().add(1))); // [R, P]
  const q = pt.neg().add(1); // 1 − p_t
  // (1 − p_t)^γ: γ = 2 as a product (no pow), γ = 0 as 1 (pow's gradient would be 0·q⁻¹ = NaN at q = 0).
  const modulating = gamma === 0 ? null : gamma === 2 ? q.mul(q) : gamma === 1 ? q : q.pow(gamma);
  let loss = modulating === null ? ce : ce.mul(modulating); // [R, P]
  if (alpha >= 0) loss = loss.mul(t.mul(alpha).add(t.neg().add(1).mul(1 - alpha))); // α_t · loss
  let perRow: Tensor; // [R]
  if (weight === undefined) {
    perRow = loss.mean(1);
  } else {
    const w = asRows(weight.to(logits.dtype).expand(logits.shape)); // [R, P]
    perRow = loss.mul(w).sum(1).div(w.sum(1).maximum(1));
  }
  return perRow.sum().div(numMasks);
}
