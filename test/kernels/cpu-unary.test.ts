// The reference unary kernel's per-op loops (kernels/cpu/unary.ts) give exactly UNARY_FNS[op] of every
// element, for each dtype, on the values where the formulas differ most: ±0, ±Infinity, NaN, tiny and
// huge magnitudes (sigmoid's two branches, relu at −0).
import t from 'tap';
import { UNARY_FNS, unary } from '../../kernels/cpu/unary.ts';
import type { UnaryOp } from '../../kernels/backend.ts';

const OPS = Object.keys(UNARY_FNS) as UnaryOp[];
const VALUES = [0, -0, 1, -1, 0.5, -0.5, 3.7, -3.7, 1e-30, -1e-30, 80, -80, 1e30, -1e30, Infinity, -Infinity, NaN, 2.5, -2.5, 6.5];

t.test('every op, every dtype: the loop equals UNARY_FNS[op] element by element', async (t) => {
  for (const [dtype, make] of [
    ['float32', (v: number[]) => Float32Array.from(v)],
    ['float64', (v: number[]) => Float64Array.from(v)],
    ['int32', (v: number[]) => Int32Array.from(v.filter(Number.isFinite).map(Math.trunc))],
  ] as const) {
    for (const op of OPS) {
      const x = make(VALUES);
      const got = unary(op, x);
      t.equal(got.constructor, x.constructor, `${op} ${dtype}: same dtype out`);
      const want = x.constructor === Float32Array ? Float32Array.from(x, UNARY_FNS[op]) : x.constructor === Float64Array ? Float64Array.from(x, UNARY_FNS[op]) : Int32Array.from(x, UNARY_FNS[op]);
      const same = Array.from(got).every((v, i) => Object.is(v, want[i]));
      t.ok(same, `${op} ${dtype}: ${Array.from(got).slice(0, 6)} …`);
    }
  }
});
