/**
 * Batched matmul on the GPU: C[b] = op(A[b]) · op(B[b]), one thread per output element.
 *
 * Each thread walks its dot product in blocks of KBLOCK: the products of one block are summed into
 * a fresh partial, and the partials into the total. A single running float32 total over k terms
 * loses about k·eps relative to the largest partial sums; blocking cuts that to roughly
 * (KBLOCK + k / KBLOCK)·eps, which keeps k = 4096 products within the 1e-4 tolerance of the spec.
 * The last k mod KBLOCK products form one short block, so no loop needs a per-iteration bounds test.
 *
 * Transposes and batch broadcasting are strides, exactly as in kernels/cpu/matmul.ts: element
 * (i, p) of op(A[b]) is at b·aBatchStride + i·aRow + p·aCol, and (p, j) of op(B[b]) at
 * b·bBatchStride + p·bRow + j·bCol. What this is not: a shared-memory tiled GEMM. gpu.js exposes no
 * workgroup memory, so every thread reads its row and column from the texture; see
 * bench/gpu/matmul.bench.ts for what that costs.
 */
import type { MatmulArgs } from '../backend.ts';
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';

/** Products summed per partial. */
export const KBLOCK = 32;

interface MatmulConstants {
  m: number; n: number;
  /** Full blocks and the length of the last, short one (k = blocks·block + tail). */
  blocks: number; block: number; tail: number;
  aBatch: number; aRow: number; aCol: number;
  bBatch: number; bRow: number; bCol: number;
}

export function matmulKernel(this: KernelThis<MatmulConstants>, a: Float32Array, b: Float32Array): number {
  // flat index -> (batch bi, row i, column j) of the [batch, m, n] output (exact: see strided.ts)
  let q = Math.floor(this.thread.x / this.constants.n);
  let j = this.thread.x - q * this.constants.n;
  if (j < 0) { q = q - 1; j = j + this.constants.n; }
  if (j >= this.constants.n) { q = q + 1; j = j - this.constants.n; }
  let bi = Math.floor(q / this.constants.m);
  let i = q - bi * this.constants.m;
  if (i < 0) { bi = bi - 1; i = i + this.constants.m; }
  if (i >= this.constants.m) { bi = bi + 1; i = i - this.constants.m; }

  // ia walks row i of op(A), ib column j of op(B). Stepping them (instead of computing
  // start + p * step per product) measured ~1.3x faster in webasm mode (bench/gpu/matmul.bench.ts).
  let ia = bi * this.constants.aBatch + i * this.constants.aRow;
  let ib = bi * this.constants.bBatch + j * this.constants.bCol;
  let total = 0;
  for (let blk = 0; blk < this.constants.blocks; blk++) {
    let part = 0;
    for (let u = 0; u < this.constants.block; u++) {
      part = part + a[ia] * b[ib];
      ia = ia + this.constants.aCol;
      ib = ib + this.constants.bRow;
    }
    total = total + part;
  }
  let last = 0;
  for (let u = 0; u < this.constants.tail; u++) {
    last = last + a[ia] * b[ib];
    ia = ia + this.constants.aCol;
    ib = ib + this.constants.bRow;
  }
  return total + last;
}

/** `out` ([batch, m, n], on the device) = op(a) · op(b). */
export function matmulGpu(r: KernelRunner, a: GpuStorage, b: GpuStorage, args: MatmulArgs, out: GpuStorage): void {
  const { m, k, n, transA, transB } = args;
  const blocks = Math.floor(k / KBLOCK);
  const constants: MatmulConstants = {
    m, n, blocks, block: KBLOCK, tail: k - blocks * KBLOCK,
    aBatch: args.aBatchStride, aRow: transA ? 1 : k, aCol: transA ? m : 1,
    bBatch: args.bBatchStride, bRow: transB ? 1 : n, bCol: transB ? k : 1,
  };
  r.launch({
    name: 'matmul', source: matmulKernel, constants: { ...constants }, size: out.size, args: [a, b],
    loopMax: Math.max(blocks, KBLOCK),
  }, out);
}
