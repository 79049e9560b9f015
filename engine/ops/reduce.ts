/**
 * Reductions over any set of dims: sum, max (gradient through its argmax), argmax.
 *
 * The kernels only reduce the last axis of an [outer, inner] block, so the op first moves the
 * reduced dims to the end (a permute copy, skipped when they already are last), reduces, then
 * reshapes to the kept dims (with 1s in place of reduced dims when `keepdim`). A float sum over
 * leading dims skips the move: it is one matmul with a row of ones (`sumLeading`).
 *
 * `dim` omitted or an empty list `[]` reduces every dim, as torch.sum(x, dim=[]) does.
 *
 * sum backward: broadcast the gradient back over the reduced dims.
 * max backward, as torch:
 *   - over one dim (`x.max(1)`, torch.max(x, dim)): the gradient goes to the single position argmax
 *     picked (the first maximum), scattered there with the scatter-add kernel;
 *   - over all dims or a list of dims (`x.max()`, torch.amax(x, dims)): split evenly between the
 *     elements equal to the maximum (a tie of two gets half each).
 */
import { normDim, normDims, sizeOf } from '../shape.ts';
import type { Storage } from '../../kernels/backend.ts';
import { fromOp, Tensor } from '../tensor.ts';

interface Plan {
  /** x with reduced dims last, seen as [outer, inner]. */
  moved: Tensor;
  outer: number;
  inner: number;
  keptShape: number[];
  keepdimShape: number[];
  /** The permutation applied to x (identity when no move was needed). */
  perm: number[];
}

/** The dims a reduction over `dim` reduces, sorted: every dim for undefined or `[]` (as torch). */
export function reducedDims(dim: number | readonly number[] | undefined, ndim: number): number[] {
  return normDims(Array.isArray(dim) && dim.length === 0 ? undefined : dim, ndim);
}

function plan(x: Tensor, dim: number | readonly number[] | undefined): Plan {
  const dims = reducedDims(dim, x.ndim);
  const kept = [...Array(x.ndim).keys()].filter((d) => !dims.includes(d));
  const perm = [...kept, ...dims];
  const moved = perm.every((p, i) => p === i) ? x : x.permute(perm);
  const keptShape = kept.map((d) => x.shape[d]);
  const inner = sizeOf(dims.map((d) => x.shape[d]));
  const keepdimShape = x.shape.map((s, d) => (dims.includes(d) ? 1 : s));
  return { moved, outer: sizeOf(keptShape), inner, keptShape, keepdimShape, perm };
}

/**
 * The sum over `dim` (one axis, several, or all when omitted), as torch.sum; `keepdim` keeps them as size 1.
 *
 * @example
 * sum(tensor([[1, 2], [3, 4]]), 1);         // [3, 7]
 * sum(tensor([[1, 2], [3, 4]]), [0, 1], true); // [[10]]
 */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = reducedDims(dim, x.ndim);
  const leading = dims.every((d, i) => d === i) && dims.length < x.ndim && x.dtype !== 'int32';
  const p = leading ? null : plan(x, dim);
  const storage = p ? x.storage.backend.reduce('sum', p.moved.storage, p.outer, p.inner) : sumLeading(x, dims.length);
  const keptShape = x.shape.filter((_, d) => !dims.includes(d));
  const keepdimShape = x.shape.map((s, d) => (dims.includes(d) ? 1 : s));
  return fromOp(storage, keepdim ? keepdimShape : keptShape, 'sum', [x], (g) => [
    g.reshape(keepdimShape).expand(x.shape),
  ]);
}

/**
 * The sum over the first `k` dims of a float tensor, seen as [R, C] -> [C]: the product ones[1, R] · x.
 * Summing leading dims is what every bias gradient and broadcast gradient does ([B·N, D] -> [D]);
 * through `reduce` it would first transpose x with a full strided copy, while the matmul kernels read
 * x in place and are the fastest loop each backend has.
 */
function sumLeading(x: Tensor, k: number): Storage {
  const R = sizeOf(x.shape.slice(0, k)), C = sizeOf(x.shape.slice(k));
  const backend = x.storage.backend;
  const ones = backend.full(R, 1, x.dtype);
  const out = backend.matmul(ones, x.storage, { batch: 1, m: 1, k: R, n: C, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false });
  backend.dispose(ones);
  return out;
}

/**
 * The maximum over `dim` (all when omitted). Over one dim the gradient goes to the first maximum, as
 * torch.max(x, dim); over all dims or a list, it is split evenly between ties, as torch.amax.
 *
 * @example
 * max(tensor([[1, 5], [7, 2]]), 1);   // [5, 7]
 */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const p = plan(x, dim);
  const backend = x.storage.backend;
  const storage = backend.reduce('max', p.moved.storage, p.outer, p.inner);
  const out: Tensor = fromOp(storage, keepdim ? p.keepdimShape : p.keptShape, 'max', [x], (g) => {
    if (typeof dim !== 'number') {
      // Even split between ties: mask of the maxima / how many there are, times the gradient.
      const tie = x.eq(out.detach().reshape(p.keepdimShape));
      const share = tie.div(tie.sum(dim as number[] | undefined, true));
      return [share.mul(g.reshape(p.keepdimShape))];
    }
    const idx = backend.reduce('argmax', p.moved.storage, p.outer, p.inner);
    // [outer, 1, 1] gradients scattered into [outer, inner, 1] at the argmax positions.
    const scattered = backend.scatterAdd(g.storage, p.outer, p.inner, 1, idx, 1, [1, 0, 0]);
    const movedShape = p.perm.map((d) => x.shape[d]);
    const inverse = p.perm.map((_, i) => p.perm.indexOf(i));
    return [new Tensor(scattered, movedShape).permute(inverse)];
  });
  return out;
}

/**
 * Index of the first maximum along `dim` (over the flattened tensor when dim is omitted); int32.
 *
 * @example
 * argmax(tensor([[1, 5], [7, 2]]), 1);   // [1, 0] int32
 */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) {
    const storage = x.storage.backend.reduce('argmax', x.storage, 1, x.size);
    return new Tensor(storage, keepdim ? x.shape.map(() => 1) : []);
  }
  const p = plan(x, normDim(dim, x.ndim));
  const storage = x.storage.backend.reduce('argmax', p.moved.storage, p.outer, p.inner);
  return new Tensor(storage, keepdim ? p.keepdimShape : p.keptShape);
}
