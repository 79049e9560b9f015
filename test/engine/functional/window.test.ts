/**
 * windowPartition / windowReverse against Swin's window_partition (after F.pad right/bottom) and
 * window_reverse + crop; float64 gradchecks; partition then reverse is the identity; errors.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, padTo, randn, windowPartition, windowReverse } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  windowPartition: ([x], a) => E.windowPartition(x, a.ws as number),
  windowReverse: ([w], a) => E.windowReverse(w, a.ws as number, a.H as number, a.W as number),
};
runOpFixture(t, 'functional/window', OPS);

t.test('gradcheck windowPartition and windowReverse (padded and exact)', (t) => {
  const g = new Generator(93);
  assertGradcheck(t, 'windowPartition([2, 4, 5, 2], 3)', (x) => windowPartition(x, 3), [leaf([2, 4, 5, 2], g)]);
  assertGradcheck(t, 'windowPartition([1, 4, 4, 1], 2)', (x) => windowPartition(x, 2), [leaf([1, 4, 4, 1], g)]);
  assertGradcheck(t, 'windowReverse(8 windows, 3, H 4, W 5)', (w) => windowReverse(w, 3, 4, 5), [leaf([8, 3, 3, 2], g)]);
  t.end();
});

t.test('windowReverse(windowPartition(x)) == x; shapes; padTo; errors', (t) => {
  const x = randn([2, 7, 5, 3]);
  const w = windowPartition(x, 3);
  t.same(w.shape, [2 * 3 * 2, 3, 3, 3]);
  t.same(windowReverse(w, 3, 7, 5).toArray(), x.toArray());
  t.same(padTo(randn([1, 32, 32, 2]), [1, 2], 3).shape, [1, 33, 33, 2]);
  t.throws(() => windowPartition(randn([7, 5, 3]), 3), /expected x \[B, H, W, C\]/);
  t.throws(() => windowReverse(randn([5, 3, 3, 1]), 3, 7, 5), /5 windows is not a multiple/);
  t.throws(() => windowPartition(x, 0), /window size must be a positive integer/);
  t.end();
});
