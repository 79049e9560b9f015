/**
 * Elementwise unary kernels on the GPU: out[i] = f(x[i]), float32 only.
 *
 * One kernel function serves every op: the op is a constant, so each (op, size) compiles to its
 * own shader in which the compiler drops the other branches. The reference is kernels/cpu/unary.ts;
 * where float32 or GLSL would lose to it, the formula differs and says why:
 *   - sin and cos are computed here, not by the GLSL builtins: SwiftShader's are off by ~2e-4 on
 *     [-6, 6] (GLSL promises no precision for them at all);
 *   - sigmoid and tanh take exp of a non-positive number only, so they never overflow;
 *   - tanh uses its Taylor polynomial near 0, where (1 - e) / (1 + e) cancels;
 *   - erf has no GLSL/WGSL builtin: a Maclaurin series below |x| = 1, the Numerical Recipes `erfcc`
 *     Chebyshev fit (fractional error < 1.2e-7) above.
 * Not handled like the CPU: log / sqrt of negatives and NaN inputs are undefined in GLSL (NaN on most
 * devices, including SwiftShader).
 */
import type { UnaryOp } from '../backend.ts';
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';

/** The `op` constant of `unaryKernel`. */
export const UNARY_CODES: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sin: 5, cos: 6, relu: 7, sigmoid: 8, tanh: 9, erf: 10, sign: 11,
};

export function unaryKernel(this: KernelThis<{ op: number }>, x: Float32Array): number {
  const v = x[this.thread.x];
  let r = 0;
  if (this.constants.op === 0) {
    r = -v;
  } else if (this.constants.op === 1) {
    r = Math.exp(v);
  } else if (this.constants.op === 2) {
    r = Math.log(v);
  } else if (this.constants.op === 3) {
    r = Math.sqrt(v);
  } else if (this.constants.op === 4) {
    r = Math.abs(v);
  } else if (this.constants.op === 5 || this.constants.op === 6) {
    // sin and cos: reduce to r in [-pi/4, pi/4] with x = k pi/2 + r (pi/2 split in three parts so
    // k * part is exact: Cody-Waite), then the Cephes sinf / cosf polynomials (error ~1e-7).
    const k = Math.floor(v * 0.6366197723675814 + 0.5);
    const rr = ((v - k * 1.5703125) - k * 0.0004837512969970703) - k * 0.00000007549789954891882;
    const z = rr * rr;
    const sinR = rr + rr * z * (-0.16666654611 + z * (0.0083321608736 - z * 0.00019515295891));
    const cosR = 1 - 0.5 * z + z * z * (0.041666645683 + z * (-0.0013887316255 + z * 0.000024433157118));
    const quadrant = this.constants.op === 5 ? k - 4 * Math.floor(k / 4) : k + 1 - 4 * Math.floor((k + 1) / 4);
    if (quadrant === 0) {
      r = sinR;
    } else if (quadrant === 1) {
      r = cosR;
    } else if (quadrant === 2) {
      r = -sinR;
    } else {
      r = -cosR;
    }
  } else if (this.constants.op === 7) {
    r = v > 0 ? v : 0;
  } else if (this.constants.op === 8) {
    const e = Math.exp(-Math.abs(v)); // in (0, 1]: no overflow for any v
    r = v >= 0 ? 1 / (1 + e) : e / (1 + e);
  } else if (this.constants.op === 9) {
    const ax = Math.abs(v);
    let t = 0;
    if (ax < 0.55) {
      // tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - 1382x^11/155925 + 21844x^13/6081075
      const x2 = ax * ax;
      t = ax * (1 + x2 * (-0.3333333333 + x2 * (0.1333333333 + x2 * (-0.0539682540
        + x2 * (0.0218694885 + x2 * (-0.0088632355 + x2 * 0.0035921280))))));
    } else {
      const e = Math.exp(-2 * ax);
      t = (1 - e) / (1 + e);
    }
    r = v < 0 ? -t : t;
  } else if (this.constants.op === 10) {
    const ax = Math.abs(v);
    let e = 0;
    if (ax < 1) {
      // erf x = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)), ten terms (next one < 2e-8)
      const x2 = ax * ax;
      e = 1.1283791671 * ax * (1 + x2 * (-0.3333333333 + x2 * (0.1 + x2 * (-0.0238095238
        + x2 * (0.0046296296 + x2 * (-0.0007575758 + x2 * (0.0001068376 + x2 * (-0.0000132275
        + x2 * (0.0000014589 - x2 * 0.0000001450)))))))));
    } else {
      // erfc by Numerical Recipes `erfcc` (Press et al., 2nd ed., section 6.2)
      const t = 1 / (1 + 0.5 * ax);
      const erfc = t * Math.exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
      e = 1 - erfc;
    }
    r = v < 0 ? -e : e;
  } else {
    r = v > 0 ? 1 : v < 0 ? -1 : 0;
  }
  return r;
}

/** out = op(x) for a float32 `x` (device or host side) into the device storage `out`. */
export function unaryGpu(r: KernelRunner, op: UnaryOp, x: GpuStorage, out: GpuStorage): void {
  r.launch({ name: 'unary', source: unaryKernel, constants: { op: UNARY_CODES[op] }, size: out.size, args: [x] }, out);
}
