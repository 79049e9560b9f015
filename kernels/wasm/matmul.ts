/**
 * The host side of the WebAssembly float32 matmul: pack, run, copy out.
 *
 *   1. Pack: copy A and B of every batch into the shared wasm memory (a memcpy each), then pack
 *      them into panels with `pack.ts`. Transposes are handled here, by picking the packing
 *      function that matches the source layout; the microkernel only ever sees one layout. O(n²).
 *   2. Run: describe the job (how C is cut into blocks) in the shared memory and call `gemm_run`
 *      on this thread, and on the worker pool too when the product is big enough. O(n³).
 *   3. Squeeze the padding out of C inside the wasm memory and copy it out with one `slice`. O(n²).
 *
 * What it does not: float64 or int32 (the backend keeps the reference kernel for those), or
 * anything asynchronous: the call returns when C is complete.
 */
import type { MatmulArgs } from '../backend.ts';
import { Job } from './gemm.ts';
import { copyOut, JOB_BYTES, type WasmKernels } from './module.ts';
import { packName } from './pack.ts';

/** Something that runs `gemm_run(job)` on several threads at once and returns when all are done. */
export interface Parallel {
  readonly threads: number;
  run(job: number): void;
}

/** k steps per cache block: a 256 × 8 float B panel (8 KiB) stays in L1 during a block. */
const KC = 256;
/** Largest C block one task computes, in rows and columns (A block 64 × 256 floats = 64 KiB, in L2). */
const MC_ROWS = 64;
const NC_COLS = 256;
/**
 * Below this many multiply-adds, waking a worker (tens of µs there and back) costs more than it
 * saves. Measured with `bench/kernels/matmul.bench.ts` (small sizes) on the 2-core machine, median
 * µs with 1 thread vs 2: 64³ 19 vs 22, 96³ 49 vs 60, 112³ 74 vs 78, 128³ 107 vs 95 (but slower
 * in other runs), 160³ 200 vs 157, 256³ 791 vs 556. So: from 144³ on.
 */
export const PARALLEL_MIN_MACS = 144 * 144 * 144;

/** C blocks: largest that keep at least 4 blocks per thread (so a slow thread delays little). */
function blockPanels(mPanels: number, nPanels: number, batch: number, mr: number, nr: number, threads: number): [number, number] {
  let mc = Math.min(mPanels, MC_ROWS / mr);
  let nc = Math.min(nPanels, NC_COLS / nr);
  const tasks = (): number => batch * Math.ceil(mPanels / mc) * Math.ceil(nPanels / nc);
  while (threads > 1 && tasks() < 4 * threads && (mc > 1 || nc > 1)) {
    if (mc >= nc / 2 && mc > 1) mc = Math.ceil(mc / 2);
    else nc = Math.ceil(nc / 2);
  }
  return [mc, nc];
}

