/**
 * Dice loss on sigmoid probabilities (Milletari et al. 2016, V-Net), the official `dice_loss` of
 * DETR / MaskFormer that ZegCLIP uses and SPT-SEG keeps but does not return (method.md §3.4).
 *
 * Does: p = σ(logits); per row (mask) r, over its pixels,
 *     dice_r = 1 − (2·Σ p·t + 1) / (Σ p + Σ t + 1)          (the +1 keeps empty masks finite)
 *   summed over the rows and divided by numMasks. Inputs [R, P] or [B, C, H, W] (rows = the (b, c)
 *   masks). An optional `weight` (0 = left out) multiplies p and t before the sums, dropping those
 *   pixels entirely (the corrected ignore mode of spt-loss.ts).
 * Does not: the generalized (class-weighted) dice, or building targets.
 *
 * Composed from engine primitives, so autograd supplies the backward.
 * Glossary: R rows (masks), P pixels per row; B batch, C classes, H, W height and width.
 */
import type { Tensor } from '../../engine/index.ts';
import { asRows, checkSameShape } from './rows.ts';

/** Options of `diceLoss`. */
export interface DiceOptions {
  /** Per-element weights broadcastable to the logits (0 leaves a pixel out of every sum). */
  weight?: Tensor;
}

/**
 * dice_loss(inputs, targets, num_masks) of the official code: a scalar.
 *
 *   diceLoss(logits, onehot, 3)      // logits, onehot [B, C, H, W]; 3 masks in the batch
 */
export function diceLoss(logits: Tensor, targets: Tensor, numMasks: number, opts: DiceOptions = {}): Tensor {
  checkSameShape('diceLoss', logits, targets);
  if (!(numMasks > 0)) throw new Error(`diceLoss: numMasks must be positive, got ${numMasks}`);
  let p = asRows(logits.sigmoid()); // [R, P]
  let t = asRows(targets.to(logits.dtype)); // [R, P]
  if (opts.weight !== undefined) {
    const w = asRows(opts.weight.to(logits.dtype).expand(logits.shape)); // [R, P]
    p = p.mul(w);
    t = t.mul(w);
  }
  const numerator = p.mul(t).sum(1).mul(2); // [R]
  const denominator = p.sum(1).add(t.sum(1)); // [R]
  const perRow = numerator.add(1).div(denominator.add(1)).neg().add(1); // [R]
  return perRow.sum().div(numMasks);
}
