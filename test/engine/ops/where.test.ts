/**
 * Comparisons (forward only), `where` (gradients to both branches, broadcasting over all three
 * operands) and `clamp` (built on where): engine/ops/where.ts.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Operand, type Tensor } from '../../../engine/index.ts';
import { broadcastShapes as broadcastTo } from '../../../engine/shape.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { broadcastShapes, leaf, permutedLeaf, values } from '../../helpers/random.ts';

const COMPARE: Record<string, (a: Operand, b: Operand) => Tensor> = {
  eq: E.eq, ne: E.ne, lt: E.lt, le: E.le, gt: E.gt, ge: E.ge,
};

const OPS: Record<string, OpImpl> = {
  ...Object.fromEntries(Object.entries(COMPARE).map(([name, f]) => [
    name, ([a, b]: Tensor[], args) => (args.scalar === undefined ? f(a, b) : f(a, args.scalar as number)),
  ])),
  // The fixture's condition is 0/1 in the case dtype; torch.where took `c > 0.5`.
  where: ([c, a, b], args) => {
    if (args.y !== undefined) return E.where(c, a, args.y as number);
    if (args.x !== undefined) return E.where(c, args.x as number, a);
    return E.where(c, a, b);
  },
  clamp: ([x], args) => E.clamp(x, args.min as number | null, args.max as number | null),
};
runOpFixture(t, 'where', OPS);

/** A 0/1 float64 condition (no gradient). */
function mask(shape: readonly number[], g: Generator): Tensor {
  const v = values(shape.reduce((a, b) => a * b, 1), g).map((x) => (x > 0 ? 1 : 0));
  return E.tensor(v, shape, { dtype: 'float64' });
}

t.test('gradcheck where: both branches, broadcasting, permuted, numbers', (t) => {
  const g = new Generator(31);
  for (let trial = 0; trial < 4; trial++) {
    const [sa, sb] = broadcastShapes(g);
    const out = broadcastTo(sa, sb);
    const cshape = out.map((d) => (g.random() < 0.4 ? 1 : d)).slice(g.int(0, out.length));
    const c = mask(cshape, g);
    assertGradcheck(t, `where([${cshape}], [${sa}], [${sb}])`, (a, b) => E.where(c, a, b), [leaf(sa, g), leaf(sb, g)]);
  }
  const p = permutedLeaf([3, 4], g);
  const c = mask([3, 4], g);
  assertGradcheck(t, `where(c, x.permute(${p.perm}), y)`, (a, b) => E.where(c, a.permute(p.perm), b), [p.x, leaf([4], g)]);
  assertGradcheck(t, 'where(c, x, 0)', (a) => E.where(c, a, 0), [leaf([3, 4], g)]);
  assertGradcheck(t, 'where(c, -1, y)', (b) => E.where(c, -1, b), [leaf([3, 4], g)]);
  // A condition computed from the input itself (as relu or clamp do): no gradient through the mask.
  assertGradcheck(t, 'where(x > 0, x², -x)', (x) => E.where(x.gt(0), x.mul(x), x.neg()), [leaf([5], g, 'away')]);
  t.end();
});

t.test('gradcheck clamp (values away from the bounds)', (t) => {
  const g = new Generator(32);
  const away = (lo: number | null, hi: number | null) => {
    const v = values(12, g).map((x) => {
      for (const b of [lo, hi]) if (b !== null && Math.abs(x - b) < 0.05) return b + 0.1;
      return x;
    });
    return E.tensor(v, [3, 4], { dtype: 'float64', requiresGrad: true });
  };
  for (const [lo, hi] of [[-0.5, 0.7], [0.2, null], [null, -0.1]] as const) {
    assertGradcheck(t, `clamp(${lo}, ${hi})`, (x) => E.clamp(x, lo, hi), [away(lo, hi)]);
  }
  const p = permutedLeaf([2, 3, 2], g);
  assertGradcheck(t, 'clamp of a permuted input', (x) => x.permute(p.perm).clamp(-0.3, 0.3), [p.x]);
  t.end();
});

t.test('comparisons give 1/0 in the operand dtype and carry no gradient', (t) => {
  const a = E.tensor([1, 2, 3], [3], { dtype: 'float64', requiresGrad: true });
  for (const [name, f] of Object.entries(COMPARE)) {
    const r = f(a, 2);
    t.equal(r.dtype, 'float64', `${name} dtype`);
    t.equal(r.requiresGrad, false, `${name} has no gradient`);
  }
  t.same(E.le(a, 2).toArray(), [1, 1, 0]);
  t.same(E.ne(2, a).toArray(), [1, 0, 1]);
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.where(E.ones([2, 3]), E.zeros([4]), 0), /\[2,\s?3\].*\[4\]/, 'where broadcast mismatch names the shapes');
  t.end();
});
