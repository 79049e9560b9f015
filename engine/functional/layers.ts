/**
 * Layer functions composed from primitives: linear, layer norm, dropout.
 *
 *   linear(x, W, b)  = x · Wᵀ + b            W is [out, in], as PyTorch stores it
 *   layerNorm(x)     = (x - μ) / √(σ² + eps) · weight + bias   over the last dims (biased σ²)
 *   dropout(x, p)    = x · mask / (1 - p),  mask ~ Bernoulli(1 - p) from the seeded generator
 */
import { defaultGenerator, type Generator } from '../rng.ts';
import { fmtShape, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { matmulT } from '../ops/matmul.ts';

/**
 * x @ weightᵀ + bias, as torch.nn.functional.linear: weight is [out, in], x is [..., in].
 *
 * @example
 * linear(randn([4, 3]), randn([2, 3]), zeros([2]));   // shape [4, 2]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const [out, inF] = weight.shape;
  if (weight.ndim !== 2 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(`linear: input ${fmtShape(x.shape)} does not fit weight ${fmtShape(weight.shape)} (expected last dim ${inF})`);
  }
  // Flatten the leading dims so one matrix product does all rows; W is read transposed in place.
  const rows = x.reshape([-1, inF]);
  let y = matmulT(rows, weight, false, true);
  if (bias) y = y.add(bias);
  return y.reshape([...x.shape.slice(0, -1), out]);
}

/**
 * Normalise over the last `weight.ndim` dims (or `normalizedShape`), then scale and shift.
 *
 * @example
 * layerNorm(x, weight, bias);   // x [B, N, 768], weight and bias [768]
 */
export function layerNorm(
  x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5, normalizedShape?: readonly number[],
): Tensor {
  const shape = normalizedShape ?? weight?.shape ?? [x.shape[x.ndim - 1]];
  const dims = shape.map((_, i) => x.ndim - shape.length + i);
  if (dims.some((d, i) => d < 0 || x.shape[d] !== shape[i])) {
    throw new Error(`layerNorm: input ${fmtShape(x.shape)} does not end with normalized shape ${fmtShape(shape)}`);
  }
  const mean = x.mean(dims, true);
  const centered = x.sub(mean);
  const variance = centered.mul(centered).mean(dims, true);
  let y = centered.div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/**
 * Inverted dropout; identity when not training or p = 0.
 *
 * @example
 * dropout(x, 0.1, model.training);   // identity in eval mode
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const keep = new Float64Array(sizeOf(x.shape));
  for (let i = 0; i < keep.length; i++) keep[i] = generator.random() < p ? 0 : 1 / (1 - p);
  const mask = new Tensor(x.storage.backend.fromArray(keep, x.dtype), x.shape);
  return x.mul(mask);
}

