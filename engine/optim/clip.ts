/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (norm_type 2):
 *   total = ‖(‖g₁‖, ‖g₂‖, ...)‖ = √(Σ over all grads of Σ g²)
 *   coef  = min(1, maxNorm / (total + 1e-6));   every grad ← grad · coef
 * Everything stays on the device: one norm per gradient, one add chain of their squares, the
 * coefficient computed there too (in the gradients' dtype, as torch does), and a single read of the
 * total at the end, which is returned (useful to log). Like torch, the gradients are always
 * multiplied by the clamped coefficient (by exactly 1 when the norm is within `maxNorm`).
 *
 * Each clipped gradient is a new tensor; the parameters' `.grad` are replaced, never shared.
 */
import { noGrad } from '../autograd.ts';
import { norm } from '../functional/stats.ts';
import { div } from '../ops/binary.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Scale every gradient by min(1, maxNorm / (total norm + 1e-6)), as torch.nn.utils.clip_grad_norm_;
 * returns the total norm before clipping (see the header).
 *
 * @example
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);   // then opt.step()
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => {
    const total = totalNorm(params);
    if (total === null) return 0;
    const coef = div(maxNorm, total.add(1e-6)).clamp(null, 1);
    for (const p of params) if (p.grad !== null) p.grad = p.grad.mul(coef);
    return total.item();
  });
}

/**
 * The global norm of the gradients, as clipGradNorm measures it, without changing them (what a run
 * that does not clip logs).
 *
 * @example
 * const n = gradNorm(model.parameters());
 */
export function gradNorm(params: Tensor[]): number {
  return noGrad(() => totalNorm(params)?.item() ?? 0);
}

/** √(Σ ‖g‖²) over the parameters that have a gradient, on the device; null when none has one. */
function totalNorm(params: Tensor[]): Tensor | null {
  let sq: Tensor | null = null;
  for (const p of params) {
    if (p.grad === null) continue;
    const n = norm(p.grad);
    sq = sq === null ? n.mul(n) : sq.add(n.mul(n));
  }
  return sq === null ? null : sq.sqrt(); // [] on the device
}
