/**
 * Elementwise binary kernels with NumPy broadcasting, and `where`, on the GPU (float32).
 *
 * Broadcasting is done with strides as constants: strided.ts merges the axes and pads them to
 * MAX_RANK = 6; each thread peels its output coordinates off its flat index (axis 5 first) and walks
 * every operand by that operand's strides (0 repeats it). The per-axis peel is written out six
 * times rather than looped because gpu.js has no arrays of constants; see strided.ts for why each
 * peel has the two fix-up lines.
 *
 * Differences from kernels/cpu/binary.ts: `pow` with a negative base is computed as |x|^y with the
 * sign fixed for integer y (GLSL pow is undefined for x < 0); x < 0 with fractional y, and NaN
 * propagation through maximum / minimum, depend on the device's NaN handling.
 */
import type { BinaryOp } from '../backend.ts';
import type { KernelThis } from './device.ts';
import type { KernelRunner } from './runner.ts';
import type { GpuStorage } from './storage.ts';
import { planStrided, stridedConstants } from './strided.ts';

/** The `op` constant of `binaryKernel`. */
export const BINARY_CODES: Record<BinaryOp, number> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12,
};

/** Sizes n0..n5 of the padded output shape. */
interface Shape6 { n0: number; n1: number; n2: number; n3: number; n4: number; n5: number }
type Strides6<P extends string> = { [K in `${P}${0 | 1 | 2 | 3 | 4 | 5}`]: number };

export function binaryKernel(
  this: KernelThis<Shape6 & Strides6<'a'> & Strides6<'b'> & { op: number }>, a: Float32Array, b: Float32Array,
): number {
  let rest = this.thread.x; // flat output index; each peel leaves the outer part in `rest`
  let ia = 0;
  let ib = 0;
  let q = Math.floor(rest / this.constants.n5);
  let c = rest - q * this.constants.n5;
  if (c < 0) { q = q - 1; c = c + this.constants.n5; }
  if (c >= this.constants.n5) { q = q + 1; c = c - this.constants.n5; }
  ia = ia + c * this.constants.a5;
  ib = ib + c * this.constants.b5;
  rest = q;
  q = Math.floor(rest / this.constants.n4);
  c = rest - q * this.constants.n4;
  if (c < 0) { q = q - 1; c = c + this.constants.n4; }
  if (c >= this.constants.n4) { q = q + 1; c = c - this.constants.n4; }
  ia = ia + c * this.constants.a4;
  ib = ib + c * this.constants.b4;
  rest = q;
  q = Math.floor(rest / this.constants.n3);
  c = rest - q * this.constants.n3;
  if (c < 0) { q = q - 1; c = c + this.constants.n3; }
  if (c >= this.constants.n3) { q = q + 1; c = c - this.constants.n3; }
  ia = ia + c * this.constants.a3;
  ib = ib + c * this.constants.b3;
  rest = q;
  q = Math.floor(rest / this.constants.n2);
  c = rest - q * this.constants.n2;
  if (c < 0) { q = q - 1; c = c + this.constants.n2; }
  if (c >= this.constants.n2) { q = q + 1; c = c - this.constants.n2; }
  ia = ia + c * this.constants.a2;
  ib = ib + c * this.constants.b2;
  rest = q;
  q = Math.floor(rest / this.constants.n1);
  c = rest - q * this.constants.n1;
  if (c < 0) { q = q - 1; c = c + this.constants.n1; }
  if (c >= this.constants.n1) { q = q + 1; c = c - this.constants.n1; }
  ia = ia + c * this.constants.a1;
  ib = ib + c * this.constants.b1;
  ia = ia + q * this.constants.a0; // what is left is the axis-0 coordinate
  ib = ib + q * this.constants.b0;

  const x = a[ia];
  const y = b[ib];
  let r = 0;
  if (this.constants.op === 0) {
    r = x + y;
  } else if (this.constants.op === 1) {
    r = x - y;
  } else if (this.constants.op === 2) {
    r = x * y;
  } else if (this.constants.op === 3) {
    r = x / y;
  } else if (this.constants.op === 4) {
    if (y === 0) {
      r = 1;
    } else if (x === 0) {
      r = y > 0 ? 0 : 1 / x; // +Infinity where the device divides IEEE-style
    } else {
      const m = Math.pow(Math.abs(x), y);
      const half = y / 2;
      // a negative base keeps its sign for odd integer exponents: (-2)^3 = -8
      r = x < 0 && Math.floor(y) === y && Math.floor(half) !== half ? -m : m;
    }
  } else if (this.constants.op === 5) {
    r = x > y ? x : y;
    if (x !== x || y !== y) {
      r = x + y; // NaN in, NaN out (where the shader compiler keeps x != x)
    }
  } else if (this.constants.op === 6) {
    r = x < y ? x : y;
    if (x !== x || y !== y) {
      r = x + y;
    }
  } else if (this.constants.op === 7) {
    r = x === y ? 1 : 0;
  } else if (this.constants.op === 8) {
    r = x !== y ? 1 : 0;
  } else if (this.constants.op === 9) {
    r = x < y ? 1 : 0;
  } else if (this.constants.op === 10) {
    r = x <= y ? 1 : 0;
  } else if (this.constants.op === 11) {
    r = x > y ? 1 : 0;
  } else {
    r = x >= y ? 1 : 0;
  }
  return r;
}

