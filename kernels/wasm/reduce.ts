/**
 * The host side of the SIMD reduction: float32 `sum` over the last axis of [outer, inner],
 * accumulated in f64 like the reference (see `emitSumRows` in `elementwise.ts`).
 * `max` and `argmax` (with their NaN rules) stay with the reference kernel: this returns null.
 */
import type { ReduceOp } from '../backend.ts';
import { runResident } from './arena.ts';
import { copyOut, newF32, type WasmKernels } from './module.ts';

export function reduceF32(kernels: WasmKernels, op: ReduceOp, x: Float32Array, outer: number, inner: number): Float32Array | null {
  if (op !== 'sum') return null;
  const r = kernels.resident;
  const done = r && runResident(r.arena, [[x, outer * inner]], outer, newF32,
    ([xAt], outAt) => r.exports.sum_rows(xAt, outAt, outer, inner));
  if (done) return done;
  const xPtr = kernels.local.reserve(4 * (outer * inner + outer));
  const outPtr = xPtr + 4 * outer * inner;
  const mem = new Float32Array(kernels.local.memory.buffer);
  mem.set(x.subarray(0, outer * inner), xPtr / 4);
  kernels.local.exports.sum_rows(xPtr, outPtr, outer, inner);
  return copyOut(mem, outPtr / 4, outer);
}
