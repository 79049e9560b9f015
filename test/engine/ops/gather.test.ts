/**
 * Indexing (engine/ops/gather.ts): gather, indexSelect, embedding. The gradients scatter-add into
 * the rows read, so repeated indices are the interesting case.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Tensor } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  gather: ([x, i], a) => x.gather(a.dim as number, i),
  indexSelect: ([x, i], a) => E.indexSelect(x, a.dim as number, i),
  embedding: ([ids, w]) => E.embedding(ids, w),
};
runOpFixture(t, 'gather', OPS);

function ints(shape: number[], high: number, g: Generator): Tensor {
  return E.randint(0, high, shape, { generator: g });
}

t.test('gradcheck gather / indexSelect / embedding (repeated indices)', (t) => {
  const g = new Generator(91);
  for (const [shape, dim, m] of [[[4, 3], 0, 6], [[3, 5], 1, 7], [[2, 3, 4], -1, 5], [[2, 4, 3], 1, 2]] as [number[], number, number][]) {
    const d = (dim + shape.length) % shape.length;
    const idx = ints(shape.map((s, i) => (i === d ? m : s)), shape[d], g);
    assertGradcheck(t, `gather [${shape}] dim ${dim} index [${idx.shape}]`, (x) => x.gather(dim, idx), [leaf(shape, g)]);
  }
  for (const [shape, dim] of [[[5, 3], 0], [[3, 4, 2], 1], [[2, 3, 4], -1]] as [number[], number][]) {
    const d = (dim + shape.length) % shape.length;
    const idx = ints([shape[d] + 2], shape[d], g); // longer than the dim: repeats guaranteed
    assertGradcheck(t, `indexSelect [${shape}] dim ${dim} [${idx.toArray()}]`, (x) => E.indexSelect(x, dim, idx), [leaf(shape, g)]);
  }
  const ids = E.tensor([[1, 4, 1], [0, 4, 4]], undefined, { dtype: 'int32' });
  assertGradcheck(t, 'embedding [2, 3] ids into [5, 3]', (w) => E.embedding(ids, w), [leaf([5, 3], g)]);
  const p = permutedLeaf([3, 4], g);
  const idx = ints([3, 6], 4, g);
  assertGradcheck(t, 'gather from a permuted input', (x) => x.permute(p.perm).gather(1, idx), [p.x]);
  assertGradcheck(t, 'indexSelect from a permuted input', (x) => E.indexSelect(x.permute(p.perm), 0, E.tensor([2, 0, 2], [3], { dtype: 'int32' })), [p.x]);
  t.end();
});

t.test('errors', (t) => {
  const x = E.zeros([4, 3]);
  t.throws(() => x.gather(0, E.zeros([2, 3])), /index must be an int32 tensor/, 'gather with a float index');
  t.throws(() => E.indexSelect(x, 0, E.tensor([0.5], [1])), /index must be an int32 tensor/, 'indexSelect with a float index');
  t.throws(() => x.gather(0, E.zeros([2, 2], { dtype: 'int32' })), /\[2, 2\].*\[4, 3\]/, 'gather index shape mismatch');
  t.throws(() => x.gather(0, E.full([1, 3], 4, { dtype: 'int32' })), /index 4 is out of range for a dimension of size 4/, 'index out of range');
  t.throws(() => E.embedding(E.tensor([7], [1], { dtype: 'int32' }), x), /out of range/, 'embedding id out of range');
  t.end();
});
