/**
 * Matrix products (engine/ops/matmul.ts): torch.matmul semantics (2-D, batched, batch broadcasting,
 * 1-D operands) and the transposed variants matmulT that linear and attention use.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  matmul: ([a, b]) => E.matmul(a, b),
};
runOpFixture(t, 'matmul', OPS);

t.test('gradcheck matmul', (t) => {
  const g = new Generator(81);
  const pairs: [number[], number[]][] = [
    [[3, 4], [4, 2]], [[2, 3, 4], [2, 4, 5]], [[2, 1, 3, 4], [5, 4, 2]], [[3, 2], [2, 2, 4]],
    [[2, 3, 4], [4, 1]], [[4], [4, 3]], [[3, 4], [4]], [[4], [4]], [[3], [2, 3, 2]], [[2, 2, 3], [3]],
    [[1, 2, 3], [2, 3, 2]],
  ];
  for (const [sa, sb] of pairs) {
    assertGradcheck(t, `[${sa}] @ [${sb}]`, E.matmul, [leaf(sa, g), leaf(sb, g)]);
  }
  // Random sizes with a broadcast batch dim on either side.
  for (let trial = 0; trial < 3; trial++) {
    const [b, m, k, n] = [g.int(2, 4), g.int(1, 4), g.int(1, 5), g.int(1, 4)];
    const left = g.random() < 0.5;
    const sa = left ? [b, 1, m, k] : [m, k], sb = left ? [b, k, n] : [b, 1, k, n];
    assertGradcheck(t, `[${sa}] @ [${sb}]`, E.matmul, [leaf(sa, g), leaf(sb, g)]);
  }
  // Non-contiguous operands: transposed views of leaves.
  const pa = permutedLeaf([2, 3, 4], g), pb = permutedLeaf([4, 3], g);
  assertGradcheck(t, `x.permute(${pa.perm}) @ y.permute(${pb.perm})`,
    (a, b) => E.matmul(a.permute(pa.perm), b.permute(pb.perm)), [pa.x, pb.x]);
  const a = leaf([3, 4], g);
  assertGradcheck(t, 'x @ xᵀ (one leaf used twice)', (x) => E.matmul(x, x.t()), [a]);
  t.end();
});

t.test('gradcheck matmulT (all transpose flags, batch broadcasting)', (t) => {
  const g = new Generator(82);
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const sa = transA ? [2, 4, 3] : [2, 3, 4];
      const sb = transB ? [5, 4] : [4, 5];
      assertGradcheck(t, `matmulT([${sa}], [${sb}], ${transA}, ${transB})`,
        (x, y) => E.matmulT(x, y, transA, transB), [leaf(sa, g), leaf(sb, g)]);
      const check = E.matmulT(E.ones(sa, { dtype: 'float64' }), E.ones(sb, { dtype: 'float64' }), transA, transB);
      t.same(check.shape, [2, 3, 5], 'shape');
    }
  }
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.matmul(E.zeros([2, 3]), E.zeros([4, 5])), /\[2, 3\].*\[4, 5\].*cannot be multiplied/, 'inner size mismatch names both shapes');
  t.throws(() => E.matmul(E.zeros([2, 2, 3]), E.zeros([3, 3, 4])), /\[2\].*\[3\]|cannot be broadcast/, 'batch mismatch');
  t.throws(() => E.matmul(E.zeros([]), E.zeros([3])), /at least one dimension/, '0-d operand');
  t.throws(() => E.matmul(E.zeros([2, 3]), E.zeros([3, 2], { dtype: 'float64' })), /dtype mismatch/, 'dtype mismatch');
  t.end();
});
