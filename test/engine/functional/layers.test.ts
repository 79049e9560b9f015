/**
 * linear and layerNorm (engine/functional/layers.ts), composed from primitives. Dropout is in
 * test/engine/ops/dropout.test.ts.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  linear: ([x, w, b]) => E.linear(x, w, b ?? null),
  layerNorm: ([x, w, b], a) => E.layerNorm(x, w ?? null, b ?? null, a.eps as number, a.normalizedShape as number[]),
};
runOpFixture(t, 'layers', OPS);

t.test('gradcheck linear', (t) => {
  const g = new Generator(111);
  assertGradcheck(t, 'linear [3,4] W[5,4] b[5]', (x, w, b) => E.linear(x, w, b), [leaf([3, 4], g), leaf([5, 4], g), leaf([5], g)]);
  assertGradcheck(t, 'linear without bias', (x, w) => E.linear(x, w), [leaf([3, 4], g), leaf([2, 4], g)]);
  assertGradcheck(t, 'linear 3-D input [2,3,4]', (x, w, b) => E.linear(x, w, b), [leaf([2, 3, 4], g), leaf([3, 4], g), leaf([3], g)]);
  assertGradcheck(t, 'linear 1-D input', (x, w, b) => E.linear(x, w, b), [leaf([4], g), leaf([3, 4], g), leaf([3], g)]);
  const p = permutedLeaf([2, 3, 4], g), q = permutedLeaf([2, 4], g);
  assertGradcheck(t, 'linear of permuted input and weight', (x, w) => E.linear(x.permute(p.perm), w.permute(q.perm)), [p.x, q.x]);
  t.end();
});

t.test('gradcheck layerNorm', (t) => {
  const g = new Generator(112);
  const ln = E.layerNorm;
  assertGradcheck(t, 'layerNorm [3,5] affine', (x, w, b) => ln(x, w, b), [leaf([3, 5], g), leaf([5], g), leaf([5], g)]);
  assertGradcheck(t, 'layerNorm [3,5] plain', (x) => ln(x, null, null, 1e-5, [5]), [leaf([3, 5], g)]);
  assertGradcheck(t, 'layerNorm eps 0.1', (x, w) => ln(x, w, null, 0.1), [leaf([4, 3], g), leaf([3], g)]);
  assertGradcheck(t, 'layerNorm over [3,4] of [2,3,4]', (x, w, b) => ln(x, w, b, 1e-5, [3, 4]),
    [leaf([2, 3, 4], g), leaf([3, 4], g), leaf([3, 4], g)]);
  const p = permutedLeaf([2, 3, 4], g);
  assertGradcheck(t, `layerNorm of x.permute(${p.perm})`, (x, w, b) => ln(x.permute(p.perm), w, b), [p.x, leaf([4], g), leaf([4], g)]);
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.linear(E.zeros([2, 3]), E.zeros([4, 5])), /\[2, 3\].*\[4, 5\]/, 'linear mismatch names both shapes');
  t.throws(() => E.layerNorm(E.zeros([2, 3]), E.ones([4])), /\[2, 3\].*\[4\]/, 'layerNorm mismatch names both shapes');
  t.end();
});
