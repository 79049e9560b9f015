/**
 * SIMD elementwise kernels and the last-axis sum, as WebAssembly functions (float32 only).
 *
 *   bin_<op>(a, b, out, rows, len, bSplat)   out[r, j] = a[r, j] op B(r, j), rows × len, where
 *                                            B(r, j) = b[j] (a row vector, or the whole of b when
 *                                            rows = 1) or, when bSplat = 1, b[r] (one per row);
 *                                            op: add sub mul div maximum minimum eq ne lt le gt ge
 *   bin_sub_r, bin_div_r (same arguments)    out[r, j] = B(r, j) op a[r, j] (a broadcast left operand)
 *   exp(x, out, n)                           out[i] = e^x[i], to about 1 ulp of float32
 *   sigmoid(x, out, n)                       out[i] = 1 / (1 + e^-x[i]), with exp's clamping
 *   neg abs sqrt relu (x, out, n)            exact: the reference's values bit for bit
 *   sum_rows(x, out, outer, inner)           out[o] = Σ_i x[o, i], accumulated in f64 like the
 *                                            reference (so results agree to float32 rounding)
 *
 * Those shapes are what broadcasting in a transformer mostly is: same-shape tensors, a bias or
 * scale over the last axes (b[j]), and a per-row statistic such as a mean or a softmax sum (b[r]).
 * The host (`binary.ts`, `unary.ts`, `reduce.ts`) recognises them from the strides and sends anything
 * else to the reference.
 *
 * Comparisons give 1.0 or 0.0, like the reference.
 * What it does not: float64 / int32, pow, or the unary ops other than the six above (log, sin, cos,
 * tanh, erf, sign: Math.sin and friends have no SIMD instruction; a polynomial for each is future work).
 */
import {
  f32, f32x4, f64, f64x2, forRange, get, i32, i32x4, ifThen, set, v128, ValType,
  type Code, type Func, type Local, type Module,
} from './assembler.ts';

/** The binary ops with a SIMD instruction, and the host's names for them. */
export const SIMD_BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** The unary ops with a SIMD kernel (each an export of that name). */
export const SIMD_UNARY = ['exp', 'sigmoid', 'neg', 'abs', 'sqrt', 'relu'] as const;
export type SimdUnaryOp = typeof SIMD_UNARY[number];
export type SimdBinaryOp = (typeof SIMD_BINARY)[number];

/** A comparison's lane mask (all ones / all zeros) ANDed with the bits of 1.0f: 1.0 where true, 0.0 where not. */
const ONES = v128.const([1, 1, 1, 1]);
const asFloat = (compare: (x: Code, y: Code) => Code) => (x: Code, y: Code): Code => v128.and(compare(x, y), ONES);
/** The scalar comparison's i32 (1 or 0) as a float. */
const asFloat1 = (compare: (x: Code, y: Code) => Code) => (x: Code, y: Code): Code => f32.convertI32U(compare(x, y));

const VECTOR: Record<SimdBinaryOp, (x: Code, y: Code) => Code> = {
  add: f32x4.add, sub: f32x4.sub, mul: f32x4.mul, div: f32x4.div,
  // wasm's min / max return NaN when either input is NaN, like torch.maximum / minimum.
  maximum: f32x4.max, minimum: f32x4.min,
  // IEEE comparisons, as JavaScript's: false with a NaN on either side, except ne (true).
  eq: asFloat(f32x4.eq), ne: asFloat(f32x4.ne), lt: asFloat(f32x4.lt), le: asFloat(f32x4.le), gt: asFloat(f32x4.gt), ge: asFloat(f32x4.ge),
};
const SCALAR: Record<SimdBinaryOp, (x: Code, y: Code) => Code> = {
  add: f32.add, sub: f32.sub, mul: f32.mul, div: f32.div, maximum: f32.max, minimum: f32.min,
  eq: asFloat1(f32.eq), ne: asFloat1(f32.ne), lt: asFloat1(f32.lt), le: asFloat1(f32.le), gt: asFloat1(f32.gt), ge: asFloat1(f32.ge),
};

/** Name of the export computing `op`; `swapped` computes b op a (for a broadcast left operand). */
export const binaryName = (op: SimdBinaryOp, swapped: boolean): `bin_${string}` => `bin_${op}${swapped ? '_r' : ''}`;

