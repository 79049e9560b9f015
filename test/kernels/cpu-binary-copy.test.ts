// The reference kernels' fast paths give exactly what the plain definitions give:
//   - binary (kernels/cpu/binary.ts): each op's own loop equals BINARY_FNS[op] element by element, for
//     every dtype, dense and broadcast, on the values where comparisons and arithmetic differ most
//     (±0, ±Infinity, NaN);
//   - copy (kernels/cpu/copy.ts): the float32 tile loop, the broadcast `fill` rows and the memcpy of a
//     contiguous block equal a naive element-by-element strided copy, for permutes, broadcasts (stride
//     0), flips (negative strides), offsets and mixed dtypes.
import t from 'tap';
import { BINARY_FNS, binary } from '../../kernels/cpu/binary.ts';
import { copy } from '../../kernels/cpu/copy.ts';
import type { BinaryOp, DType, TypedArray } from '../../kernels/backend.ts';

const OPS = Object.keys(BINARY_FNS) as BinaryOp[];
const VALUES = [0, -0, 1, -1, 0.5, -2.5, 3, 1e30, -1e-30, Infinity, -Infinity, NaN];
const ARRAYS: Record<DType, (v: number[]) => TypedArray> = {
  float32: (v) => Float32Array.from(v),
  float64: (v) => Float64Array.from(v),
  int32: (v) => Int32Array.from(v.filter(Number.isFinite).map(Math.trunc)),
};

t.test('binary: every op, every dtype, dense and broadcast, equals BINARY_FNS[op]', async (t) => {
  for (const dtype of Object.keys(ARRAYS) as DType[]) {
    const col = ARRAYS[dtype](VALUES); // [n]
    const n = col.length;
    const out = new (col.constructor as Float64ArrayConstructor)(n * n);
    for (const op of OPS) {
      // a[i, j] = col[i] (stride 0 along j), b[i, j] = col[j] (stride 0 along i): every pair once.
      const got = binary(op, col, [1, 0], col, [0, 1], [n, n], dtype);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = BINARY_FNS[op](col[i], col[j]);
      t.ok(got.every((v, k) => Object.is(v, out[k])), `${op} ${dtype}, all pairs`);
      const dense = binary(op, col, [1], col.slice().reverse(), [1], [n], dtype);
      const want = Array.from(col, (v, i) => BINARY_FNS[op](v, col[n - 1 - i]));
      const cast = ARRAYS[dtype === 'int32' ? 'float64' : dtype](want); // round like the output array does
      t.ok(dense.every((v, k) => Object.is(v, dtype === 'int32' ? (want[k] | 0) : cast[k])), `${op} ${dtype}, dense`);
    }
  }
});

/** out[dst(i)] = src[src(i)] one element at a time: the definition of a strided copy. */
function naiveCopy(src: TypedArray, so: number, ss: readonly number[], dst: TypedArray, d0: number, ds: readonly number[], shape: readonly number[]): void {
  const idx = shape.map(() => 0);
  const total = shape.reduce((a, b) => a * b, 1);
  for (let k = 0; k < total; k++) {
    let s = so, d = d0;
    for (let a = 0; a < shape.length; a++) { s += idx[a] * ss[a]; d += idx[a] * ds[a]; }
    dst[d] = src[s];
    for (let a = shape.length - 1; a >= 0; a--) { if (++idx[a] < shape[a]) break; idx[a] = 0; }
  }
}

t.test('copy: fast paths equal the naive strided copy', async (t) => {
  const src = Float32Array.from({ length: 4 * 5 * 6 + 7 }, (_, i) => i * 0.25 - 3);
  // [shape, src strides, src offset] read into a dense destination.
  const cases: [string, number[], number[], number][] = [
    ['contiguous block at an offset (memcpy)', [4, 5, 6], [30, 6, 1], 7],
    ['permute (0, 2, 1)', [4, 6, 5], [30, 1, 6], 0],
    ['permute (2, 0, 1): column reads', [6, 4, 5], [1, 30, 6], 0],
    ['broadcast a column over the last axis (fill rows)', [4, 5, 6], [30, 6, 0], 2],
    ['broadcast over the leading axis', [3, 5, 6], [0, 6, 1], 0],
    ['one value everywhere', [3, 4], [0, 0], 11],
    ['flip the last axis', [4, 5, 6], [30, 6, -1], 5],
    ['flip the first axis', [4, 5, 6], [-30, 6, 1], 90],
    ['every other element', [4, 3, 3], [30, 12, 2], 0],
    ['a single element', [1], [1], 9],
  ];
  for (const [name, shape, strides, offset] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const dense = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1));
    for (const [dtype, make] of [['float32', (k: number) => new Float32Array(k)], ['float64', (k: number) => new Float64Array(k)]] as const) {
      const got = make(n + 3).fill(-99), want = make(n + 3).fill(-99);
      copy(src, offset, strides, got, 2, dense, shape); // into the middle of a larger array
      naiveCopy(src, offset, strides, want, 2, dense, shape);
      t.same(Array.from(got), Array.from(want), `${name} (float32 -> ${dtype})`);
    }
  }
  // A strided destination (a transposed write) and int32 on both sides.
  const ints = Int32Array.from({ length: 24 }, (_, i) => i - 12);
  const got = new Int32Array(24), want = new Int32Array(24);
  copy(ints, 0, [6, 1], got, 0, [1, 4], [4, 6]);
  naiveCopy(ints, 0, [6, 1], want, 0, [1, 4], [4, 6]);
  t.same(Array.from(got), Array.from(want), 'int32, transposed destination');
  const f = new Float32Array(24), fw = new Float32Array(24);
  copy(src, 3, [6, 1], f, 0, [1, 4], [4, 6]);
  naiveCopy(src, 3, [6, 1], fw, 0, [1, 4], [4, 6]);
  t.same(Array.from(f), Array.from(fw), 'float32, transposed destination');
});
