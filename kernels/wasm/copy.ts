/**
 * The host side of Backend.copy on the wasm backend (float32), for a source and a destination that
 * both live in the arena (arena.ts): merge the axes both sides walk contiguously (`coalesce`), copy
 * one contiguous run with a memcpy, or walk the outer axes (`stridedLoop`) and hand each 2-D tile
 * (the last two axes) to `copy_tile` (copy-simd.ts). Returns false, having copied nothing, when it cannot: an
 * operand outside the arena, or source and destination in one storage (then the reference's element
 * order decides what an overlap gives). Permutes, pads, cats, flips and unfold2d all come through here.
 */
import { coalesce, stridedLoop } from '../cpu/strided.ts';
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
  // Tiles of [rows, cols] = the last two axes (one row when there is a single axis): stridedLoop walks
  // the outer axes and hands each tile's row axis over as its run; copy_tile takes byte addresses.
  const cols = c.shape[nd - 1], ssCol = 4 * ss[nd - 1], sdCol = 4 * ds[nd - 1];
  const tile = r.exports.copy_tile;
  stridedLoop(c.shape.slice(0, -1), [ss.slice(0, -1), ds.slice(0, -1)], [srcOffset, dstOffset],
    (_o, [is, id], [ssRow, sdRow], rows) =>
      tile(src.byteOffset + 4 * is, dst.byteOffset + 4 * id, rows, cols, 4 * ssRow, 4 * sdRow, ssCol, sdCol));
  return true;
}
