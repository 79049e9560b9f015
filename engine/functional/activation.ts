/**
 * Activations and normalised exponentials, composed from primitives (no hand-written backward):
 *
 *   softmax(x)    = exp(x - max) / Σ exp(x - max)      (max subtracted for stability; it is
 *                                                       detached: softmax does not depend on it)
 *   logSoftmax(x) = (x - max) - log Σ exp(x - max)
 *   gelu(x)       = x · Φ(x) = ½ x (1 + erf(x/√2)),  or the tanh approximation
 *   quickGelu(x)  = x · σ(1.702 x)                     (CLIP's activation)
 */
import type { Tensor } from '../tensor.ts';

/**
 * exp(x) / Σ exp(x) along `dim`, with the maximum subtracted first (composed from primitives).
 *
 * @example
 * softmax(tensor([[1, 1]]), -1);   // [[0.5, 0.5]]
 */
export function softmax(x: Tensor, dim: number): Tensor {
  const e = x.sub(x.max(dim, true).detach()).exp();
  return e.div(e.sum(dim, true));
}

/**
 * log(softmax(x)) along `dim`, computed as x - max - log Σ exp(x - max) so it never overflows.
 *
 * @example
 * logSoftmax(tensor([[0, 0]]), 1);   // [[-0.6931, -0.6931]]
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const shifted = x.sub(x.max(dim, true).detach());
  return shifted.sub(shifted.exp().sum(dim, true).log());
}

/**
 * GELU, as torch.nn.functional.gelu: x · Φ(x) with the erf, or the tanh approximation.
 *
 * @example
 * gelu(tensor([1]));           // [0.8413]
 * gelu(tensor([1]), 'tanh');   // [0.8412]
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'tanh') {
    // ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(inner.tanh().add(1)).mul(0.5);
  }
  return x.mul(x.mul(Math.SQRT1_2).erf().add(1)).mul(0.5);
}

/**
 * x · sigmoid(1.702 x), the GELU approximation OpenAI's CLIP was trained with.
 *
 * @example
 * quickGelu(tensor([1]));   // [0.8458]
 */
export function quickGelu(x: Tensor): Tensor {
  return x.mul(x.mul(1.702).sigmoid());
}
