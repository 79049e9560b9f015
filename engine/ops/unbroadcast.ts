/**
 * `unbroadcast`: the backward of broadcasting, shared by every op whose forward broadcasts its inputs
 * (the binary ops, `where`, batched `matmul`, `expand`).
 *
 * A gradient arrives with the broadcast output shape; an input that was broadcast along an axis was
 * read once per position of that axis, so its gradient is the sum over it. The axes are the leading
 * ones broadcasting added, and those where the input had size 1 and the output did not.
 *
 * Does not: check that `shape` broadcasts to `g.shape` (callers pass the shape their forward
 * broadcast from).
 */
import { shapesEqual } from '../shape.ts';
import type { Tensor } from '../tensor.ts';

/** Sum `g` over the axes that broadcasting added or stretched, giving a gradient of `shape`. */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  return g.sum(dims, true).reshape(shape);
}
