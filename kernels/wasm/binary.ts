/**
 * The host side of the SIMD binary kernels: recognise a broadcast the wasm code handles and run
 * `bin_<op>` on the operands where they lie in the arena (`runResident`, arena.ts), or, when the
 * arena has no room, copy them into the growable unshared memory (`WasmKernels.local`) and the result out.
 *
 * Handled (float32, after dropping size-1 axes), `x` dense with the output's shape and `y` either
 *   dense too                       x + y
 *   repeated over leading axes      x[N, D] + bias[D]         (y strides 0, ..., 0, dense)
 *   repeated over trailing axes     x[N, D] - mean[N, 1]      (y strides dense, ..., 0, 0)
 *   repeated over both              X[B, C, H, 2] · w[C, H, 1] (y strides 0, dense, 0: y tiled over B first)
 *   one number                      x * 0.5
 * with x = a, y = b, or x = b, y = a (then `sub` / `div` use their swapped kernels, and a comparison
 * its mirror: y < x is x > y).
 * Anything else returns null and the backend uses the reference kernel.
 */
import { sizeOf, type BinaryOp } from '../backend.ts';
import { SIMD_BINARY, binaryName, type SimdBinaryOp } from './elementwise.ts';
import { runResident } from './arena.ts';
import { copyOut, newF32, type WasmKernels } from './module.ts';

/**
 * rows × len, with y read as y[j] (splat = false) or y[r] (splat = true); count = y's elements as the
 * kernel reads them. `repeat` > 1: y's `count / repeat` elements repeat that many times along the
 * rows (y broadcast over leading AND trailing axes), and the host lays them out tiled first.
 */
interface Layout { rows: number; len: number; splat: boolean; count: number; repeat: number }

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
    if (s === nd) return { rows: 1, len: n, splat: true, count: 1, repeat: 1 }; // a single number
    return { rows: n / trailing[s], len: trailing[s], splat: false, count: trailing[s], repeat: 1 };
  }
  // y dense over axes [s, e) and repeated over the axes before (s of them, maybe none) and after.
  let e = s;
  while (e < nd && ys[e] !== 0) e++;
  if (e < nd && ys.slice(e).every((st) => st === 0) && ys.slice(s, e).every((st, i) => st === trailing[s + i + 1] / trailing[e])) {
    const rows = n / trailing[e];
    return { rows, len: trailing[e], splat: true, count: rows, repeat: n / trailing[s] };
  }
  return null;
}

const COMMUTATIVE = new Set<BinaryOp>(['add', 'mul', 'maximum', 'minimum', 'eq', 'ne']);
const MIRRORED = { lt: 'gt', gt: 'lt', le: 'ge', ge: 'le' } as const;

/** `times` copies of y's first `count` elements, back to back. */
function tiled(y: Float32Array, count: number, times: number): Float32Array {
  const out = new Float32Array(count * times);
  for (let i = 0; i < times; i++) out.set(y.subarray(0, count), i * count);
  return out;
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
  if (COMMUTATIVE.has(op)) swapped = false;
  // y < x is x > y: a comparison with its operands swapped is the mirrored comparison.
  if (swapped && op in MIRRORED) [op, swapped] = [MIRRORED[op as keyof typeof MIRRORED], false];
  if (layout.repeat > 1) y = tiled(y, layout.count / layout.repeat, layout.repeat);

  const name = binaryName(op, swapped), { rows, len, count } = layout, splat = layout.splat ? 1 : 0;
  const r = kernels.resident;
  const done = r && runResident(r.arena, [[x, n], [y, count]], n, newF32,
    ([xAt, yAt], outAt) => r.exports[name](xAt, yAt, outAt, rows, len, splat));
  if (done) return done;
  // The copying path (no room in the arena): the same kernel over the growable local memory.
  const xPtr = kernels.local.reserve(4 * (2 * n + count + 8));
  const yPtr = xPtr + 4 * n, outPtr = yPtr + 4 * count;
  const mem = new Float32Array(kernels.local.memory.buffer);
  mem.set(x.subarray(0, n), xPtr / 4);
  mem.set(y.subarray(0, count), yPtr / 4);
  kernels.local.exports[name](xPtr, yPtr, outPtr, rows, len, splat);
  return copyOut(mem, outPtr / 4, n);
}
