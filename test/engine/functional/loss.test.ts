/**
 * Losses composed from primitives (engine/functional/loss.ts): crossEntropy (ignoreIndex, reductions,
 * [N, C] and [N, C, H, W]), binaryCrossEntropyWithLogits, mseLoss.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Reduction } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  crossEntropy: ([x, target], a) => E.crossEntropy(x, target, {
    ignoreIndex: a.ignoreIndex as number | undefined, reduction: a.reduction as Reduction | undefined,
  }),
  binaryCrossEntropyWithLogits: ([x, y], a) => E.binaryCrossEntropyWithLogits(x, y, a.reduction as Reduction),
  mseLoss: ([x, y], a) => E.mseLoss(x, y, (a.reduction ?? 'mean') as Reduction),
};
runOpFixture(t, 'loss', OPS);

const ints = (v: number[], shape: number[]) => E.tensor(v, shape, { dtype: 'int32' });

t.test('gradcheck crossEntropy', (t) => {
  const g = new Generator(121);
  const t2 = ints([2, 0, -100, 3], [4]);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    assertGradcheck(t, `crossEntropy [4,5] ${reduction} with an ignored target`,
      (x) => E.crossEntropy(x, t2, { reduction }), [leaf([4, 5], g)]);
  }
  const t4 = ints([0, 2, 1, 255, 2, 2, 0, 1, 255, 1, 0, 0], [2, 2, 3]);
  assertGradcheck(t, 'crossEntropy [2,3,2,3] ignoreIndex 255',
    (x) => E.crossEntropy(x, t4, { ignoreIndex: 255 }), [leaf([2, 3, 2, 3], g)]);
  const p = permutedLeaf([3, 4], g);
  assertGradcheck(t, 'crossEntropy of permuted logits', (x) => E.crossEntropy(x.permute(p.perm), ints([3, 1, 0], [3])), [p.x]);
  t.end();
});

t.test('gradcheck binaryCrossEntropyWithLogits / mseLoss (both arguments)', (t) => {
  const g = new Generator(122);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    const y = E.rand([3, 4], { dtype: 'float64', generator: g, requiresGrad: true });
    assertGradcheck(t, `bce ${reduction}`, (x, y) => E.binaryCrossEntropyWithLogits(x, y, reduction), [leaf([3, 4], g, 'away'), y]);
    assertGradcheck(t, `mse ${reduction}`, (x, y) => E.mseLoss(x, y, reduction), [leaf([3, 4], g), leaf([3, 4], g)]);
  }
  assertGradcheck(t, 'mse with broadcasting target', (x, y) => E.mseLoss(x, y), [leaf([3, 4], g), leaf([4], g)]);
  // Logits exactly 0: the loss is smooth there, but its stable formula has kinks (relu, abs) at 0.
  const zeros = E.zeros([2, 3], { dtype: 'float64', requiresGrad: true });
  assertGradcheck(t, 'bce at logits exactly 0', (x, y) => E.binaryCrossEntropyWithLogits(x, y), [zeros, leaf([2, 3], g)]);
  const p = permutedLeaf([2, 3], g, 'away');
  assertGradcheck(t, 'bce of permuted logits', (x, y) => E.binaryCrossEntropyWithLogits(x.permute(p.perm), y), [p.x, leaf([2, 3], g)]);
  t.end();
});

t.test('crossEntropy: all targets ignored gives NaN (0/0), as PyTorch', (t) => {
  const l = E.crossEntropy(E.zeros([2, 3], { dtype: 'float64' }), ints([-100, -100], [2]));
  t.ok(Number.isNaN(l.item()));
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.crossEntropy(E.zeros([4, 5]), ints([1, 2, 3], [3])), /\[3\].*\[4, 5\]/, 'target shape mismatch names both shapes');
  t.throws(() => E.crossEntropy(E.zeros([5]), ints([1], [1])), /\[N, C, \.\.\.\]/, '1-D logits');
  t.end();
});

t.test('crossEntropy refuses targets outside [0, C) that are not ignoreIndex', async (t) => {
  const { tensor: mk, crossEntropy: ce } = await import('../../../engine/index.ts');
  const logits = mk([[1, 2, 3], [0, 0, 1]]);
  t.throws(() => ce(logits, mk([0, 3], undefined, { dtype: 'int32' })), /target 3 is out of bounds for 3 classes/);
  t.doesNotThrow(() => ce(logits, mk([0, 255], undefined, { dtype: 'int32' }), { ignoreIndex: 255 }));
});
