/**
 * Strided copy: the single kernel behind permute, expand, slice, pad, cat, stack, flip and unfold2d.
 * Reads `shape` elements from `src` (offset + strides) and writes them to `dst` (offset + strides).
 *
 * Speed: axes both sides walk contiguously are merged first (`coalesce`), and the body handles the
 * last two axes itself, so the odometer of `stridedLoop` runs once per 2-D tile rather than once per
 * row. Rows are often short here (3 colour channels, the 3 taps of a kernel row), and then the
 * bookkeeping per row would cost more than the copy.
 */
import type { TypedArray } from '../backend.ts';
import { coalesce, stridedLoop } from './strided.ts';

export function copy(
  src: TypedArray, srcOffset: number, srcStrides: readonly number[],
  dst: TypedArray, dstOffset: number, dstStrides: readonly number[],
  shape: readonly number[],
): void {
  for (const d of shape) if (d === 0) return;
  const c = coalesce(shape, [srcStrides, dstStrides]);
  const nd = c.shape.length;
  if (nd < 2) {
    stridedLoop(c.shape, c.strides, [srcOffset, dstOffset], (_o, [is, id], [ss, sd], len) => {
      for (let j = 0; j < len; j++, is += ss, id += sd) dst[id] = src[is];
    });
    return;
  }
  const cols = c.shape[nd - 1], ssCol = c.strides[0][nd - 1], sdCol = c.strides[1][nd - 1];
  const outer = c.shape.slice(0, -1);
  stridedLoop(outer, [c.strides[0].slice(0, -1), c.strides[1].slice(0, -1)], [srcOffset, dstOffset], (_o, [is0, id0], [ssRow, sdRow], rows) => {
    for (let r = 0; r < rows; r++, is0 += ssRow, id0 += sdRow) {
      for (let j = 0, is = is0, id = id0; j < cols; j++, is += ssCol, id += sdCol) dst[id] = src[is];
    }
  });
}
