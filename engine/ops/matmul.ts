/**
 * Matrix product with batch broadcasting, as torch.matmul, and the transposed variants the
 * backward pass and `linear` need (no transpose copies: the kernel reads either layout).
 *
 *   C[..., m, n] = op(A)[..., m, k] · op(B)[..., k, n],   op = identity or transpose of the last two dims
 *
 * Backward (g = dL/dC):  d op(A) = g · op(B)ᵀ,   d op(B) = op(A)ᵀ · g, then summed over the
 * batch dims an input was broadcast along. Each is again a `matmulT` call with flags flipped.
 */
import { broadcastShapes, fmtShape, shapesEqual, sizeOf } from '../shape.ts';
import { fromOp, Tensor } from '../tensor.ts';
import { unbroadcast } from './unbroadcast.ts';

/** [rows, cols] of a matrix stored with shape [..., r, c] and used transposed or not. */
function usedDims(t: Tensor, trans: boolean): [number, number] {
  const r = t.shape[t.ndim - 2], c = t.shape[t.ndim - 1];
  return trans ? [c, r] : [r, c];
}

/**
 * op(a) · op(b) for tensors of rank ≥ 2, where op transposes the last two dims when its flag is set.
 *
 * @example
 * matmulT(q, k, false, true);   // q @ kᵀ without a transposed copy
 */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (a.ndim < 2 || b.ndim < 2) throw new Error('matmulT: operands need at least 2 dims');
  if (a.dtype !== b.dtype) throw new Error(`matmul: dtype mismatch (${a.dtype} vs ${b.dtype})`);
  const [m, k] = usedDims(a, transA);
  const [k2, n] = usedDims(b, transB);
  if (k !== k2) {
    throw new Error(`matmul: shapes ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} and ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} cannot be multiplied (${m}x${k} and ${k2}x${n})`);
  }
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  // A batch operand is either complete (stride = one matrix), a single matrix (stride 0), or
  // broadcast along some batch dims only, in which case we materialise it with expand.
  const prepare = (t: Tensor): [Tensor, number] => {
    const tb = t.shape.slice(0, -2);
    const mat = t.shape[t.ndim - 2] * t.shape[t.ndim - 1];
    if (sizeOf(tb) === 1) return [t, 0];
    if (shapesEqual(tb, batchShape)) return [t, mat];
    return [t.expand([...batchShape, ...t.shape.slice(-2)]), mat];
  };
  const [ae, aStride] = prepare(a);
  const [be, bStride] = prepare(b);
  const storage = a.storage.backend.matmul(ae.storage, be.storage, {
    batch, m, k, n, aBatchStride: aStride, bBatchStride: bStride, transA, transB,
  });
  return fromOp(storage, [...batchShape, m, n], 'matmul', [a, b], (g) => {
    const ga = a.requiresGrad
      ? (transA ? matmulT(b, g, transB, true) : matmulT(g, b, false, !transB))
      : null;
    const gb = b.requiresGrad
      ? (transB ? matmulT(g, a, true, transA) : matmulT(a, g, !transA, false))
      : null;
    return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
  });
}

/**
 * torch.matmul: 1-D operands are treated as a row (left) or column (right) vector and squeezed.
 *
 * @example
 * matmul(zeros([8, 2, 3]), zeros([3, 5]));   // shape [8, 2, 5]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new Error('matmul: both operands need at least one dimension');
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  let out = matmulT(a2, b2, false, false);
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  return out;
}
