/**
 * Complex arithmetic on the engine's complex layout: a trailing axis of 2 holding (real, imaginary),
 * the layout rfft2 / irfft2 use (engine/ops/fft.ts). Composed from slice, flip, mul and add, so
 * autograd needs nothing new.
 *
 *   complexMul(a, b) = (ar·br − ai·bi, ar·bi + ai·br)      a [.., 2], b [.., 2], broadcast as torch
 *
 * computed without splitting a and re-stacking the result (each a full strided copy):
 *
 *   a ⊙ [br, br]                 = (ar·br,  ai·br)
 *   flip(a) ⊙ [−bi, bi]          = (−ai·bi, ar·bi)
 *   sum                          = (ar·br − ai·bi, ai·br + ar·bi)
 *
 * where [br, br] and [−bi, bi] are b's parts [.., 1] broadcast along the last axis (times the
 * constant [−1, 1] for the second).
 * Used by SPT's spectral filter (method.md §1.2 step 4: X ⊙ W_c, W_c = complex_weight [32, 17, 768, 2]).
 * Does not: division, conjugation, abs / angle (SPT needs none of them).
 */
import type { Tensor } from '../tensor.ts';
import { flip } from '../ops/movement.ts';
import { slice } from '../ops/slice.ts';
import { constantLike } from './constant.ts';

function checkComplex(fn: string, z: Tensor): void {
  if (z.ndim < 1 || z.shape[z.ndim - 1] !== 2) {
    throw new Error(`${fn}: expected a complex tensor [.., 2] (real, imaginary last), got [${z.shape.join(', ')}]`);
  }
}

/**
 * The elementwise complex product of a [.., 2] and b [.., 2] (torch: view_as_real(view_as_complex(a) *
 * view_as_complex(b))), broadcasting the leading dims.
 *
 *   complexMul(rfft2(x, { norm: 'ortho' }), weight)   // [B, C, 32, 17, 2] ⊙ [C, 32, 17, 2]
 */
export function complexMul(a: Tensor, b: Tensor): Tensor {
  checkComplex('complexMul', a);
  checkComplex('complexMul', b);
  const br = slice(b, b.ndim - 1, 0, 1); // [.., 1]
  const bi = slice(b, b.ndim - 1, 1, 2); // [.., 1]
  const sign = constantLike(Float64Array.of(-1, 1), [2], b); // [2]
  return a.mul(br).add(flip(a, a.ndim - 1).mul(bi.mul(sign))); // [.., 2]
}
