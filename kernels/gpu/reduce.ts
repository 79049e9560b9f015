/**
 * Reductions over the last axis of an [outer, inner] block on the GPU: sum, max, argmax.
 *
 * A tree in passes of BLOCK: pass 1 reduces each row's blocks of BLOCK values to one partial per
 * block ([outer, ceil(inner / BLOCK)]), the next pass reduces those partials, and so on until one
 * value per row is left. That keeps every thread's loop short (a fragment shader with a long loop
 * stalls the GPU) and bounds float32 rounding: a sum adds at most BLOCK numbers per thread per
 * level, instead of `inner` numbers in one running total.
 *
 * argmax passes carry column indices, not values: the first pass returns the column of the first
 * maximum in its block, later passes compare x at the carried columns. Ties keep the first column,
 * like the CPU reference. NaN handling (the CPU's "first NaN wins") depends on the device.
 * The int32 argmax result is downloaded to the host by the backend (int32 lives on the host).
 */
import type { ReduceOp } from '../backend.ts';
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';

/** Values one thread combines per pass. */
export const BLOCK = 64;

interface PassConstants {
  /** Columns of the input rows of this pass, and blocks (= output columns) per row. */
  cols: number;
  blocks: number;
  block: number;
  /** 0 = sum, 1 = max. */
  op: number;
}

/** out[o, k] = sum or max of x[o, k*block .. k*block + block) (clipped to the row). */
export function reducePassKernel(this: KernelThis<PassConstants>, x: Float32Array): number {
  let o = Math.floor(this.thread.x / this.constants.blocks); // row o, block k (exact: see strided.ts)
  let k = this.thread.x - o * this.constants.blocks;
  if (k < 0) { o = o - 1; k = k + this.constants.blocks; }
  if (k >= this.constants.blocks) { o = o + 1; k = k - this.constants.blocks; }
  const first = k * this.constants.block;
  const start = o * this.constants.cols + first;
  let acc = this.constants.op === 0 ? 0 : x[start];
  for (let u = 0; u < this.constants.block; u++) {
    if (first + u < this.constants.cols) {
      const v = x[start + u];
      if (this.constants.op === 0) {
        acc = acc + v;
      } else if (v > acc) {
        acc = v;
      }
    }
  }
  return acc;
}

/**
 * argmax pass. `cand` holds, per row, `cols` candidate columns of x (the first pass gets x itself
 * with `direct` = 1: candidate u is column u). Returns the first candidate column with the largest x.
 */
export function argmaxPassKernel(
  this: KernelThis<PassConstants & { inner: number; direct: number }>, x: Float32Array, cand: Float32Array,
): number {
  let o = Math.floor(this.thread.x / this.constants.blocks);
  let k = this.thread.x - o * this.constants.blocks;
  if (k < 0) { o = o - 1; k = k + this.constants.blocks; }
  if (k >= this.constants.blocks) { o = o + 1; k = k - this.constants.blocks; }
  const first = k * this.constants.block;
  let bestCol = this.constants.direct === 1 ? first : cand[o * this.constants.cols + first];
  let best = x[o * this.constants.inner + bestCol];
  for (let u = 1; u < this.constants.block; u++) {
    if (first + u < this.constants.cols) {
      const col = this.constants.direct === 1 ? first + u : cand[o * this.constants.cols + first + u];
      const v = x[o * this.constants.inner + col];
      if (v > best) {
        best = v;
        bestCol = col;
      }
    }
  }
  return bestCol;
}

/**
 * Reduce `x` ([outer, inner], inner >= 1, on the device) into the device storage `out`: [outer]
 * sums / maxima, or for argmax the float32 column indices (the caller converts them to int32).
 */
export function reduceGpu(r: KernelRunner, op: ReduceOp, x: GpuStorage, outer: number, inner: number, out: GpuStorage): void {
  let cur = x; // input of the next pass: x, or the previous pass's partials
  let cols = inner;
  for (;;) {
    const blocks = Math.ceil(cols / BLOCK);
    const dst = blocks === 1 ? out : r.alloc(outer * blocks);
    const constants = { cols, blocks, block: BLOCK, op: op === 'sum' ? 0 : 1 };
    if (op === 'argmax') {
      const direct = cur === x ? 1 : 0;
      r.launch({
        name: 'argmax', source: argmaxPassKernel, constants: { ...constants, inner, direct }, size: dst.size,
        args: [x, direct === 1 ? x : cur], loopMax: BLOCK,
      }, dst);
    } else {
      r.launch({ name: 'reduce', source: reducePassKernel, constants, size: dst.size, args: [cur], loopMax: BLOCK }, dst);
    }
    if (cur !== x) r.dispose(cur);
    if (blocks === 1) return;
    cur = dst;
    cols = blocks;
  }
}
