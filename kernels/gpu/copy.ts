/**
 * Strided copy on the GPU: the kernel behind permute, expand, slice, pad, cat, stack and flip.
 *
 * Two kernels, because a fragment shader (and a gpu.js kernel in any mode) can only write its own
 * output element, never scatter into an existing buffer:
 *   - `stridedCopyKernel` reads the view `src` into a new dense output (one thread per element);
 *   - `copyIntoKernel` implements "write into the view `dst`" as read-modify: it runs one thread per
 *     element of the WHOLE destination storage, works out whether that element lies inside the view
 *     (and which source element lands there), and outputs either the source value or the old value.
 *     The destination storage then swaps its texture for the new one (runner.launchInto).
 *
 * Finding the view coordinates of a destination element: sort the view's axes by destination stride,
 * largest first; if every stride exceeds the whole extent of the smaller-stride axes (true for any
 * non-overlapping view: slices, permutations, flips), peeling `floor(rest / stride)` axis by axis is
 * exact, and an element is inside the view iff every coordinate is in range and nothing is left over.
 * Views that fail the check (stride 0, overlapping writes) return null here and the backend copies on
 * the host instead. Negative strides are made positive first by moving the offset (a flip).
 */
import type { StridedView } from '../backend.ts';
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';
import { MAX_RANK, mergeAxes, planStrided, stridedConstants } from './strided.ts';

interface Axes6 { n0: number; n1: number; n2: number; n3: number; n4: number; n5: number }
interface Src6 { s0: number; s1: number; s2: number; s3: number; s4: number; s5: number }
interface Dst6 { d0: number; d1: number; d2: number; d3: number; d4: number; d5: number }

/** out[i] = src[offset + coords(i) · strides], coords peeled as in binary.ts. */
export function stridedCopyKernel(this: KernelThis<Axes6 & Src6 & { offset: number }>, src: Float32Array): number {
  let rest = this.thread.x;
  let is = this.constants.offset;
  let q = Math.floor(rest / this.constants.n5);
  let c = rest - q * this.constants.n5;
  if (c < 0) { q = q - 1; c = c + this.constants.n5; }
  if (c >= this.constants.n5) { q = q + 1; c = c - this.constants.n5; }
  is = is + c * this.constants.s5;
  rest = q;
  q = Math.floor(rest / this.constants.n4);
  c = rest - q * this.constants.n4;
  if (c < 0) { q = q - 1; c = c + this.constants.n4; }
  if (c >= this.constants.n4) { q = q + 1; c = c - this.constants.n4; }
  is = is + c * this.constants.s4;
  rest = q;
  q = Math.floor(rest / this.constants.n3);
  c = rest - q * this.constants.n3;
  if (c < 0) { q = q - 1; c = c + this.constants.n3; }
  if (c >= this.constants.n3) { q = q + 1; c = c - this.constants.n3; }
  is = is + c * this.constants.s3;
  rest = q;
  q = Math.floor(rest / this.constants.n2);
  c = rest - q * this.constants.n2;
  if (c < 0) { q = q - 1; c = c + this.constants.n2; }
  if (c >= this.constants.n2) { q = q + 1; c = c - this.constants.n2; }
  is = is + c * this.constants.s2;
  rest = q;
  q = Math.floor(rest / this.constants.n1);
  c = rest - q * this.constants.n1;
  if (c < 0) { q = q - 1; c = c + this.constants.n1; }
  if (c >= this.constants.n1) { q = q + 1; c = c - this.constants.n1; }
  is = is + c * this.constants.s1;
  is = is + q * this.constants.s0;
  return src[is];
}

/**
 * New contents of the destination storage: src where the element is inside the view, else dst.
 * Axes are sorted by destination stride d0 >= d1 >= ... (padding axes: n = 1, d = 1, s = 0).
 */
