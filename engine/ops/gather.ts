/**
 * Indexing primitives: torch.gather, index_select, and embedding lookup (index_select on rows).
 *
 * All three view the source as [outer, n, inner] around the indexed dim and read an int32 index;
 * the backward of each is the kernel `scatterAdd`, which adds each output gradient back into the
 * row it was read from (rows read twice get both gradients).
 */
import { fmtShape, normDim, sizeOf } from '../shape.ts';
import { fromOp, Tensor } from '../tensor.ts';

function checkIndex(index: Tensor, what: string): void {
  if (index.dtype !== 'int32') throw new Error(`${what}: index must be an int32 tensor (use .int()), got ${index.dtype}`);
}

/**
 * out[..., j, ...] = x[..., index[..., j, ...], ...] along `dim`. `index` has x's shape except
 * along `dim` (a simplification of torch.gather, which also allows smaller sizes elsewhere).
 *
 * @example
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]], { dtype: 'int32' }));   // [[2], [3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex(index, 'gather');
  const d = normDim(dim, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    throw new Error(`gather: index shape ${fmtShape(index.shape)} must match input shape ${fmtShape(x.shape)} except in dim ${d}`);
  }
  const outer = sizeOf(x.shape.slice(0, d));
  const inner = sizeOf(x.shape.slice(d + 1));
  const n = x.shape[d], m = index.shape[d];
  const idxStrides = [m * inner, inner, 1];
  const backend = x.storage.backend;
  const storage = backend.gather(x.storage, outer, n, inner, index.storage, m, idxStrides);
  return fromOp(storage, index.shape, 'gather', [x], (g) => [
    new Tensor(backend.scatterAdd(g.storage, outer, n, inner, index.storage, m, idxStrides), x.shape),
  ]);
}

/**
 * Pick the entries `index` (1-D, int32) along `dim`, like torch.index_select.
 *
 * @example
 * indexSelect(tensor([[1, 2], [3, 4]]), 0, tensor([1, 1], { dtype: 'int32' }));   // [[3, 4], [3, 4]]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex(index, 'indexSelect');
  if (index.ndim !== 1) throw new Error(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  const d = normDim(dim, x.ndim);
  const outer = sizeOf(x.shape.slice(0, d));
  const inner = sizeOf(x.shape.slice(d + 1));
  const n = x.shape[d], m = index.size;
  const idxStrides = [0, 1, 0]; // the same index row for every outer and inner position
  const backend = x.storage.backend;
  const storage = backend.gather(x.storage, outer, n, inner, index.storage, m, idxStrides);
  const shape = x.shape.map((s, i) => (i === d ? m : s));
  return fromOp(storage, shape, 'indexSelect', [x], (g) => [
    new Tensor(backend.scatterAdd(g.storage, outer, n, inner, index.storage, m, idxStrides), x.shape),
  ]);
}

/**
 * Rows of `weight` [V, D] for integer ids of any shape: returns [...ids.shape, D].
 *
 * @example
 * embedding(tensor([[0, 2]], { dtype: 'int32' }), randn([5, 8]));   // shape [1, 2, 8]
 */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be [V, D], got ${fmtShape(weight.shape)}`);
  const flat = ids.reshape([ids.size]);
  return indexSelect(weight, 0, flat).reshape([...ids.shape, weight.shape[1]]);
}

