/**
 * Reductions (engine/ops/reduce.ts): sum, max (and min = -max(-x)) over one dim, several dims, all
 * dims, with and without keepdim, negative dims, permuted inputs; argmax (forward only).
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Tensor } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf, randShape } from '../../helpers/random.ts';

type Dims = number | number[] | undefined;
const dimArg = (d: unknown): Dims => (d === null || d === undefined ? undefined : (d as number | number[]));

const OPS: Record<string, OpImpl> = {
  sum: ([x], a) => x.sum(dimArg(a.dim), a.keepdim as boolean),
  max: ([x], a) => x.max(dimArg(a.dim), a.keepdim as boolean),
  min: ([x], a) => x.min(dimArg(a.dim), a.keepdim as boolean),
  argmax: ([x], a) => x.argmax(dimArg(a.dim) as number | undefined, a.keepdim as boolean),
};
runOpFixture(t, 'reduce', OPS);

/** A random non-empty subset of the dims of a rank-r tensor, each written positive or negative. */
function randDims(g: Generator, rank: number): number[] {
  const dims = [...Array(rank).keys()].filter(() => g.random() < 0.5);
  if (dims.length === 0) dims.push(g.int(0, rank));
  return dims.map((d) => (g.random() < 0.5 ? d - rank : d));
}

const REDUCERS: Record<string, (x: Tensor, dim: Dims, keepdim: boolean) => Tensor> = {
  sum: (x, d, k) => x.sum(d, k),
  max: (x, d, k) => x.max(d, k),
  min: (x, d, k) => x.min(d, k),
};

t.test('gradcheck: one dim, several dims, all dims, keepdim, negative dims, permuted', (t) => {
  const g = new Generator(41);
  for (const [name, f] of Object.entries(REDUCERS)) {
    const kind = name === 'sum' ? 'randn' : 'distinct'; // no ties for max / min
    for (let trial = 0; trial < 4; trial++) {
      const shape = randShape(g, 1, 4, 3);
      const dims = randDims(g, shape.length);
      const keep = g.random() < 0.5;
      const dim = dims.length === 1 && g.random() < 0.5 ? dims[0] : dims;
      assertGradcheck(t, `${name}([${shape}], dim ${JSON.stringify(dim)}, keepdim ${keep})`,
        (x) => f(x, dim, keep), [leaf(shape, g, kind)]);
    }
    const shape = randShape(g, 2, 3, 4);
    for (const keep of [false, true]) {
      assertGradcheck(t, `${name}([${shape}], all dims, keepdim ${keep})`, (x) => f(x, undefined, keep), [leaf(shape, g, kind)]);
    }
    const p = permutedLeaf([2, 3, 4], g, kind);
    assertGradcheck(t, `${name}(x.permute(${p.perm}), [0, -1])`, (x) => f(x.permute(p.perm), [0, -1], false), [p.x]);
    assertGradcheck(t, `${name}(x.permute(${p.perm}), 1, keepdim)`, (x) => f(x.permute(p.perm), 1, true), [p.x]);
  }
  t.end();
});

t.test('max / min ties: split evenly over all dims or a list of dims, to the returned index over one dim', (t) => {
  const x = E.tensor([1, 3, 3, 2], [4], { dtype: 'float64', requiresGrad: true });
  x.max().backward();
  t.same(x.grad?.toArray(), [0, 0.5, 0.5, 0], 'full max: half each (torch.max(x))');
  x.zeroGrad();
  x.max(0).backward();
  t.same(x.grad?.toArray(), [0, 1, 0, 0], 'max over dim 0: the first maximum (torch.max(x, 0))');
  const y = E.tensor([[2, 0, 2], [2, 1, 0]], undefined, { dtype: 'float64', requiresGrad: true });
  y.min().backward();
  t.same(y.grad?.toArray(), [0, 0.5, 0, 0, 0, 0.5], 'full min: half each');
  y.zeroGrad();
  y.max([0, 1]).backward();
  t.same(y.grad?.toArray(), [1 / 3, 0, 1 / 3, 1 / 3, 0, 0], 'amax over a list of dims: a third each');
  t.end();
});

t.test('sum over an empty dim list reduces every dim, as torch.sum(x, dim=[])', (t) => {
  const x = E.tensor([[1, 2, 3], [4, 5, 6]], undefined, { dtype: 'float64', requiresGrad: true });
  const s = x.sum([]);
  t.same(s.shape, []);
  t.same(s.toArray(), [21]);
  t.same(x.sum([], true).shape, [1, 1]);
  s.backward();
  t.same(x.grad?.toArray(), [1, 1, 1, 1, 1, 1]);
  t.same(x.max([]).toArray(), [6]);
  t.end();
});

t.test('argmax: first maximum, int32, no graph', (t) => {
  const x = E.tensor([[1, 5, 5], [7, 0, 7]], undefined, { dtype: 'float64', requiresGrad: true });
  const a = x.argmax(1);
  t.equal(a.dtype, 'int32');
  t.equal(a.requiresGrad, false);
  t.same(a.toArray(), [1, 0]);
  t.same(x.argmax().toArray(), [3]);
  t.same(x.argmax(-1, true).shape, [2, 1]);
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.zeros([2, 3]).sum(2), /dimension out of range/, 'dim out of range');
  t.throws(() => E.zeros([2, 3]).sum([1, -1]), /repeats a dimension/, 'repeated dim');
  t.end();
});
