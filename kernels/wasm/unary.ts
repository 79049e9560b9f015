/**
 * The host side of the SIMD unary kernels: float32 `exp` and `sigmoid` (see `expVector` and
 * `sigmoidVector` in `elementwise.ts`; sigmoid is the hot half of CLIP's QuickGELU).
 * Other ops, and other dtypes, return null and the backend uses the reference kernel.
 */
import type { UnaryOp } from '../backend.ts';
import type { WasmKernels } from './module.ts';

export function unaryF32(kernels: WasmKernels, op: UnaryOp, x: Float32Array): Float32Array | null {
  if (op !== 'exp' && op !== 'sigmoid') return null;
  const n = x.length;
  const xPtr = kernels.reserve(8 * n);
  const outPtr = xPtr + 4 * n;
  const mem = new Float32Array(kernels.memory.buffer);
  mem.set(x, xPtr / 4);
  kernels.exports[op](xPtr, outPtr, n);
  return mem.slice(outPtr / 4, outPtr / 4 + n);
}