/** C = op(A)·op(B), float32; uses `pool` when there are at least `parallelMinMacs` multiply-adds. */
export function matmulF32(
  kernels: WasmKernels, pool: Parallel | null, parallelMinMacs: number,
  a: Float32Array, b: Float32Array, args: MatmulArgs,
): Float32Array {
  const { batch, m, k, n, aBatchStride, bBatchStride, transA, transB } = args;
  if (batch * m * n === 0 || k === 0) return new Float32Array(batch * m * n);

  const { mr, nv } = kernels.shape;
  const nr = 4 * nv;
  const mPanels = Math.ceil(m / mr), nPanels = Math.ceil(n / nr);
  const ldc = nPanels * nr;
  // A broadcast over the batch (stride 0) is copied and packed once and read by every batch.
  const aCount = aBatchStride === 0 ? 1 : batch, bCount = bBatchStride === 0 ? 1 : batch;
  const aFloats = mPanels * mr * k, bFloats = nPanels * nr * k, cFloats = mPanels * mr * ldc;

  // Five regions, each on a 64-byte cache line: A and B as given, A and B packed, C padded.
  const line = (floats: number): number => Math.ceil((4 * floats) / 64) * 64;
  const sizes = [aCount * m * k, bCount * k * n, aCount * aFloats, bCount * bFloats, batch * cFloats].map(line);
  const rawA = kernels.reserve(sizes.reduce((x, y) => x + y));
  const rawB = rawA + sizes[0], aPtr = rawB + sizes[1], bPtr = aPtr + sizes[2], cPtr = bPtr + sizes[3];
  const mem = new Float32Array(kernels.memory.buffer); // after reserve: the buffer may have grown
  const ex = kernels.exports;
  for (let bi = 0; bi < aCount; bi++) {
    mem.set(a.subarray(bi * aBatchStride, bi * aBatchStride + m * k), rawA / 4 + bi * m * k);
    // op(A)(i, p) is A[i·k + p] (rows are contiguous: transpose while packing) or, transposed, A[p·m + i].
    const src = rawA + 4 * bi * m * k, dst = aPtr + 4 * bi * aFloats;
    if (transA) ex[packName(mr, false)](src, m, m, k, dst);
    else ex[packName(mr, true)](src, k, m, k, dst);
  }
  for (let bi = 0; bi < bCount; bi++) {
    mem.set(b.subarray(bi * bBatchStride, bi * bBatchStride + k * n), rawB / 4 + bi * k * n);
    // B is packed by its columns: column j at depth p is B[p·n + j], or B[j·k + p] when transposed.
    const src = rawB + 4 * bi * k * n, dst = bPtr + 4 * bi * bFloats;
    if (transB) ex[packName(nr, true)](src, k, n, k, dst);
    else ex[packName(nr, false)](src, n, n, k, dst);
  }

  const parallel = pool !== null && batch * m * n * k >= parallelMinMacs;
  const [mc, nc] = blockPanels(mPanels, nPanels, batch, mr, nr, parallel ? pool.threads : 1);
  const tilesM = Math.ceil(mPanels / mc), tilesN = Math.ceil(nPanels / nc);
  const job = new Int32Array(kernels.memory.buffer, JOB_BYTES, Job.size);
  job[Job.tasks] = batch * tilesM * tilesN;
  job[Job.tilesN] = tilesN;
  job[Job.tilesPerBatch] = tilesM * tilesN;
  job[Job.mcPanels] = mc;
  job[Job.ncPanels] = nc;
  job[Job.mPanels] = mPanels;
  job[Job.nPanels] = nPanels;
  job[Job.k] = k;
  job[Job.kc] = KC;
  job[Job.aPtr] = aPtr;
  job[Job.aBatchBytes] = aCount === 1 ? 0 : 4 * aFloats;
  job[Job.bPtr] = bPtr;
  job[Job.bBatchBytes] = bCount === 1 ? 0 : 4 * bFloats;
  job[Job.cPtr] = cPtr;
  job[Job.ldcBytes] = 4 * ldc;
  job[Job.cBatchBytes] = 4 * cFloats;
  Atomics.store(job, Job.next, 0);
  if (parallel && job[Job.tasks] > 1) pool.run(JOB_BYTES);
  else kernels.exports.gemm_run(JOB_BYTES);

  // Move the m × n part of every C to the start of the C region, rows back to back, then copy it
  // out in one go. Each row moves to a lower address (never higher), so none is overwritten before it moves.
  const c0 = cPtr / 4;
  for (let bi = 0; bi < batch; bi++) {
    if (ldc === n) {
      if (bi > 0) mem.copyWithin(c0 + bi * m * n, c0 + bi * cFloats, c0 + bi * cFloats + m * n);
      continue;
    }
    for (let i = bi === 0 ? 1 : 0; i < m; i++) {
      const from = c0 + bi * cFloats + i * ldc;
      mem.copyWithin(c0 + (bi * m + i) * n, from, from + n);
    }
  }
  return copyOut(mem, c0, batch * m * n);
}
