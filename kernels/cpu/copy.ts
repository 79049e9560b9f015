/**
 * Strided copy: the single kernel behind permute, expand, slice, pad, cat, stack and flip.
 * Reads `shape` elements from `src` (offset + strides) and writes them to `dst` (offset + strides).
 */
import type { TypedArray } from '../backend.ts';
import { stridedLoop } from './strided.ts';

export function copy(
  src: TypedArray, srcOffset: number, srcStrides: readonly number[],
  dst: TypedArray, dstOffset: number, dstStrides: readonly number[],
  shape: readonly number[],
): void {
  stridedLoop(shape, [srcStrides, dstStrides], [srcOffset, dstOffset], (_o, [is, id], [ss, sd], len) => {
    for (let j = 0; j < len; j++, is += ss, id += sd) dst[id] = src[is];
  });
}
