/**
 * Numerical checks for the engine's tests: central-difference gradient checks and closeness of arrays.
 *
 *   gradcheck(fn, inputs)        autograd vs central differences, in float64
 *   assertGradcheck(t, name, ...) the same as a tap assertion
 *   assertClose(t, a, e, opts)   max|a - e| <= atol + rtol · max|e|  (one relative error per tensor)
 *
 * gradcheck reduces the output to the scalar L = Σ out ⊙ w with a fixed random weighting w, so every
 * output element matters and the op's backward is fed a non-uniform upstream gradient (out.backward(w)).
 * For each element j of each input that requires grad:
 *     numerical_j = (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)
 * computed as Σ w ⊙ (out⁺ - out⁻) so that the two large sums do not cancel. An element passes when
 * |analytic - numerical| <= atol + rtol · |numerical|, as torch.autograd.gradcheck does. With eps = 1e-6
 * the truncation error is O(eps²) ≈ 1e-12 and rounding is ≈ 1e-16 · |out| / eps ≈ 1e-10 · |out|, so the
 * default atol = 1e-7 leaves room for outputs up to ~100 in size.
 *
 * Reference: minitorch's `grad_check` (autodiff.py) and torch.autograd.gradcheck.
 */
import type { Test } from 'tap';
import { Generator, noGrad, tensor, type Tensor } from '../../engine/index.ts';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the output weighting w. */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** max |analytic - numerical| over every checked element. */
  maxAbsErr: number;
  /** max |analytic - numerical| / max(|numerical|, 1e-12), for reports. */
  maxRelErr: number;
  /** Elements checked (all inputs together). */
  checked: number;
  /** Why it failed (the worst element, its index and both values), or a one-line summary. */
  message: string;
}

function unravel(j: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = j % shape[d];
    j = Math.floor(j / shape[d]);
  }
  return idx;
}

/**
 * Compare autograd's gradient of `fn` with central differences, for every input that requires grad.
 * Inputs must be leaves; those requiring grad must be float64. Other inputs (int32 indices, masks)
 * are passed through unchanged. `fn` must be deterministic (re-seed any generator inside it).
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-7, rtol = 1e-5, seed = 1234 } = opts;
  for (const [i, x] of inputs.entries()) {
    if (x.gradNode !== null) throw new Error(`gradcheck: input ${i} is not a leaf (pass leaves, transform them inside fn)`);
    if (x.requiresGrad && x.dtype !== 'float64') throw new Error(`gradcheck: input ${i} requires grad but is ${x.dtype}, not float64`);
  }
  if (!inputs.some((x) => x.requiresGrad)) throw new Error('gradcheck: no input requires grad');

  // Analytic: backward of the output against the weighting w.
  for (const x of inputs) x.zeroGrad();
  const out = fn(...inputs);
  if (out.dtype !== 'float64') throw new Error(`gradcheck: fn returned ${out.dtype}, expected float64`);
  const g = new Generator(seed);
  const w = new Float64Array(out.size);
  for (let k = 0; k < w.length; k++) w[k] = g.normal();
  const outValues = out.data();
  if (outValues.some((v) => !Number.isFinite(v))) {
    return { ok: false, maxAbsErr: NaN, maxRelErr: NaN, checked: 0, message: 'gradcheck: fn output has non-finite values' };
  }
  if (out.requiresGrad) out.backward(tensor(w, out.shape, { dtype: 'float64' }));
  const analytic = inputs.map((x) => (x.grad ? x.grad.data() : new Float64Array(x.size)));

  let maxAbsErr = 0, maxRelErr = 0, checked = 0;
  let worst: { ratio: number; text: string } = { ratio: -1, text: '' };
  noGrad(() => {
    for (const [i, x] of inputs.entries()) {
      if (!x.requiresGrad) continue;
      const base = x.data() as Float64Array;
      const evalWith = (values: Float64Array) => {
        const args = inputs.map((y, k) => (k === i ? tensor(values, x.shape, { dtype: 'float64' }) : y));
        return fn(...args).data();
      };
      for (let j = 0; j < base.length; j++) {
        const plus = base.slice();
        plus[j] += eps;
        const minus = base.slice();
        minus[j] -= eps;
        const op = evalWith(plus), om = evalWith(minus);
        let diff = 0;
        for (let k = 0; k < w.length; k++) diff += w[k] * (op[k] - om[k]);
        const numerical = diff / (2 * eps);
        const a = analytic[i][j];
        const err = Math.abs(a - numerical);
        const bound = atol + rtol * Math.abs(numerical);
        checked++;
        maxAbsErr = Math.max(maxAbsErr, err);
        maxRelErr = Math.max(maxRelErr, err / Math.max(Math.abs(numerical), 1e-12));
        const ratio = Number.isNaN(err) ? Infinity : err / bound;
        if (ratio > worst.ratio) {
          worst = {
            ratio,
            text: `input ${i} (shape [${x.shape}]) element [${unravel(j, x.shape)}]: analytic ${a}, numerical ${numerical}, ` +
              `|diff| ${err.toExponential(3)} vs atol + rtol·|numerical| = ${bound.toExponential(3)}`,
          };
        }
      }
    }
  });
  const ok = worst.ratio <= 1;
  const summary = `max abs err ${maxAbsErr.toExponential(2)}, max rel err ${maxRelErr.toExponential(2)} over ${checked} elements`;
  return { ok, maxAbsErr, maxRelErr, checked, message: ok ? summary : `gradcheck failed at ${worst.text} (${summary})` };
}

/** gradcheck as a tap assertion. */
export function assertGradcheck(
  t: Test, name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {},
): GradcheckResult {
  const r = gradcheck(fn, inputs, opts);
  t.ok(r.ok, `gradcheck ${name}: ${r.message}`);
  return r;
}

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  name?: string;
}