export function copyIntoKernel(
  this: KernelThis<Axes6 & Src6 & Dst6 & { srcOffset: number; dstOffset: number }>,
  src: Float32Array, dst: Float32Array,
): number {
  let rest = this.thread.x - this.constants.dstOffset;
  let inside = rest >= 0 ? 1 : 0;
  let is = this.constants.srcOffset;
  let c = Math.floor(rest / this.constants.d0);
  let left = rest - c * this.constants.d0;
  if (left < 0) { c = c - 1; left = left + this.constants.d0; }
  if (left >= this.constants.d0) { c = c + 1; left = left - this.constants.d0; }
  if (c >= this.constants.n0) { inside = 0; }
  is = is + c * this.constants.s0;
  rest = left;
  c = Math.floor(rest / this.constants.d1);
  left = rest - c * this.constants.d1;
  if (left < 0) { c = c - 1; left = left + this.constants.d1; }
  if (left >= this.constants.d1) { c = c + 1; left = left - this.constants.d1; }
  if (c >= this.constants.n1) { inside = 0; }
  is = is + c * this.constants.s1;
  rest = left;
  c = Math.floor(rest / this.constants.d2);
  left = rest - c * this.constants.d2;
  if (left < 0) { c = c - 1; left = left + this.constants.d2; }
  if (left >= this.constants.d2) { c = c + 1; left = left - this.constants.d2; }
  if (c >= this.constants.n2) { inside = 0; }
  is = is + c * this.constants.s2;
  rest = left;
  c = Math.floor(rest / this.constants.d3);
  left = rest - c * this.constants.d3;
  if (left < 0) { c = c - 1; left = left + this.constants.d3; }
  if (left >= this.constants.d3) { c = c + 1; left = left - this.constants.d3; }
  if (c >= this.constants.n3) { inside = 0; }
  is = is + c * this.constants.s3;
  rest = left;
  c = Math.floor(rest / this.constants.d4);
  left = rest - c * this.constants.d4;
  if (left < 0) { c = c - 1; left = left + this.constants.d4; }
  if (left >= this.constants.d4) { c = c + 1; left = left - this.constants.d4; }
  if (c >= this.constants.n4) { inside = 0; }
  is = is + c * this.constants.s4;
  rest = left;
  c = Math.floor(rest / this.constants.d5);
  left = rest - c * this.constants.d5;
  if (left < 0) { c = c - 1; left = left + this.constants.d5; }
  if (left >= this.constants.d5) { c = c + 1; left = left - this.constants.d5; }
  if (c >= this.constants.n5) { inside = 0; }
  is = is + c * this.constants.s5;
  if (left !== 0) { inside = 0; }
  return inside === 1 ? src[is] : dst[this.thread.x];
}

/** New dense storage `out` = the view `src` of shape `shape`. */
export function stridedCopyGpu(r: KernelRunner, src: StridedView, srcStorage: GpuStorage, shape: readonly number[], out: GpuStorage): void {
  const plan = planStrided(shape, [src.strides]);
  const constants = { ...stridedConstants(plan, ['s']), offset: src.offset };
  r.launch({ name: 'copy', source: stridedCopyKernel, constants, size: out.size, args: [srcStorage] }, out);
}

/**
 * The constants of `copyIntoKernel` for writing `src` into the view `dst`, or null when the
 * destination view overlaps itself (or needs more than MAX_RANK axes) and the GPU cannot invert it.
 */
export function planCopyInto(shape: readonly number[], src: StridedView, dst: StridedView): Record<string, number> | null {
  const merged = mergeAxes(shape, [src.strides, dst.strides]);
  let srcOffset = src.offset;
  let dstOffset = dst.offset;
  const axes = merged.shape.map((n, k) => ({ n, s: merged.strides[0][k], d: merged.strides[1][k] }));
  for (const ax of axes) {
    if (ax.d < 0) { // walk a flipped destination axis forwards, and its source backwards
      dstOffset += (ax.n - 1) * ax.d;
      srcOffset += (ax.n - 1) * ax.s;
      ax.d = -ax.d;
      ax.s = -ax.s;
    }
  }
  if (axes.length > MAX_RANK) return null;
  axes.sort((x, y) => y.d - x.d);
  let extent = 0; // largest offset reachable by the smaller-stride axes
  for (let k = axes.length - 1; k >= 0; k--) {
    if (axes[k].d <= extent) return null; // stride 0 or overlapping: several writes per element
    extent += (axes[k].n - 1) * axes[k].d;
  }
  while (axes.length < MAX_RANK) axes.push({ n: 1, s: 0, d: 1 });
  const c: Record<string, number> = { srcOffset, dstOffset };
  axes.forEach((ax, i) => { c[`n${i}`] = ax.n; c[`s${i}`] = ax.s; c[`d${i}`] = ax.d; });
  return c;
}

/** Write `src` into the view `dst` of the device storage `dstStorage` (it swaps its buffer). */
export function copyIntoGpu(
  r: KernelRunner, srcStorage: GpuStorage, dstStorage: GpuStorage, constants: Record<string, number>,
): void {
  r.launchInto({ name: 'copyInto', source: copyIntoKernel, constants, size: dstStorage.size, args: [srcStorage, dstStorage] }, dstStorage);
}