function emitBinary(f: Func, op: SimdBinaryOp, swapped: boolean): void {
  const [a, b, out, rows, len, bSplat] = f.params;
  const [r, j, vecEnd, bRow] = [f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32)];
  const bv = f.local(ValType.v128);
  const vop = (x: Code, y: Code): Code => (swapped ? VECTOR[op](y, x) : VECTOR[op](x, y));
  const sop = (x: Code, y: Code): Code => (swapped ? SCALAR[op](y, x) : SCALAR[op](x, y));
  const at = (base: Local, index: Local): Code => i32.add(get(base), i32.shl(get(index), i32.const(2)));
  // One row: whole vectors of 4, then the 0-3 leftover elements one at a time.
  const row = (bVector: (jj: Local) => Code, bScalar: (jj: Local) => Code): Code => [
    ...forRange(j, i32.const(0), get(vecEnd), i32.const(4),
      v128.store(at(out, j), vop(v128.load(at(a, j)), bVector(j)))),
    ...forRange(j, get(vecEnd), get(len), i32.const(1),
      f32.store(at(out, j), sop(f32.load(at(a, j)), bScalar(j)))),
  ];
  f.body = [
    ...set(vecEnd, i32.and(get(len), i32.const(~3))),
    ...forRange(r, i32.const(0), get(rows), i32.const(1),
      ifThen(get(bSplat),
        // b[r] for the whole row: splat it once, outside the loop over j.
        [set(bRow, at(b, r)), set(bv, v128.load32Splat(get(bRow))),
          row(() => get(bv), () => f32.load(get(bRow)))],
        [row((jj) => v128.load(at(b, jj)), (jj) => f32.load(at(b, jj)))]),
      set(a, i32.add(get(a), i32.shl(get(len), i32.const(2)))),
      set(out, i32.add(get(out), i32.shl(get(len), i32.const(2))))),
  ];
}

/**
 * exp on four lanes at once, the Cephes `expf` recipe (S. L. Moshier, cephes/single/expf.c):
 *   n = round(x / ln2), r = x - n·ln2 (ln2 split in two so that n·ln2_hi is exact), |r| ≤ ln2/2,
 *   e^r ≈ 1 + r + r²·P(r) with P a degree-5 minimax polynomial (relative error < 2e-7),
 *   e^x = e^r · 2^n, where 2^n is built from its bits: (n + 127) << 23.
 * x is clamped to [-104, 88.8] first and 2^n applied as 2^(n>>1) · 2^(n - n>>1), so that every
 * factor is a normal float: large x still overflows to +inf, very negative x underflows gradually
 * to 0 through the subnormals, and NaN stays NaN (min / max and the polynomial propagate it).
 */
function expVector(f: Func, x: Code): Code {
  const [v, n, r, p, h] = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128),
    f.local(ValType.v128), f.local(ValType.v128)];
  const c = (value: number): Code => v128.const([value, value, value, value]);
  const pow2 = (ints: Code): Code => i32x4.shl(i32x4.add(ints, i32x4.splat(i32.const(127))), i32.const(23));
  const poly = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  const horner: Code[] = [set(p, c(poly[0]))];
  for (const coef of poly.slice(1)) horner.push(set(p, f32x4.add(f32x4.mul(get(p), get(r)), c(coef))));
  return [
    ...set(v, f32x4.max(f32x4.min(x, c(88.8)), c(-104))),
    ...set(n, f32x4.nearest(f32x4.mul(get(v), c(Math.LOG2E)))),
    ...set(r, f32x4.sub(f32x4.sub(get(v), f32x4.mul(get(n), c(0.693359375))), f32x4.mul(get(n), c(-2.12194440e-4)))),
    ...horner.flat(),
    // e^r = r²·P(r) + r + 1
    ...set(p, f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(get(r), get(r)), get(p)), get(r)), c(1))),
    // n as integers, then 2^(n>>1) and 2^(n - n>>1)
    ...set(n, i32x4.truncSatF32x4S(get(n))),
    ...set(h, i32x4.shrS(get(n), i32.const(1))),
    ...f32x4.mul(f32x4.mul(get(p), pow2(get(h))), pow2(i32x4.sub(get(n), get(h)))),
  ];
}

/** σ(x) = 1 / (1 + e^{-x}) on four lanes, with `expVector`'s clamping (so no NaN from inf / inf). */
function sigmoidVector(f: Func, x: Code): Code {
  const one = v128.const([1, 1, 1, 1]);
  return f32x4.div(one, f32x4.add(one, expVector(f, f32x4.neg(x))));
}

