/**
 * The host side of the SIMD binary kernels: recognise a broadcast the wasm code handles and run
 * `bin_<op>` on the operands where they lie in the arena (`runResident`, arena.ts), or, when the
 * arena has no room, copy them into the growable unshared memory (`WasmKernels.local`) and the result out.
 *
 * Handled (float32, after dropping size-1 axes), `x` dense with the output's shape and `y` either
 *   dense too                       x + y
 *   repeated over leading axes      x[N, D] + bias[D]         (y strides 0, ..., 0, dense)
 *   repeated over trailing axes     x[N, D] - mean[N, 1]      (y strides dense, ..., 0, 0)
 *   one number                      x * 0.5
 * with x = a, y = b, or x = b, y = a (then `sub` / `div` use their swapped kernels).
 * Anything else returns null and the backend uses the reference kernel.
 */
import { sizeOf, type BinaryOp } from '../backend.ts';
import { SIMD_BINARY, binaryName, type SimdBinaryOp } from './elementwise.ts';
import { runResident } from './arena.ts';
import { copyOut, newF32, type WasmKernels } from './module.ts';

/** rows × len, with y read as y[j] (splat = false) or y[r] (splat = true); count = y's elements. */
interface Layout { rows: number; len: number; splat: boolean; count: number }

const isSimdOp = (op: BinaryOp): op is SimdBinaryOp => (SIMD_BINARY as readonly string[]).includes(op);

/** How y (strides `ys`) is laid out against a dense output of shape `shape`, or null. */
function layoutOf(ys: readonly number[], shape: readonly number[]): Layout | null {
  const nd = shape.length;
  const n = sizeOf(shape);
  // trailing[d] = product of shape[d..]: the dense stride of axis d - 1.
  const trailing = new Array<number>(nd + 1).fill(1);
  for (let d = nd - 1; d >= 0; d--) trailing[d] = trailing[d + 1] * shape[d];
  // s = the first axis where y stops being 0 (bias) or stops being non-zero (row statistic).
  let s = 0;
  while (s < nd && ys[s] === 0) s++;
  if (ys.slice(s).every((st, i) => st === trailing[s + i + 1])) {
    if (s === nd) return { rows: 1, len: n, splat: true, count: 1 }; // a single number
    return { rows: n / trailing[s], len: trailing[s], splat: false, count: trailing[s] };
  }
  s = 0;
  while (s < nd && ys[s] !== 0) s++;
  if (ys.slice(s).every((st) => st === 0) && ys.slice(0, s).every((st, d) => st === trailing[d + 1] / trailing[s])) {
    return { rows: n / trailing[s], len: trailing[s], splat: true, count: n / trailing[s] };
  }
  return null;
}

export function binaryF32(
  kernels: WasmKernels, op: BinaryOp,
  a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[],
  outShape: readonly number[],
): Float32Array | null {
  if (!isSimdOp(op)) return null;
  // Size-1 axes read one element whatever their stride: drop them.
  const keep = outShape.map((d) => d !== 1);
  const shape = outShape.filter((_, d) => keep[d]);
  const as = aStrides.filter((_, d) => keep[d]);
  const bs = bStrides.filter((_, d) => keep[d]);
  const n = sizeOf(shape);
  const dense = shape.map((_, d) => sizeOf(shape.slice(d + 1)));
  const isDense = (st: readonly number[]): boolean => st.every((v, d) => v === dense[d]);
  let x = a, y = b, swapped = false, layout: Layout | null = null;
  if (isDense(as)) layout = layoutOf(bs, shape);
  if (layout === null && isDense(bs)) {
    layout = layoutOf(as, shape);
    [x, y, swapped] = [b, a, true];
  }
  if (layout === null) return null;
  if (op === 'add' || op === 'mul' || op === 'maximum' || op === 'minimum') swapped = false; // commutative

  const name = binaryName(op, swapped), { rows, len, count } = layout, splat = layout.splat ? 1 : 0;
  const r = kernels.resident;
  const done = r && runResident(r.arena, [[x, n], [y, count]], n, newF32,
    ([xAt, yAt], outAt) => r.exports[name](xAt, yAt, outAt, rows, len, splat));
  if (done) return done;
  // The copying path (no room in the arena): the same kernel over the growable local memory.
  const xPtr = kernels.local.reserve(4 * (2 * n + layout.count + 8));
  const yPtr = xPtr + 4 * n, outPtr = yPtr + 4 * layout.count;
  const mem = new Float32Array(kernels.local.memory.buffer);
  mem.set(x.subarray(0, n), xPtr / 4);
  mem.set(y.subarray(0, layout.count), yPtr / 4);
  kernels.local.exports[binaryName(op, swapped)](xPtr, yPtr, outPtr, layout.rows, layout.len, layout.splat ? 1 : 0);
  return copyOut(mem, outPtr / 4, n);
}
