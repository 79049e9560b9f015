/**
 * The host side of Backend.copy on the wasm backend (float32), for a source and a destination that
 * both live in the arena (arena.ts): merge the axes both sides walk contiguously (`coalesce`), copy
 * one contiguous run with a memcpy, or walk the outer axes here and hand each 2-D tile (the last two
 * axes) to `copy_tile` (copy-simd.ts). Returns false, having copied nothing, when it cannot: an
 * operand outside the arena, or source and destination in one storage (then the reference's element
 * order decides what an overlap gives). Permutes, pads, cats, flips and unfold2d all come through here.
 */
import { coalesce } from '../cpu/strided.ts';
import type { WasmKernels } from './module.ts';

export function copyF32(
  kernels: WasmKernels, src: Float32Array, srcOffset: number, srcStrides: readonly number[],
  dst: Float32Array, dstOffset: number, dstStrides: readonly number[], shape: readonly number[],
): boolean {
  const r = kernels.resident;
  if (r === null || !r.arena.owns(src) || !r.arena.owns(dst) || src === dst) return false;
  if (shape.some((d) => d === 0)) return true;
  const c = coalesce(shape, [srcStrides, dstStrides]);
  const nd = c.shape.length;
  if (nd === 0) { // one element
    dst[dstOffset] = src[srcOffset];
    return true;
  }
  const [ss, ds] = c.strides;
  if (nd === 1 && ss[0] === 1 && ds[0] === 1) { // one contiguous run: a memcpy
    dst.set(src.subarray(srcOffset, srcOffset + c.shape[0]), dstOffset);
    return true;
  }
  // Tiles of [rows, cols] = the last two axes (one row when there is a single axis), by byte address.
  const rows = nd >= 2 ? c.shape[nd - 2] : 1, cols = c.shape[nd - 1];
  const ssRow = nd >= 2 ? 4 * ss[nd - 2] : 0, sdRow = nd >= 2 ? 4 * ds[nd - 2] : 0;
  const ssCol = 4 * ss[nd - 1], sdCol = 4 * ds[nd - 1];
  const outer = c.shape.slice(0, Math.max(0, nd - 2));
  const tile = r.exports.copy_tile;
  let is = src.byteOffset + 4 * srcOffset, id = dst.byteOffset + 4 * dstOffset;
  const counter = new Array<number>(outer.length).fill(0);
  for (;;) {
    tile(is, id, rows, cols, ssRow, sdRow, ssCol, sdCol);
    // The next tile: advance the outer index (odometer), moving both addresses.
    let axis = outer.length - 1;
    while (axis >= 0) {
      is += 4 * ss[axis];
      id += 4 * ds[axis];
      if (++counter[axis] < outer[axis]) break;
      is -= 4 * ss[axis] * outer[axis];
      id -= 4 * ds[axis] * outer[axis];
      counter[axis] = 0;
      axis--;
    }
    if (axis < 0) return true;
  }
}
