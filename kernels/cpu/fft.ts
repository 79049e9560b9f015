/**
 * The reference 2-D real FFT kernels: rfft2 and its inverse irfft2 over the last two axes of a dense
 * [batch, H, W] array, computed in float64 one 1-D transform at a time.
 *
 *   rfft2:   X[h, k] = scale · Σ_m Σ_n x[m, n] · e^{−2πi(hm/H + kn/W)},   k = 0 .. W/2 (W/2 floored)
 *   irfft2:  y[m, n] = scale · Σ_h Σ_{k=0}^{W−1} Y[h, k] · e^{+2πi(hm/H + kn/W)}, where Y is X completed
 *            to a Hermitian spectrum along W (Y[W−k] = conj Y[k]) after the imaginary parts of the
 *            bins k = 0 and k = W/2 (W even) are dropped, so the result is real (torch's C2R).
 *
 * Complex arrays are interleaved [.., 2] (real, imaginary), the engine's layout. rfft2 transforms each
 * row along W (a complex FFT of a real row, of which the first W/2+1 bins are kept), then each of those
 * columns along H; irfft2 undoes the H axis first, then the W axis.
 * A 1-D transform of a power-of-two length n >= 2 runs fft.js (radix-4, O(n log n)); any other length
 * a direct DFT over a cached table of e^{−2πij/n} (O(n²), fine for the grids of a ViT, n <= 64).
 * Inverse transforms reuse the forward one: ifft(z) = conj(fft(conj z)) (unnormalized).
 * Does not: normalize (the caller passes `scale`), other axes, or complex input to rfft2.
 */
import FFT from 'fft.js';
import { type DType, type TypedArray } from '../backend.ts';
import { allocArray } from './pool.ts';

interface Plan {
  n: number;
  /** fft.js for powers of two >= 2, else null (direct DFT). */
  fast: FFT | null;
  /** cos and sin of 2πj/n, j = 0 .. n−1 (the direct DFT reads index (j·k) mod n). */
  cos: Float64Array;
  sin: Float64Array;
}

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let p = plans.get(n);
  if (!p) {
    const cos = new Float64Array(n), sin = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      cos[j] = Math.cos((2 * Math.PI * j) / n);
      sin[j] = Math.sin((2 * Math.PI * j) / n);
    }
    const pow2 = n >= 2 && (n & (n - 1)) === 0;
    p = { n, fast: pow2 ? new FFT(n) : null, cos, sin };
    plans.set(n, p);
  }
  return p;
}

/** Whether a 1-D transform of length n takes the fft.js path (for the bench and the docs). */
export function usesFftJs(n: number): boolean {
  return planFor(n).fast !== null;
}

/** out = the forward DFT of the interleaved complex vector z (length 2n); z and out must differ. */
function dft(p: Plan, z: Float64Array, out: Float64Array): void {
  if (p.fast) {
    p.fast.transform(out, z);
    return;
  }
  const { n, cos, sin } = p;
  for (let k = 0; k < n; k++) {
    let re = 0, im = 0;
    for (let j = 0, t = 0; j < n; j++) {
      // (a + ib)(cos − i sin) at the angle 2π·t/n, t = (j·k) mod n
      const a = z[2 * j], b = z[2 * j + 1];
      re += a * cos[t] + b * sin[t];
      im += b * cos[t] - a * sin[t];
      t += k;
      if (t >= n) t -= n;
    }
    out[2 * k] = re;
    out[2 * k + 1] = im;
  }
}

/** out = the unnormalized inverse DFT of z, as conj(dft(conj z)). Overwrites z. */
function idft(p: Plan, z: Float64Array, out: Float64Array): void {
  for (let j = 1; j < z.length; j += 2) z[j] = -z[j];
  dft(p, z, out);
  for (let j = 1; j < out.length; j += 2) out[j] = -out[j];
}

/** x [batch, H, W] real -> [batch, H, W/2+1, 2], times scale. */
export function rfft2(x: TypedArray, batch: number, H: number, W: number, scale: number, dtype: DType): TypedArray {
  const Wf = Math.floor(W / 2) + 1;
  const out = allocArray(dtype, batch * H * Wf * 2);
  const pW = planFor(W), pH = planFor(H);
  const row = new Float64Array(2 * W), rowF = new Float64Array(2 * W);
  const col = new Float64Array(2 * H), colF = new Float64Array(2 * H);
  const half = new Float64Array(H * Wf * 2); // one image after the W axis: [H, Wf, 2]
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * W;
      for (let n = 0; n < W; n++) {
        row[2 * n] = x[base + n];
        row[2 * n + 1] = 0;
      }
      if (W === 1) rowF.set(row); else dft(pW, row, rowF);
      half.set(rowF.subarray(0, 2 * Wf), h * Wf * 2);
    }
    for (let k = 0; k < Wf; k++) {
      for (let h = 0; h < H; h++) {
        col[2 * h] = half[(h * Wf + k) * 2];
        col[2 * h + 1] = half[(h * Wf + k) * 2 + 1];
      }
      if (H === 1) colF.set(col); else dft(pH, col, colF);
      for (let h = 0; h < H; h++) {
        const o = ((b * H + h) * Wf + k) * 2;
        out[o] = colF[2 * h] * scale;
        out[o + 1] = colF[2 * h + 1] * scale;
      }
    }
  }
  return out;
}

/** X [batch, H, W/2+1, 2] -> real [batch, H, W], times scale (imag of bins 0 and W/2 ignored). */
export function irfft2(X: TypedArray, batch: number, H: number, W: number, scale: number, dtype: DType): TypedArray {
  const Wf = Math.floor(W / 2) + 1;
  const out = allocArray(dtype, batch * H * W);
  const pW = planFor(W), pH = planFor(H);
  const row = new Float64Array(2 * W), rowT = new Float64Array(2 * W);
  const col = new Float64Array(2 * H), colT = new Float64Array(2 * H);
  const half = new Float64Array(H * Wf * 2); // one image after the H axis: [H, Wf, 2]
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < Wf; k++) {
      for (let h = 0; h < H; h++) {
        const i = ((b * H + h) * Wf + k) * 2;
        col[2 * h] = X[i];
        col[2 * h + 1] = X[i + 1];
      }
      if (H === 1) colT.set(col); else idft(pH, col, colT);
      for (let h = 0; h < H; h++) {
        half[(h * Wf + k) * 2] = colT[2 * h];
        half[(h * Wf + k) * 2 + 1] = colT[2 * h + 1];
      }
    }
    for (let h = 0; h < H; h++) {
      row.set(half.subarray(h * Wf * 2, (h + 1) * Wf * 2));
      row[1] = 0; // the imaginary part of the DC bin is ignored ...
      if (W % 2 === 0) row[W + 1] = 0; // ... and so is the Nyquist bin's (k = W/2)
      for (let k = Wf; k < W; k++) {
        row[2 * k] = row[2 * (W - k)]; // Hermitian completion: Y[k] = conj Y[W − k]
        row[2 * k + 1] = -row[2 * (W - k) + 1];
      }
      if (W === 1) rowT.set(row); else idft(pW, row, rowT);
      const base = (b * H + h) * W;
      for (let n = 0; n < W; n++) out[base + n] = rowT[2 * n] * scale;
    }
  }
  return out;
}
