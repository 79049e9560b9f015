/**
 * The reference 1-D correlation along the middle axis of x [outer, n, inner] (Backend.correlate1d):
 *   out[o, i, j] = Σ_t w[t] · x[o, i + t − r, j],   t = 0 .. K−1 with 0 <= i + t − r < n,  r = (K − 1) / 2,
 * i.e. a K-tap filter centred on i with zeros beyond both ends (the output keeps the length n).
 * The sum runs in ascending t, in JavaScript numbers (double precision), rounded once on the store.
 * Does not: even K, other paddings, or a stride.
 */
import { type DType, type TypedArray } from '../backend.ts';
import { allocArray } from './pool.ts';

export function correlate1d(
  x: TypedArray, outer: number, n: number, inner: number, w: readonly number[], dtype: DType,
): TypedArray {
  const out = allocArray(dtype, outer * n * inner);
  const r = (w.length - 1) / 2;
  for (let o = 0; o < outer; o++) {
    const plane = o * n * inner;
    for (let i = 0; i < n; i++) {
      // Only the taps that land inside the axis: the others would multiply the zero padding.
      const tFirst = Math.max(0, r - i), tLast = Math.min(w.length - 1, n - 1 - i + r);
      for (let j = 0; j < inner; j++) {
        let acc = 0;
        for (let t = tFirst; t <= tLast; t++) acc += w[t] * x[plane + (i + t - r) * inner + j];
        out[plane + i * inner + j] = acc;
      }
    }
  }
  return out;
}
