/**
 * rfft2 / irfft2 as dense matrix products (DFT matrices), for backends without an FFT of their own:
 * the gpu.js backend uses it, and bench/engine/fft.bench.ts times it on the CPU backends against
 * the fft.js kernels of kernels/cpu/fft.ts. It calls only the Backend interface (fromArray, matmul,
 * binary, copy, dispose), so it runs on any backend and its results stay on that backend.
 *
 * With c = cos, s = sin of the angles 2π·kn/W (W axis) and 2π·hm/H (H axis), and x real [H, W]:
 *   W axis (onesided, W/2+1 bins):  R = x · Cw,          I = x · Sw      Cw = c, Sw = −s   [W, Wf]
 *   H axis (full complex, e^{−iθ}): Re = Ch·R + Sh·I,    Im = Ch·I − Sh·R                 [H, H]
 * and the inverse (e^{+iθ}), with a_k = 1 at the DC and Nyquist bins and 2 elsewhere:
 *   H axis:  Zr = Ch·Re − Sh·Im,   Zi = Ch·Im + Sh·Re
 *   W axis:  y = Zr · Ac + Zi · As,   Ac[k, n] = a_k c,  As[k, n] = −a_k s  (0 at DC and Nyquist:
 *            their imaginary parts are ignored, as torch's C2R does)            [Wf, W]
 * `scale` is folded into the W-axis matrices. Costs O(H·W·(H + W)) per image instead of
 * O(H·W·log(H·W)), which is small for the 14×14 and 32×32 grids of a ViT.
 * Does not: reuse the constant matrices between calls (they are rebuilt, a few KB, each time).
 */
import type { Backend, MatmulArgs, Storage } from '../backend.ts';

const TWO_PI = 2 * Math.PI;

/** cos and sin of 2π·((i·j) mod n)/n as [rows, cols] float64 arrays (exact at the quarter turns). */
function trig(rows: number, cols: number, n: number): { c: Float64Array; s: Float64Array } {
  const c = new Float64Array(rows * cols), s = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const t = (i * j) % n;
      c[i * cols + j] = t === 0 ? 1 : 4 * t === 2 * n ? -1 : Math.cos((TWO_PI * t) / n);
      s[i * cols + j] = t === 0 || 4 * t === 2 * n ? 0 : Math.sin((TWO_PI * t) / n);
    }
  }
  return { c, s };
}

function mm(b: Backend, a: Storage, x: Storage, args: Omit<MatmulArgs, 'transA' | 'transB'>): Storage {
  return b.matmul(a, x, { ...args, transA: false, transB: false });
}

/** p ± q for two dense storages of `size` elements. */
function combine(b: Backend, op: 'add' | 'sub', p: Storage, q: Storage, size: number): Storage {
  return b.binary(op, p, [1], q, [1], [size]);
}

/** The H-axis complex DFT of (re, im) [batch, H, Wf] with the matrix e^{∓iθ} (sign −1 forward). */
function alongH(b: Backend, re: Storage, im: Storage, batch: number, H: number, Wf: number, sign: 1 | -1): [Storage, Storage] {
  const { c, s } = trig(H, H, H);
  const dtype = re.dtype;
  const ch = b.fromArray(c, dtype), sh = b.fromArray(s, dtype);
  const args = { batch, m: H, k: H, n: Wf, aBatchStride: 0, bBatchStride: H * Wf };
  const cr = mm(b, ch, re, args), ci = mm(b, ch, im, args), sr = mm(b, sh, re, args), si = mm(b, sh, im, args);
  const size = batch * H * Wf;
  // forward (c − is)(r + ii) = cr + si + i(ci − sr);  inverse (c + is)(r + ii) = cr − si + i(ci + sr)
  const outRe = combine(b, sign < 0 ? 'add' : 'sub', cr, si, size);
  const outIm = combine(b, sign < 0 ? 'sub' : 'add', ci, sr, size);
  for (const t of [ch, sh, cr, ci, sr, si]) b.dispose(t);
  return [outRe, outIm];
}

/** The Backend.rfft2 contract (kernels/backend.ts) by matrix products. */
export function rfft2ByMatmul(b: Backend, x: Storage, batch: number, H: number, W: number, scale: number): Storage {
  const Wf = Math.floor(W / 2) + 1;
  const { c, s } = trig(W, Wf, W);
  for (let i = 0; i < c.length; i++) {
    c[i] *= scale;
    s[i] *= -scale;
  }
  const cw = b.fromArray(c, x.dtype), sw = b.fromArray(s, x.dtype);
  const args = { batch: 1, m: batch * H, k: W, n: Wf, aBatchStride: 0, bBatchStride: 0 };
  const r = mm(b, x, cw, args), i = mm(b, x, sw, args); // [batch·H, Wf]
  const [re, im] = alongH(b, r, i, batch, H, Wf, -1);
  const size = batch * H * Wf;
  const out = b.full(2 * size, 0, x.dtype); // [batch, H, Wf, 2]
  b.copy({ storage: re, offset: 0, strides: [1] }, [size], { storage: out, offset: 0, strides: [2] });
  b.copy({ storage: im, offset: 0, strides: [1] }, [size], { storage: out, offset: 1, strides: [2] });
  for (const t of [cw, sw, r, i, re, im]) b.dispose(t);
  return out;
}

/** The Backend.irfft2 contract (kernels/backend.ts) by matrix products. */
export function irfft2ByMatmul(b: Backend, X: Storage, batch: number, H: number, W: number, scale: number): Storage {
  const Wf = Math.floor(W / 2) + 1;
  const size = batch * H * Wf;
  const re = b.copy({ storage: X, offset: 0, strides: [2] }, [size]);
  const im = b.copy({ storage: X, offset: 1, strides: [2] }, [size]);
  const [zr, zi] = alongH(b, re, im, batch, H, Wf, 1);
  const { c, s } = trig(Wf, W, W);
  for (let k = 0; k < Wf; k++) {
    const edge = k === 0 || 2 * k === W;
    for (let n = 0; n < W; n++) {
      c[k * W + n] *= (edge ? 1 : 2) * scale;
      s[k * W + n] = edge ? 0 : -2 * scale * s[k * W + n];
    }
  }
  const ac = b.fromArray(c, X.dtype), as = b.fromArray(s, X.dtype);
  const args = { batch: 1, m: batch * H, k: Wf, n: W, aBatchStride: 0, bBatchStride: 0 };
  const yr = mm(b, zr, ac, args), yi = mm(b, zi, as, args); // [batch·H, W]
  const y = combine(b, 'add', yr, yi, batch * H * W);
  for (const t of [re, im, zr, zi, ac, as, yr, yi]) b.dispose(t);
  return y;
}
