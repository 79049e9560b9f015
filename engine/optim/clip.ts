/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_:
 *   total = √(Σ over all grads of Σ g²);  every grad ← grad · min(1, maxNorm / (total + 1e-6))
 * Returns the total norm before clipping (useful to log).
 */
import { noGrad } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';

export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    let sq = 0;
    for (const g of grads) sq += g.mul(g).sum().item();
    const total = Math.sqrt(sq);
    const coef = Math.min(1, maxNorm / (total + 1e-6));
    if (coef < 1) for (const p of params) if (p.grad) p.grad = p.grad.mul(coef);
    return total;
  });
}
