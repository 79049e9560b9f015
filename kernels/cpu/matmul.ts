/**
 * Reference batched matmul: C[b] = op(A[b]) · op(B[b]). The plain triple loop, ordered i-p-j so
 * the innermost loop walks B and C rows contiguously, or i-j-p (dot products) when B is stored
 * transposed, as in every `linear`. Accumulates in JS doubles.
 * This is the oracle that the WebAssembly and GPU matmuls are tested against.
 */
import { type DType, type MatmulArgs, type TypedArray } from '../backend.ts';
import { allocArray } from './pool.ts';

export function matmul(a: TypedArray, b: TypedArray, args: MatmulArgs, dtype: DType): TypedArray {
  const { batch, m, k, n, aBatchStride, bBatchStride, transA, transB } = args;
  const out = allocArray(dtype, batch * m * n);
  const row = new Float64Array(n);
  // Element (i, p) of op(A) and (p, j) of op(B), as offsets inside one matrix.
  const aRow = transA ? 1 : k, aCol = transA ? m : 1;
  const bRow = transB ? 1 : n, bCol = transB ? k : 1;
  for (let bi = 0; bi < batch; bi++) {
    const a0 = bi * aBatchStride, b0 = bi * bBatchStride, c0 = bi * m * n;
    if (transB && !transA) {
      // A row and B (stored [n, k]) row are both contiguous: C[i, j] is one dot product.
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += a[a0 + i * k + p] * b[b0 + j * k + p];
          out[c0 + i * n + j] = acc;
        }
      }
      continue;
    }
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[a0 + i * aRow + p * aCol];
        if (av === 0) continue;
        const bp = b0 + p * bRow;
        for (let j = 0; j < n; j++) row[j] += av * b[bp + j * bCol];
      }
      for (let j = 0; j < n; j++) out[c0 + i * n + j] = row[j];
    }
  }
  return out;
}
