/**
 * Movement primitives: reshape, permute, expand, flip (and their sugar: flatten, transpose,
 * squeeze, unsqueeze). Each is one strided `copy` in the backend, except reshape, which shares the
 * dense storage. Backward of each is its inverse movement:
 *
 *   reshape ↔ reshape back      permute ↔ inverse permutation
 *   expand  → sum over expanded axes      flip ↔ flip
 */
import { broadcastShapes, denseStrides, fmtShape, normDim, normDims, shapesEqual, sizeOf } from '../shape.ts';
import { fromOp, Tensor } from '../tensor.ts';
import { unbroadcast } from './unbroadcast.ts';

/**
 * Same numbers, new shape. One entry may be -1 (inferred). Shares storage: no copy.
 *
 * @example
 * reshape(arange(6), [2, -1]);   // shape [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const infer = target.indexOf(-1);
  if (infer !== -1) {
    const known = sizeOf(target.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) throw new Error(`shape ${fmtShape(shape)} is invalid for input of size ${x.size}`);
    target[infer] = x.size / known;
  }
  if (sizeOf(target) !== x.size || target.some((d) => d < 0 || !Number.isInteger(d))) {
    throw new Error(`shape ${fmtShape(shape)} is invalid for input of size ${x.size} (shape ${fmtShape(x.shape)})`);
  }
  if (shapesEqual(target, x.shape)) return x;
  return fromOp(x.storage, target, 'reshape', [x], (g) => [g.reshape(x.shape)]);
}

/**
 * Merge dims `startDim`..`endDim` (inclusive) into one, as torch.flatten.
 *
 * @example
 * flatten(zeros([2, 3, 4]), 1);   // shape [2, 12]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim);
  const e = normDim(endDim, x.ndim);
  const merged = sizeOf(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/**
 * Insert a dim of size 1 at `dim` (negative counts from the end of the result), as torch.unsqueeze.
 *
 * @example
 * unsqueeze(zeros([2, 3]), 1);    // shape [2, 1, 3]
 * unsqueeze(zeros([2, 3]), -1);   // shape [2, 3, 1]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/**
 * Drop `dim` if it has size 1 (all size-1 dims when omitted), like torch.squeeze.
 *
 * @example
 * squeeze(zeros([1, 3, 1]));      // shape [3]
 * squeeze(zeros([1, 3, 1]), 0);   // shape [3, 1]
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((s) => s !== 1));
  const d = normDim(dim, x.ndim);
  if (x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/**
 * Reorder the axes: output axis i is input axis dims[i].
 *
 * @example
 * permute(zeros([2, 3, 4]), [2, 0, 1]);   // shape [4, 2, 3]
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const perm = dims.map((d) => normDim(d, x.ndim));
  if (perm.length !== x.ndim || new Set(perm).size !== perm.length) {
    throw new Error(`permute: dims [${dims}] is not a permutation of the ${x.ndim} dims of shape ${fmtShape(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const inStrides = denseStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const storage = x.storage.backend.copy({ storage: x.storage, offset: 0, strides: perm.map((p) => inStrides[p]) }, shape);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return fromOp(storage, shape, 'permute', [x], (g) => [permute(g, inverse)]);
}

/**
 * Swap two dims, as torch.transpose (a permute of two axes).
 *
 * @example
 * transpose(zeros([2, 3, 4]), 0, -1);   // shape [4, 3, 2]
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const perm = [...Array(x.ndim).keys()];
  const a = normDim(dim0, x.ndim), b = normDim(dim1, x.ndim);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/**
 * Repeat size-1 axes (and prepend new ones) to reach `shape`; -1 keeps a size.
 *
 * @example
 * expand(tensor([[1], [2]]), [2, 3]);   // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new Error(`expand: target ${fmtShape(shape)} has fewer dims than ${fmtShape(x.shape)}`);
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - lead] : s));
  if (!shapesEqual(broadcastShapes(x.shape, target), target)) {
    throw new Error(`expand: shape ${fmtShape(x.shape)} cannot be expanded to ${fmtShape(shape)}`);
  }
  if (shapesEqual(target, x.shape)) return x;
  const inStrides = denseStrides(x.shape);
  const strides = target.map((s, i) => (i < lead || (x.shape[i - lead] === 1 && s !== 1) ? 0 : inStrides[i - lead]));
  const storage = x.storage.backend.copy({ storage: x.storage, offset: 0, strides }, target);
  return fromOp(storage, target, 'expand', [x], (g) => [unbroadcast(g, x.shape)]);
}

/**
 * Reverse the order of elements along `dims`: a copy with negative strides.
 *
 * @example
 * flip(tensor([1, 2, 3]), 0);   // [3, 2, 1]
 */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const ds = normDims(dims, x.ndim);
  const strides = denseStrides(x.shape);
  let offset = 0;
  for (const d of ds) {
    offset += (x.shape[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  const storage = x.storage.backend.copy({ storage: x.storage, offset, strides }, x.shape);
  return fromOp(storage, x.shape, 'flip', [x], (g) => [flip(g, ds)]);
}
