/**
 * The 1-D correlation of Backend.correlate1d on the GPU: one thread per output element of the
 * [outer, n, inner] output, each summing its K taps in ascending t and skipping the taps that fall
 * off either end of the axis (the zero padding):
 *   out[o, i, j] = Σ_t w[t] · x[o, i + t − r, j],   r = (K − 1) / 2.
 * The taps go up with the call as a small float32 array. The reference is kernels/cpu/correlate.ts.
 */
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';

interface CorrelateConstants { n: number; inner: number; K: number; r: number }

export function correlateKernel(this: KernelThis<CorrelateConstants>, x: Float32Array, w: Float32Array): number {
  let p = Math.floor(this.thread.x / this.constants.inner); // -> row p = o·n + i, column j (exact: see strided.ts)
  let j = this.thread.x - p * this.constants.inner;
  if (j < 0) { p = p - 1; j = j + this.constants.inner; }
  if (j >= this.constants.inner) { p = p + 1; j = j - this.constants.inner; }
  let o = Math.floor(p / this.constants.n);
  let i = p - o * this.constants.n;
  if (i < 0) { o = o - 1; i = i + this.constants.n; }
  if (i >= this.constants.n) { o = o + 1; i = i - this.constants.n; }
  let acc = 0;
  for (let t = 0; t < this.constants.K; t++) {
    const at = i + t - this.constants.r;
    if (at >= 0 && at < this.constants.n) {
      acc = acc + w[t] * x[(p + t - this.constants.r) * this.constants.inner + j];
    }
  }
  return acc;
}

export function correlate1dGpu(
  r: KernelRunner, x: GpuStorage, n: number, inner: number, weights: readonly number[], out: GpuStorage,
): void {
  const K = weights.length;
  r.launch({
    name: 'correlate1d', source: correlateKernel, constants: { n, inner, K, r: (K - 1) / 2 }, size: out.size,
    args: [x, new Float32Array(weights)], loopMax: K,
  }, out);
}
