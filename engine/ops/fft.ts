/**
 * 2-D real FFTs over the last two dims, torch.fft.rfft2 / irfft2, with their hand-derived adjoints.
 *
 *   rfft2(x)        real x [.., H, W]          -> X [.., H, W/2+1, 2]   (W/2 floored)
 *   irfft2(X, s)    X [.., H', W', 2]           -> real y [.., s0, s1]
 *
 * Complex layout: a trailing axis of 2 holding (real, imaginary), as torch.view_as_real, so that the
 * spectrum is an ordinary float tensor that every other op (mul, add, slice, SPT's filter) handles.
 *
 * Both transforms are primitives: the numbers come from the backend (`Backend.rfft2` / `irfft2`:
 * fft.js or a direct DFT on the CPU backends, DFT matrices through matmul on gpu.js). Let
 * RF(x)[h, k] = Σ_{m,n} x[m, n] e^{−2πi(hm/H + kn/W)} (k <= W/2) and IRF its unnormalized C2R inverse
 * (the imaginary parts of the bins k = 0 and k = W/2 dropped, the bins in between counted twice:
 * y = Σ_h e^{2πihm/H} (Re Z_0 + 2 Σ_{0<k<W/2} Re(Z_k e^{2πikn/W}) + Re Z_{W/2} (−1)^n)). The norms
 * scale both:  rfft2 = sF·RF,  irfft2 = sI·IRF  with (sF, sI) = (1, 1/HW) 'backward',
 * (1/√HW, 1/√HW) 'ortho', (1/HW, 1) 'forward'.
 *
 * Adjoints (both maps are real-linear in the (re, im) pairs, so the backward is the transpose):
 *   RF = FFT_H ∘ R2C_W.  FFT_H is a complex DFT: its adjoint is the conjugate DFT (e^{+i..}).
 *     R2C_W: dx[n] = Re Σ_{k<=W/2} g_k e^{+2πikn/W}. That is IRF_W applied to g with the doubled bins
 *     halved (IRF counts them twice; the imaginary parts it drops at k = 0, W/2 meet sin = 0 here).
 *     So  d rfft2 / dx:   dx = sF · IRF(E ⊙ g),   E = 1/2 on the bins 0 < k < W/2, 1 at k = 0, W/2.
 *   IRF = C2R_W ∘ IFFT_H.  C2R_W's adjoint is R2C_W with the doubled bins doubled: D ⊙ R2C_W(dy),
 *     D = 2 on 0 < k < W/2 (its imaginary part at k = 0, W/2 comes out 0: sin vanishes there). IFFT_H's
 *     adjoint is the forward DFT. So  d irfft2 / dX:   dX = sI · D ⊙ RF(dy).
 *     Not "imaginary gradient 0 at k = 0, W/2": that holds in 1-D only. In 2-D the H axis mixes
 *     the real and imaginary parts of a column first, and the DC column's imaginary inputs do move y.
 *   This is torch's fft_r2c_backward / fft_c2r_backward (aten/src/ATen/native/SpectralOps.cpp and
 *   FunctionsManual.cpp); each backward calls the other primitive, so grads of grads work as well.
 *
 * irfft2's `s` follows torch: the input is zero-padded or cropped at the end to s0 rows and
 * s1/2+1 columns first (slice / pad: differentiable).
 * Does not: other dims (permute first), n-D transforms, complex input to rfft2, a default `s`.
 */
import { sizeOf } from '../shape.ts';
import { fromOp, type Tensor } from '../tensor.ts';
import { constantLike } from '../functional/constant.ts';
import { pad, slice } from './slice.ts';

/** Where the 1/(H·W) of a transform pair goes, as torch.fft's `norm`. */
export type FftNorm = 'backward' | 'ortho' | 'forward';

/** Options of `rfft2` and `irfft2`. */
export interface FftOptions {
  /** Which direction carries the 1/(H·W): torch's default 'backward' (the inverse), 'ortho' (both √). */
  norm?: FftNorm;
}

/** [sF, sI], the scales of the forward and the inverse transform of an H×W signal. */
function scales(norm: FftNorm, H: number, W: number): [number, number] {
  const n = H * W;
  if (norm === 'backward') return [1, 1 / n];
  if (norm === 'ortho') return [1 / Math.sqrt(n), 1 / Math.sqrt(n)];
  if (norm === 'forward') return [1 / n, 1];
  throw new Error(`fft: norm must be 'backward', 'ortho' or 'forward', got '${String(norm)}'`);
}

