/**
 * Gather and scatter-add on the GPU, on x seen as [outer, n, inner] and an index read with strides
 * [so, sm, si] over [outer, m, inner] (stride 0 broadcasts, as index_select does).
 *
 * Index tensors are int32 and live on the host (see storage.ts); the kernel receives them as a
 * float32 array argument (exact below 2^24) that gpu.js uploads with the call. Because the indices
 * are on the host, they are range-checked there before the kernel runs, with the same RangeError as
 * the CPU reference, instead of letting a shader read a clamped texel.
 *
 * scatterAdd cannot scatter: a GPU thread writes only its own output element. So each output element
 * (o, v, i) loops over all m index entries of its (o, i) line and sums the sources whose index is v.
 * Cost: outer·n·inner·m index reads, i.e. n times the work of the CPU loop. Fine for embedding and
 * index_select backward at spt-seg sizes; for large n, sort the indices on the host and give each
 * output a (start, count) range instead (not done yet).
 */
import type { TypedArray } from '../backend.ts';
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';

interface GatherConstants { n: number; m: number; inner: number; so: number; sm: number; si: number }

/** out[o, j, i] = x[o, idx[o, j, i], i] over the [outer, m, inner] output. */
export function gatherKernel(this: KernelThis<GatherConstants>, x: Float32Array, idx: Float32Array): number {
  let q = Math.floor(this.thread.x / this.constants.inner); // -> (o, j, i), exact: see strided.ts
  let i = this.thread.x - q * this.constants.inner;
  if (i < 0) { q = q - 1; i = i + this.constants.inner; }
  if (i >= this.constants.inner) { q = q + 1; i = i - this.constants.inner; }
  let o = Math.floor(q / this.constants.m);
  let j = q - o * this.constants.m;
  if (j < 0) { o = o - 1; j = j + this.constants.m; }
  if (j >= this.constants.m) { o = o + 1; j = j - this.constants.m; }
  const v = idx[o * this.constants.so + j * this.constants.sm + i * this.constants.si];
  return x[(o * this.constants.n + v) * this.constants.inner + i];
}

/** out[o, v, i] = sum over j of src[o, j, i] where idx[o, j, i] == v, over the [outer, n, inner] output. */
export function scatterAddKernel(this: KernelThis<GatherConstants>, src: Float32Array, idx: Float32Array): number {
  let q = Math.floor(this.thread.x / this.constants.inner); // -> (o, v, i)
  let i = this.thread.x - q * this.constants.inner;
  if (i < 0) { q = q - 1; i = i + this.constants.inner; }
  if (i >= this.constants.inner) { q = q + 1; i = i - this.constants.inner; }
  let o = Math.floor(q / this.constants.n);
  let v = q - o * this.constants.n;
  if (v < 0) { o = o - 1; v = v + this.constants.n; }
  if (v >= this.constants.n) { o = o + 1; v = v - this.constants.n; }
  let acc = 0;
  for (let j = 0; j < this.constants.m; j++) {
    if (idx[o * this.constants.so + j * this.constants.sm + i * this.constants.si] === v) {
      acc = acc + src[(o * this.constants.m + j) * this.constants.inner + i];
    }
  }
  return acc;
}

/** The CPU reference's check of every index read, on the host copy, before the kernel runs. */
export function checkIndices(
  idx: TypedArray | null, n: number, outer: number, m: number, inner: number, [so, sm, si]: readonly number[],
): void {
  if (idx === null) return; // a float index that lives on the device cannot be checked here
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const v = idx[o * so + j * sm + i * si];
        if (v < 0 || v >= n || !Number.isInteger(v)) {
          throw new RangeError(`index ${v} is out of range for a dimension of size ${n}`);
        }
      }
    }
  }
}

export function gatherGpu(
  r: KernelRunner, x: GpuStorage, outer: number, n: number, inner: number,
  idx: GpuStorage, m: number, strides: readonly number[], out: GpuStorage,
): void {
  const [so, sm, si] = strides;
  r.launch({
    name: 'gather', source: gatherKernel, constants: { n, m, inner, so, sm, si }, size: out.size, args: [x, idx],
    check: () => checkIndices(idx.host, n, outer, m, inner, strides),
  }, out);
}

export function scatterAddGpu(
  r: KernelRunner, src: GpuStorage, outer: number, n: number, inner: number,
  idx: GpuStorage, m: number, strides: readonly number[], out: GpuStorage,
): void {
  const [so, sm, si] = strides;
  r.launch({
    name: 'scatterAdd', source: scatterAddKernel, constants: { n, m, inner, so, sm, si }, size: out.size, args: [src, idx],
    loopMax: m, check: () => checkIndices(idx.host, n, outer, m, inner, strides),
  }, out);
}
