/**
 * Non-overlapping windows of a channels-last map, as Swin's `window_partition` / `window_reverse`
 * after an `F.pad` on the right and bottom (the HiLo Hi-Fi branch of SPT-SEG, method.md §2.4).
 *
 *   padTo(x, [1, 2], ws)           zero-pad dims 1 and 2 at their end up to multiples of ws
 *   windowPartition(x, ws)         x [B, H, W, C] -> [B·nH·nW, ws, ws, C], nH = ceil(H / ws), ...
 *   windowReverse(win, ws, H, W)   the inverse: [B·nH·nW, ws, ws, C] -> [B, H, W, C], padding cropped
 *
 * Windows come in row-major order over (b, nH, nW): window (b, i, j) holds the tokens
 * [i·ws, (i+1)·ws) × [j·ws, (j+1)·ws) of image b. Built from pad, reshape, permute and slice, so autograd
 * handles the backward. The padding is zeros that do take part in whatever follows (as in SPT-SEG).
 *
 * Glossary: B batch, H, W height and width, C channels, ws window side, nH, nW windows per column / row,
 * Hp, Wp padded height and width (nH·ws, nW·ws).
 */
import type { Tensor } from '../tensor.ts';
import { pad, slice } from '../ops/slice.ts';

/**
 * Zero-pad each dim in `dims` at its end so that its size becomes a multiple of `multiple`.
 *
 * @example
 * padTo(zeros([1, 10, 10, 8]), [1, 2], 3).shape;   // [1, 12, 12, 8]
 */
export function padTo(x: Tensor, dims: readonly number[], multiple: number): Tensor {
  if (!Number.isInteger(multiple) || multiple < 1) throw new Error(`padTo: multiple must be a positive integer, got ${multiple}`);
  const pads: [number, number][] = x.shape.map(() => [0, 0]);
  for (const d of dims) {
    const dd = d < 0 ? d + x.ndim : d;
    if (!Number.isInteger(dd) || dd < 0 || dd >= x.ndim) throw new Error(`padTo: dim ${d} out of range for a ${x.ndim}-d tensor`);
    pads[dd][1] = (multiple - (x.shape[dd] % multiple)) % multiple;
  }
  return pads.some(([, a]) => a > 0) ? pad(x, pads) : x;
}

function checkWs(fn: string, ws: number): void {
  if (!Number.isInteger(ws) || ws < 1) throw new Error(`${fn}: window size must be a positive integer, got ${ws}`);
}

/**
 * Split x [B, H, W, C] into ws×ws windows after zero-padding H and W at the end to multiples of ws.
 *
 *   windowPartition(randn([2, 32, 32, 64]), 3)   // [2·11·11, 3, 3, 64]
 */
export function windowPartition(x: Tensor, ws: number): Tensor {
  checkWs('windowPartition', ws);
  if (x.ndim !== 4) throw new Error(`windowPartition: expected x [B, H, W, C], got [${x.shape.join(', ')}]`);
  const [B, , , C] = x.shape;
  const xp = padTo(x, [1, 2], ws); // [B, Hp, Wp, C]
  const nH = xp.shape[1] / ws, nW = xp.shape[2] / ws;
  return xp
    .reshape([B, nH, ws, nW, ws, C])
    .permute([0, 1, 3, 2, 4, 5]) // [B, nH, nW, ws, ws, C]
    .reshape([B * nH * nW, ws, ws, C]);
}

/**
 * The inverse of `windowPartition` for a map of H×W tokens: reassemble the windows [B·nH·nW, ws, ws, C]
 * into [B, Hp, Wp, C] and crop to [B, H, W, C].
 *
 * @example
 * windowReverse(windowPartition(x, 3), 3, 9, 9);   // x again, [B, 9, 9, C]
 */
export function windowReverse(windows: Tensor, ws: number, H: number, W: number): Tensor {
  checkWs('windowReverse', ws);
  if (windows.ndim !== 4 || windows.shape[1] !== ws || windows.shape[2] !== ws) {
    throw new Error(`windowReverse: expected windows [B·nH·nW, ${ws}, ${ws}, C], got [${windows.shape.join(', ')}]`);
  }
  const nH = Math.ceil(H / ws), nW = Math.ceil(W / ws);
  const [N, , , C] = windows.shape;
  if (N % (nH * nW) !== 0) {
    throw new Error(`windowReverse: ${N} windows is not a multiple of the ${nH}x${nW} windows of a ${H}x${W} map`);
  }
  const B = N / (nH * nW);
  let x = windows
    .reshape([B, nH, nW, ws, ws, C])
    .permute([0, 1, 3, 2, 4, 5]) // [B, nH, ws, nW, ws, C]
    .reshape([B, nH * ws, nW * ws, C]); // [B, Hp, Wp, C]
  if (nH * ws !== H) x = slice(x, 1, 0, H);
  if (nW * ws !== W) x = slice(x, 2, 0, W);
  return x; // [B, H, W, C]
}
