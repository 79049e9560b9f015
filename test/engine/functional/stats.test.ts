/**
 * Statistics composed from primitives (engine/functional/stats.ts): mean, variance (correction 0
 * and 1), norm; over one, several and all dims, keepdim, negative dims, permuted inputs.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf, randShape } from '../../helpers/random.ts';

type Dims = number | number[] | undefined;
const dimArg = (d: unknown): Dims => (d === null || d === undefined ? undefined : (d as number | number[]));

const OPS: Record<string, OpImpl> = {
  mean: ([x], a) => E.mean(x, dimArg(a.dim), a.keepdim as boolean),
  var: ([x], a) => E.variance(x, dimArg(a.dim), a.keepdim as boolean, a.correction as number),
  norm: ([x], a) => E.norm(x, dimArg(a.dim), a.keepdim as boolean),
};
runOpFixture(t, 'stats', OPS);

t.test('gradcheck mean / var / norm', (t) => {
  const g = new Generator(51);
  const cases: [string, (x: E.Tensor, d: Dims, k: boolean) => E.Tensor][] = [
    ['mean', (x, d, k) => x.mean(d, k)],
    ['var (correction 1)', (x, d, k) => x.var(d, k)],
    ['var (correction 0)', (x, d, k) => x.var(d, k, 0)],
    ['norm', (x, d, k) => x.norm(d, k)],
  ];
  for (const [name, f] of cases) {
    const shape = randShape(g, 2, 3, 4).map((s) => s + 1);
    const last = -1;
    assertGradcheck(t, `${name}([${shape}], -1)`, (x) => f(x, last, false), [leaf(shape, g)]);
    assertGradcheck(t, `${name}([${shape}], [0, -1], keepdim)`, (x) => f(x, [0, -1], true), [leaf(shape, g)]);
    assertGradcheck(t, `${name}([${shape}], all)`, (x) => f(x, undefined, false), [leaf(shape, g)]);
    const p = permutedLeaf([3, 2, 4], g);
    assertGradcheck(t, `${name}(x.permute(${p.perm}), 1)`, (x) => f(x.permute(p.perm), 1, false), [p.x]);
  }
  t.end();
});

t.test('var with correction 1 of one element per group is not finite, as in PyTorch', (t) => {
  const v = E.tensor([[1, 2]], undefined, { dtype: 'float64' }).var(0);
  t.ok(v.toArray().every((x) => !Number.isFinite(x)));
  t.end();
});

t.test('norm: the gradient at a zero vector is 0 (torch), not NaN; the norm itself is gradchecked above', (t) => {
  const x = E.tensor([[0, 0, 0], [3, 4, 0]], undefined, { dtype: 'float64', requiresGrad: true });
  const n = E.norm(x, 1);
  t.same(n.toArray(), [0, 5]);
  n.sum().backward();
  t.same(x.grad?.toArray(), [0, 0, 0, 0.6, 0.8, 0]);
  const z = E.zeros([4], { requiresGrad: true });
  z.norm().backward();
  t.same(z.grad?.toArray(), [0, 0, 0, 0]);
  t.end();
});

t.test('mean and var over an empty dim list reduce every dim, as torch', (t) => {
  const x = E.tensor([[1, 2], [3, 6]], undefined, { dtype: 'float64' });
  t.same(E.mean(x, []).toArray(), [3]);
  t.same(E.mean(x, [], true).shape, [1, 1]);
  t.same(E.variance(x, [], false, 0).toArray(), [3.5]);
  t.end();
});