export interface CloseResult {
  ok: boolean;
  /** max |a - e| over finite expected values. */
  maxAbsErr: number;
  /** max |a - e| / max |e|: the relative error of the tensor as a whole. */
  relErr: number;
  message: string;
}

/**
 * Closeness of two arrays as one relative error per tensor:
 *     relErr = max_i |a_i - e_i| / max_i |e_i|,   pass when max_i |a_i - e_i| <= atol + rtol · max_i |e_i|.
 * Element-wise relative error is meaningless where a value crosses zero (sin, a centred gradient: one
 * rounding of a float32 input already gives any ratio there); scaling by the tensor's largest value
 * measures error against the precision the tensor is stored at. Non-finite expected values (±Infinity,
 * NaN) must be matched exactly. Lengths must agree.
 */
export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): CloseResult {
  const { rtol = 1e-5, atol = 0, name = 'tensor' } = opts;
  if (actual.length !== expected.length) {
    return { ok: false, maxAbsErr: NaN, relErr: NaN, message: `${name}: ${actual.length} values, expected ${expected.length}` };
  }
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (Number.isFinite(e)) scale = Math.max(scale, Math.abs(e));
  }
  let maxAbsErr = 0, worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) {
        return { ok: false, maxAbsErr: Infinity, relErr: Infinity, message: `${name}[${i}]: got ${a}, expected ${e}` };
      }
      continue;
    }
    const err = Math.abs(a - e);
    if (!(err <= maxAbsErr)) { // also catches NaN
      maxAbsErr = Number.isNaN(err) ? Infinity : err;
      worst = i;
    }
  }
  const relErr = maxAbsErr / Math.max(scale, 1e-300);
  const ok = maxAbsErr <= atol + rtol * scale;
  const where = worst >= 0 ? ` (worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]})` : '';
  return {
    ok, maxAbsErr, relErr,
    message: `${name}: rel err ${relErr.toExponential(2)} (max|a-e| ${maxAbsErr.toExponential(2)}, max|e| ${scale.toExponential(2)}, ` +
      `rtol ${rtol}${atol ? `, atol ${atol}` : ''})${ok ? '' : where}`,
  };
}

/** closeness as a tap assertion. */
export function assertClose(
  t: Test, actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {},
): CloseResult {
  const r = closeness(actual, expected, opts);
  t.ok(r.ok, r.message);
  return r;
}