/** [Wf, 1] weights per onesided bin: `inner` for 0 < k < W/2, 1 at k = 0 and k = W/2 (the E and D above). */
function binWeights(W: number, inner: number, like: Tensor): Tensor {
  const Wf = Math.floor(W / 2) + 1;
  const w = new Float64Array(Wf).fill(inner);
  w[0] = 1;
  if (W % 2 === 0) w[Wf - 1] = 1;
  return constantLike(w, [Wf, 1], like); // broadcasts over [.., H, Wf, 2]
}

/** scale · RF(x) over the last two dims of real x [.., H, W]. */
function rfftScaled(x: Tensor, scale: number): Tensor {
  const H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
  const lead = x.shape.slice(0, -2);
  const storage = x.storage.backend.rfft2(x.storage, sizeOf(lead), H, W, scale);
  return fromOp(storage, [...lead, H, Math.floor(W / 2) + 1, 2], 'rfft2', [x], (g) => [
    irfftScaled(g.mul(binWeights(W, 0.5, g)), W, scale),
  ]);
}

/** scale · IRF(X) for X [.., H, W/2+1, 2] and an output width W. */
function irfftScaled(X: Tensor, W: number, scale: number): Tensor {
  const H = X.shape[X.ndim - 3];
  const lead = X.shape.slice(0, -3);
  const storage = X.storage.backend.irfft2(X.storage, sizeOf(lead), H, W, scale);
  return fromOp(storage, [...lead, H, W], 'irfft2', [X], (g) => [rfftScaled(g, scale).mul(binWeights(W, 2, g))]);
}

function checkFloat(fn: string, x: Tensor): void {
  if (x.dtype === 'int32') throw new Error(`${fn}: expected a float32 or float64 tensor, got int32`);
}

/**
 * torch.fft.rfft2(x, dim=(-2, -1), norm) for real x [.., H, W]: the spectrum [.., H, W/2+1, 2].
 *
 *   const X = rfft2(x, { norm: 'ortho' });   // [B, C, 32, 32] -> [B, C, 32, 17, 2]
 */
export function rfft2(x: Tensor, opts: FftOptions = {}): Tensor {
  checkFloat('rfft2', x);
  if (x.ndim < 2) throw new Error(`rfft2: expected x [.., H, W], got [${x.shape.join(', ')}]`);
  const H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
  if (H < 1 || W < 1) throw new Error(`rfft2: the transformed dims must not be empty, got ${H}x${W}`);
  return rfftScaled(x, scales(opts.norm ?? 'backward', H, W)[0]);
}

/**
 * torch.fft.irfft2(X, s, dim=(-2, -1), norm) for X [.., H', W', 2] (view_as_real layout): real [.., s0, s1].
 *
 *   const y = irfft2(X, [32, 32], { norm: 'ortho' });   // [B, C, 32, 17, 2] -> [B, C, 32, 32]
 */
export function irfft2(X: Tensor, s: readonly [number, number], opts: FftOptions = {}): Tensor {
  checkFloat('irfft2', X);
  if (X.ndim < 3 || X.shape[X.ndim - 1] !== 2) {
    throw new Error(`irfft2: expected X [.., H, W/2+1, 2] (real, imaginary last), got [${X.shape.join(', ')}]`);
  }
  if (s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`irfft2: s must be two positive integers, got [${s.join(', ')}]`);
  }
  const [H, W] = s;
  const Wf = Math.floor(W / 2) + 1;
  // torch: crop or zero-pad the last two complex dims to (s0, s1/2+1) at their end.
  let Xf = X;
  for (const [dim, want] of [[X.ndim - 3, H], [X.ndim - 2, Wf]]) {
    const have = Xf.shape[dim];
    if (have > want) Xf = slice(Xf, dim, 0, want);
    else if (have < want) Xf = pad(Xf, Xf.shape.map((_, i) => (i === dim ? [0, want - have] : [0, 0]) as [number, number]));
  }
  return irfftScaled(Xf, W, scales(opts.norm ?? 'backward', H, W)[1]);
}
