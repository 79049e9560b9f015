/**
 * Movement primitives (engine/ops/movement.ts): reshape, permute, transpose, expand, squeeze,
 * unsqueeze, flip, flatten; gradient checks on random shapes, PyTorch fixtures, error messages.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf, randPerm, randShape } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  reshape: ([x], a) => x.reshape(a.shape as number[]),
  permute: ([x], a) => x.permute(a.dims as number[]),
  transpose: ([x], a) => x.transpose(a.dim0 as number, a.dim1 as number),
  expand: ([x], a) => x.expand(a.shape as number[]),
  squeeze: ([x], a) => x.squeeze(a.dim === null ? undefined : (a.dim as number)),
  unsqueeze: ([x], a) => x.unsqueeze(a.dim as number),
  flip: ([x], a) => x.flip(a.dims as number | number[]),
  flatten: ([x], a) => x.flatten(a.start as number, a.end as number),
};
runOpFixture(t, 'movement', OPS);

t.test('gradcheck on random shapes', (t) => {
  const g = new Generator(61);
  for (let trial = 0; trial < 3; trial++) {
    const shape = randShape(g, 2, 4, 3);
    const n = shape.reduce((a, b) => a * b, 1);
    assertGradcheck(t, `reshape [${shape}] -> [-1]`, (x) => x.reshape([-1]), [leaf(shape, g)]);
    assertGradcheck(t, `reshape [${shape}] -> [${n}, 1]`, (x) => x.reshape([n, 1]).mul(x.reshape([n, 1])), [leaf(shape, g)]);
    const perm = randPerm(g, shape.length);
    assertGradcheck(t, `permute [${shape}] (${perm})`, (x) => x.permute(perm), [leaf(shape, g)]);
    assertGradcheck(t, `transpose [${shape}] (0, -1)`, (x) => x.transpose(0, -1), [leaf(shape, g)]);
    const dims = [...Array(shape.length).keys()].filter(() => g.random() < 0.5);
    assertGradcheck(t, `flip [${shape}] (${dims})`, (x) => x.flip(dims.length ? dims : [0]), [leaf(shape, g)]);
    // expand: set some dims to 1 and add a leading dim.
    const small = shape.map((d) => (g.random() < 0.5 ? 1 : d));
    assertGradcheck(t, `expand [${small}] -> [2, ${shape}]`, (x) => x.expand([2, ...shape]), [leaf(small, g)]);
    const d = g.int(0, shape.length + 1);
    assertGradcheck(t, `unsqueeze [${shape}] (${d}) then squeeze`, (x) => x.unsqueeze(d).mul(2).squeeze(d), [leaf(shape, g)]);
    assertGradcheck(t, `flatten [${shape}] (1)`, (x) => x.flatten(1), [leaf(shape, g)]);
  }
  // Movement of a non-contiguous input: a permute feeding each op.
  const p = permutedLeaf([2, 1, 3], g);
  const v = (x: E.Tensor) => x.permute(p.perm);
  assertGradcheck(t, 'reshape of a permuted input', (x) => v(x).reshape([3, 2]), [p.x]);
  assertGradcheck(t, 'expand of a permuted input', (x) => v(x).expand([4, 2, 2, 3]), [p.x]);
  assertGradcheck(t, 'flip of a permuted input', (x) => v(x).flip([0, 2]), [p.x]);
  assertGradcheck(t, 'squeeze of a permuted input', (x) => v(x).squeeze(1), [p.x]);
  assertGradcheck(t, 'permute of a permuted input', (x) => v(x).permute([2, 0, 1]), [p.x]);
  t.end();
});

t.test('reshape shares storage; permute copies', (t) => {
  const x = E.arange(6).reshape([2, 3]);
  t.equal(x.reshape([3, 2]).storage, x.storage);
  t.same(x.t().toArray(), [0, 3, 1, 4, 2, 5]);
  t.end();
});

t.test('errors', (t) => {
  const x = E.zeros([2, 3]);
  t.throws(() => x.reshape([4]), /shape \[4\] is invalid for input of size 6/, 'reshape to the wrong size');
  t.throws(() => x.reshape([-1, 4]), /shape \[-1, 4\] is invalid for input of size 6/, 'reshape with an impossible -1');
  t.throws(() => x.permute([0, 0]), /not a permutation/, 'permute with a repeated dim');
  t.throws(() => x.expand([2, 4]), /\[2,\s?3\].*\[2,\s?4\]/, 'expand of a non-1 dim names both shapes');
  t.throws(() => x.expand([1, 3]), /cannot be expanded/, 'expand to a smaller size');
  t.throws(() => x.transpose(0, 2), /dimension out of range/, 'transpose dim out of range');
  t.end();
});
