/**
 * Scaled dot-product attention (engine/functional/attention.ts): without a mask, with an additive
 * mask (including -Infinity entries and a broadcast padding mask), with causalMask, custom scale.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Tensor } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  sdpa: ([q, k, v, mask], a) => E.scaledDotProductAttention(q, k, v, {
    mask: a.causal ? E.causalMask(q.shape[q.ndim - 2], q) : mask ?? null,
    scale: a.scale as number | undefined,
  }),
};
runOpFixture(t, 'attention', OPS);

t.test('gradcheck attention', (t) => {
  const g = new Generator(131);
  const sdpa = E.scaledDotProductAttention;
  assertGradcheck(t, 'q[2,3,4] k[2,5,4] v[2,5,6]', (q, k, v) => sdpa(q, k, v), [leaf([2, 3, 4], g), leaf([2, 5, 4], g), leaf([2, 5, 6], g)]);
  const mask = E.tensor([0, -1, -Infinity, 0.5, 0, 0, 2, -Infinity, 0, 0.3, -0.2, 0], [3, 4], { dtype: 'float64' });
  assertGradcheck(t, 'additive mask with -Infinity entries', (q, k, v) => sdpa(q, k, v, { mask }),
    [leaf([3, 2], g), leaf([4, 2], g), leaf([4, 3], g)]);
  const causal = E.causalMask(4, E.zeros([1], { dtype: 'float64' }));
  assertGradcheck(t, 'causal mask, [2 heads, 4, 3]', (q, k, v) => sdpa(q, k, v, { mask: causal }),
    [leaf([2, 4, 3], g), leaf([2, 4, 3], g), leaf([2, 4, 3], g)]);
  const pad = E.tensor([0, 0, 0, -Infinity, 0, 0, 0, 0], [2, 1, 1, 4], { dtype: 'float64' });
  assertGradcheck(t, 'padding mask [2,1,1,4] broadcast over heads and queries', (q, k, v) => sdpa(q, k, v, { mask: pad, scale: 0.7 }),
    [leaf([2, 2, 3, 2], g), leaf([2, 2, 4, 2], g), leaf([2, 2, 4, 2], g)]);
  const p = permutedLeaf([2, 3, 4], g);
  assertGradcheck(t, 'permuted query', (q, k, v) => sdpa(q.permute(p.perm), k, v), [p.x, leaf([2, 5, 4], g), leaf([2, 5, 3], g)]);
  // Dropout on the attention weights, made deterministic by re-seeding before every call.
  assertGradcheck(t, 'attention dropout with a fixed seed', (q, k, v) => {
    E.manualSeed(17);
    return sdpa(q, k, v, { dropoutP: 0.25 });
  }, [leaf([3, 2], g), leaf([4, 2], g), leaf([4, 3], g)]);
  t.end();
});

t.test('causalMask', (t) => {
  const m: Tensor = E.causalMask(3, E.zeros([1]));
  t.same(m.toArray(), [0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
  t.equal(m.dtype, 'float32');
  t.end();
});

t.test('attention without dropout is the same in training and eval', (t) => {
  const g = new Generator(5);
  const [q, k, v] = [leaf([2, 3], g), leaf([4, 3], g), leaf([4, 2], g)];
  t.same(E.scaledDotProductAttention(q, k, v, { training: true }).toArray(), E.scaledDotProductAttention(q, k, v).toArray());
  t.end();
});
