/**
 * normalize (F.normalize, p = 2) against PyTorch: default dim 1, dim -1, a zero row, a large eps, a
 * permuted input; float64 gradchecks; and l2normalize of model/clip.ts agrees with it.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, normalize, tensor } from '../../../engine/index.ts';
import { l2normalize } from '../../../model/clip.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertClose, assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  normalize: ([x], a) => E.normalize(x, { dim: a.dim as number | undefined, eps: a.eps as number | undefined }),
};
runOpFixture(t, 'functional/normalize', OPS);

t.test('gradcheck normalize over dims 0, 1 (default) and -1', (t) => {
  const g = new Generator(91);
  for (const dim of [0, undefined, -1]) {
    assertGradcheck(t, `normalize([3, 4, 2], dim ${dim ?? 'default'})`, (x) => normalize(x, { dim }), [leaf([3, 4, 2], g)]);
  }
  t.end();
});

t.test('normalize: unit norms, zero stays zero, bad arguments refused', (t) => {
  const x = tensor([[3, 4], [0, 0]], undefined, { dtype: 'float64' });
  assertClose(t, normalize(x, { dim: -1 }).data(), [0.6, 0.8, 0, 0], { rtol: 1e-15, name: 'normalize([[3, 4], [0, 0]])' });
  assertClose(t, l2normalize(x).data(), [0.6, 0.8, 0, 0], { rtol: 1e-15, name: 'l2normalize (last dim)' });
  t.throws(() => normalize(x, { dim: 2 }), /dim 2 out of range/);
  t.throws(() => normalize(x, { p: 1 as 2 }), /only p = 2/);
  t.end();
});