/** out[i] = g(x[i]) for a four-lane function g: SIMD over the bulk, lane 0 for the 0-3 leftovers. */
function emitMap(f: Func, g: (f: Func, x: Code) => Code): void {
  const [x, out, n] = f.params;
  const [i, vecEnd] = [f.local(ValType.i32), f.local(ValType.i32)];
  const at = (base: Local): Code => i32.add(get(base), i32.shl(get(i), i32.const(2)));
  f.body = [
    ...set(vecEnd, i32.and(get(n), i32.const(~3))),
    ...forRange(i, i32.const(0), get(vecEnd), i32.const(4),
      v128.store(at(out), g(f, v128.load(at(x))))),
    // The 0-3 leftovers: put each in lane 0 of a vector and use the same code.
    ...forRange(i, get(vecEnd), get(n), i32.const(1),
      f32.store(at(out), f32x4.extractLane(g(f, f32x4.splat(f32.load(at(x)))), 0))),
  ];
}

/**
 * Row sums in f64: each f32x4 is widened into two f64x2 (low pair, then the high pair moved down
 * by a shuffle) and added to two f64x2 accumulators, so float32 inputs are summed with the
 * reference's double precision at SIMD speed.
 */
function emitSumRows(f: Func): void {
  const [x, out, outer, inner] = f.params;
  const [o, i, vecEnd] = [f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32)];
  const [lo, hi, v] = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)];
  const s = f.local(ValType.f64);
  const at = (index: Local): Code => i32.add(get(x), i32.shl(get(index), i32.const(2)));
  const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  f.body = [
    ...set(vecEnd, i32.and(get(inner), i32.const(~3))),
    ...forRange(o, i32.const(0), get(outer), i32.const(1),
      set(lo, f64x2.splat(f64.const(0))),
      set(hi, f64x2.splat(f64.const(0))),
      forRange(i, i32.const(0), get(vecEnd), i32.const(4),
        set(v, v128.load(at(i))),
        set(lo, f64x2.add(get(lo), f64x2.promoteLowF32x4(get(v)))),
        set(hi, f64x2.add(get(hi), f64x2.promoteLowF32x4(v128.shuffle(get(v), get(v), HIGH_TO_LOW))))),
      set(lo, f64x2.add(get(lo), get(hi))),
      set(s, f64.add(f64x2.extractLane(get(lo), 0), f64x2.extractLane(get(lo), 1))),
      forRange(i, get(vecEnd), get(inner), i32.const(1),
        set(s, f64.add(get(s), f64.promoteF32(f32.load(at(i)))))),
      f32.store(i32.add(get(out), i32.shl(get(o), i32.const(2))), f32.demoteF64(get(s))),
      set(x, i32.add(get(x), i32.shl(get(inner), i32.const(2))))),
  ];
}

/** Add the elementwise and reduction functions to the module. */
export function addElementwise(mod: Module): void {
  const { i32: I } = ValType;
  for (const op of SIMD_BINARY) {
    emitBinary(mod.func(binaryName(op, false), [I, I, I, I, I, I]), op, false);
    if (op === 'sub' || op === 'div') emitBinary(mod.func(binaryName(op, true), [I, I, I, I, I, I]), op, true);
  }
  emitMap(mod.func('exp', [I, I, I]), expVector);
  emitMap(mod.func('sigmoid', [I, I, I]), sigmoidVector);
  // Exact ones: the same float32 as the reference's double-precision Math call rounded to float32
  // (negation and |x| are exact; sqrt is correctly rounded in both). relu = pmax(0, x) = 0 < x ? x : 0,
  // the reference's `x > 0 ? x : 0` lane by lane: NaN and −0 give +0, as there.
  emitMap(mod.func('neg', [I, I, I]), (_f, x) => f32x4.neg(x));
  emitMap(mod.func('abs', [I, I, I]), (_f, x) => f32x4.abs(x));
  emitMap(mod.func('sqrt', [I, I, I]), (_f, x) => f32x4.sqrt(x));
  emitMap(mod.func('relu', [I, I, I]), (_f, x) => f32x4.pmax(v128.const([0, 0, 0, 0]), x));
  emitSumRows(mod.func('sum_rows', [I, I, I, I]));
}
