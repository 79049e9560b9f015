/**
 * The host side of Backend.correlate1d on the wasm backend (float32): run `corr_rows` (inner >= 4) or
 * `corr_last` (inner = 1) from `correlate-simd.ts` on x where it lies in the arena (arena.ts; the taps
 * and corr_last's padded row in scratch blocks) or, when the arena has no room, on copies in the
 * growable local memory. Inner 2 or 3 returns null: the reference handles those.
 */
import { runResident } from './arena.ts';
import { copyOut, newF32, type KernelExports, type WasmKernels } from './module.ts';

/** out = correlate1d(x [outer, n, inner], weights), or null for inner 2 or 3. */
export function correlateF32(
  kernels: WasmKernels, x: Float32Array, outer: number, n: number, inner: number, weights: readonly number[],
): Float32Array | null {
  if (inner === 2 || inner === 3) return null;
  const size = outer * n * inner, K = weights.length, r = (K - 1) / 2;
  // The kernel for this layout, on either instance (pad: corr_last's zero-padded row).
  const run = (ex: KernelExports, xAt: number, outAt: number, wAt: number, pad: number): void => {
    if (inner === 1) ex.corr_last(xAt, outAt, wAt, outer, n, r, pad);
    else ex.corr_rows(xAt, outAt, wAt, outer, n, inner, r);
  };
  const res = kernels.resident;
  if (res !== null) {
    const pad = inner === 1 ? res.arena.scratch(n + 2 * r) : 0; // corr_last's zero-padded row
    const w = pad === null ? null : res.arena.scratch(K);
    if (pad !== null && w !== null) {
      res.arena.view().set(weights, w / 4); // rounded to float32, as a float32 band matrix would hold them
      const done = runResident(res.arena, [[x, size]], size, newF32, ([xAt], outAt) => run(res.exports, xAt, outAt, w, pad));
      if (done) return done;
    }
    res.arena.endCall();
  }
  // The copying path (no room in the arena): the same kernels over the growable local memory.
  const { local } = kernels;
  const xPtr = local.reserve(4 * (2 * size + K + n + 2 * r + 8));
  const outPtr = xPtr + 4 * size, wPtr = outPtr + 4 * size, padPtr = wPtr + 4 * K;
  const mem = new Float32Array(local.memory.buffer);
  mem.set(x.subarray(0, size), xPtr / 4);
  mem.set(weights, wPtr / 4); // rounded to float32, as a float32 band matrix would hold them
  run(local.exports, xPtr, outPtr, wPtr, padPtr);
  return copyOut(mem, outPtr / 4, size);
}
