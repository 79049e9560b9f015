/**
 * The host side of the SIMD unary kernels (float32): `exp` and `sigmoid` (see `expVector` and
 * `sigmoidVector` in `elementwise.ts`; sigmoid is the hot half of CLIP's QuickGELU), and the exact
 * ones `neg`, `abs`, `sqrt`, `relu` (bit for bit the reference's values).
 * Other ops, and other dtypes, return null and the backend uses the reference kernel.
 */
import type { UnaryOp } from '../backend.ts';
import { SIMD_UNARY, type SimdUnaryOp } from './elementwise.ts';
import { runResident } from './arena.ts';
import { copyOut, newF32, type WasmKernels } from './module.ts';

const isSimdUnary = (op: UnaryOp): op is SimdUnaryOp => (SIMD_UNARY as readonly string[]).includes(op);

export function unaryF32(kernels: WasmKernels, op: UnaryOp, x: Float32Array): Float32Array | null {
  if (!isSimdUnary(op)) return null;
  const n = x.length;
  const r = kernels.resident;
  const done = r && runResident(r.arena, [[x, n]], n, newF32, ([xAt], outAt) => r.exports[op](xAt, outAt, n));
  if (done) return done;
  // The copying path (no room in the arena): the same kernel over the growable local memory.
  const xPtr = kernels.local.reserve(8 * n);
  const outPtr = xPtr + 4 * n;
  const mem = new Float32Array(kernels.local.memory.buffer);
  mem.set(x, xPtr / 4);
  kernels.local.exports[op](xPtr, outPtr, n);
  return copyOut(mem, outPtr / 4, n);
}