/** out = cond[i·cStrides] != 0 ? a[i·aStrides] : b[i·bStrides]: the same peel, three operands. */
export function whereKernel(
  this: KernelThis<Shape6 & Strides6<'c'> & Strides6<'a'> & Strides6<'b'>>,
  cond: Float32Array, a: Float32Array, b: Float32Array,
): number {
  let rest = this.thread.x;
  let ic = 0;
  let ia = 0;
  let ib = 0;
  let q = Math.floor(rest / this.constants.n5);
  let c = rest - q * this.constants.n5;
  if (c < 0) { q = q - 1; c = c + this.constants.n5; }
  if (c >= this.constants.n5) { q = q + 1; c = c - this.constants.n5; }
  ic = ic + c * this.constants.c5;
  ia = ia + c * this.constants.a5;
  ib = ib + c * this.constants.b5;
  rest = q;
  q = Math.floor(rest / this.constants.n4);
  c = rest - q * this.constants.n4;
  if (c < 0) { q = q - 1; c = c + this.constants.n4; }
  if (c >= this.constants.n4) { q = q + 1; c = c - this.constants.n4; }
  ic = ic + c * this.constants.c4;
  ia = ia + c * this.constants.a4;
  ib = ib + c * this.constants.b4;
  rest = q;
  q = Math.floor(rest / this.constants.n3);
  c = rest - q * this.constants.n3;
  if (c < 0) { q = q - 1; c = c + this.constants.n3; }
  if (c >= this.constants.n3) { q = q + 1; c = c - this.constants.n3; }
  ic = ic + c * this.constants.c3;
  ia = ia + c * this.constants.a3;
  ib = ib + c * this.constants.b3;
  rest = q;
  q = Math.floor(rest / this.constants.n2);
  c = rest - q * this.constants.n2;
  if (c < 0) { q = q - 1; c = c + this.constants.n2; }
  if (c >= this.constants.n2) { q = q + 1; c = c - this.constants.n2; }
  ic = ic + c * this.constants.c2;
  ia = ia + c * this.constants.a2;
  ib = ib + c * this.constants.b2;
  rest = q;
  q = Math.floor(rest / this.constants.n1);
  c = rest - q * this.constants.n1;
  if (c < 0) { q = q - 1; c = c + this.constants.n1; }
  if (c >= this.constants.n1) { q = q + 1; c = c - this.constants.n1; }
  ic = ic + c * this.constants.c1;
  ia = ia + c * this.constants.a1;
  ib = ib + c * this.constants.b1;
  ic = ic + q * this.constants.c0;
  ia = ia + q * this.constants.a0;
  ib = ib + q * this.constants.b0;
  return cond[ic] !== 0 ? a[ia] : b[ib];
}

export function binaryGpu(
  r: KernelRunner, op: BinaryOp,
  a: GpuStorage, aStrides: readonly number[], b: GpuStorage, bStrides: readonly number[],
  outShape: readonly number[], out: GpuStorage,
): void {
  const plan = planStrided(outShape, [aStrides, bStrides]);
  const constants = { ...stridedConstants(plan, ['a', 'b']), op: BINARY_CODES[op] };
  r.launch({ name: 'binary', source: binaryKernel, constants, size: out.size, args: [a, b] }, out);
}

export function whereGpu(
  r: KernelRunner,
  cond: GpuStorage, cStrides: readonly number[], a: GpuStorage, aStrides: readonly number[],
  b: GpuStorage, bStrides: readonly number[], outShape: readonly number[], out: GpuStorage,
): void {
  const plan = planStrided(outShape, [cStrides, aStrides, bStrides]);
  const constants = stridedConstants(plan, ['c', 'a', 'b']);
  r.launch({ name: 'where', source: whereKernel, constants, size: out.size, args: [cond, a, b] }, out);
}
