/**
 * Activations composed from primitives (engine/functional/activation.ts): softmax, logSoftmax, gelu
 * (exact and tanh), quickGelu. No hand-written backward: these check the composition.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf, randShape } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  softmax: ([x], a) => E.softmax(x, a.dim as number),
  logSoftmax: ([x], a) => E.logSoftmax(x, a.dim as number),
  gelu: ([x], a) => E.gelu(x, a.approximate as 'none' | 'tanh'),
  quickGelu: ([x]) => E.quickGelu(x),
};
runOpFixture(t, 'activation', OPS);

t.test('gradcheck softmax / logSoftmax: random shapes and dims, permuted, large logits', (t) => {
  const g = new Generator(101);
  for (const [name, f] of [['softmax', E.softmax], ['logSoftmax', E.logSoftmax]] as const) {
    for (let trial = 0; trial < 3; trial++) {
      const shape = randShape(g, 1, 3, 4);
      const dim = g.int(-shape.length, shape.length);
      assertGradcheck(t, `${name}([${shape}], ${dim})`, (x) => f(x, dim), [leaf(shape, g)]);
    }
    const p = permutedLeaf([2, 3, 4], g);
    assertGradcheck(t, `${name}(x.permute(${p.perm}), -1)`, (x) => f(x.permute(p.perm), -1), [p.x]);
    assertGradcheck(t, `${name}(x.permute(${p.perm}), 0)`, (x) => f(x.permute(p.perm), 0), [p.x]);
    // Logits around ±40: exp would overflow float32 without the max shift.
    const big = E.tensor([40, -38, 39.5, 41, -40, 0.5], [2, 3], { dtype: 'float64', requiresGrad: true });
    assertGradcheck(t, `${name} of large logits`, (x) => f(x, -1), [big]);
  }
  t.end();
});

t.test('gradcheck gelu / gelu tanh / quickGelu', (t) => {
  const g = new Generator(102);
  const shape = randShape(g, 1, 3, 4);
  assertGradcheck(t, `gelu [${shape}]`, (x) => E.gelu(x), [leaf(shape, g)]);
  assertGradcheck(t, `gelu tanh [${shape}]`, (x) => E.gelu(x, 'tanh'), [leaf(shape, g)]);
  assertGradcheck(t, `quickGelu [${shape}]`, (x) => E.quickGelu(x), [leaf(shape, g)]);
  const wide = E.tensor([-5, -2.5, -0.3, 0.7, 3.2, 6], [6], { dtype: 'float64', requiresGrad: true });
  assertGradcheck(t, 'gelu over a wide range', (x) => E.gelu(x), [wide]);
  t.end();
});

t.test('softmax stays finite for float32 logits of 1000', (t) => {
  const y = E.softmax(E.tensor([1000, 999, -1000], [3]), 0).toArray();
  t.ok(y.every(Number.isFinite));
  t.end();
});
