/**
 * Shape helpers shared by the mask losses (focal.ts, dice.ts, ssim.ts): the official losses reduce
 * over rows, one row per (b, c) mask, and insist that logits and targets have one shape.
 *
 * Does: checkSameShape (a clear error naming both shapes) and asRows ([R, P] stays, [.., H, W] becomes
 *   [rows, H·W]). Does not: any arithmetic.
 *
 * Glossary: R rows (masks), P pixels per row; H, W height and width.
 */
import type { Tensor } from '../../engine/index.ts';

/** Check that `targets` and `logits` have one shape; name both in the error. */
export function checkSameShape(fn: string, logits: Tensor, targets: Tensor): void {
  if (logits.shape.length !== targets.shape.length || logits.shape.some((s, i) => s !== targets.shape[i])) {
    throw new Error(`${fn}: targets have shape [${targets.shape}], expected the logits' shape [${logits.shape}]`);
  }
}

/** The rows of the official reduction: [R, P] stays, [B, C, H, W] (any [.., H, W]) becomes [B·C, H·W]. */
export function asRows(x: Tensor): Tensor {
  if (x.ndim < 2) throw new Error(`expected logits with at least 2 dims ([R, P] or [B, C, H, W]), got [${x.shape}]`);
  if (x.ndim === 2) return x;
  return x.flatten(0, x.ndim - 3).flatten(1); // [.., H, W] -> [rows, H·W]
}
