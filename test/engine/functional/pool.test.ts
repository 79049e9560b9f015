/**
 * avgPool2d (pooling matrices via matmul) against F.avg_pool2d: kernel = stride, overlapping windows,
 * sizes that leave a remainder, a [C, H, W] input; float64 gradchecks; argument errors.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { avgPool2d, Generator, randn } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  avgPool2d: ([x], a) => E.avgPool2d(x, a.kernelSize as number, (a.stride as number | null) ?? undefined),
};
runOpFixture(t, 'functional/pool', OPS);

t.test('gradcheck avgPool2d', (t) => {
  const g = new Generator(92);
  for (const [shape, k, s] of [[[1, 2, 6, 6], 3, 3], [[2, 1, 5, 4], 2, 1], [[1, 1, 7, 8], 3, 2]] as [number[], number, number][]) {
    assertGradcheck(t, `avgPool2d([${shape}], ${k}, ${s})`, (x) => avgPool2d(x, k, s), [leaf(shape, g)]);
  }
  t.end();
});

t.test('avgPool2d: 33x33 -> 11x11 (HiLo), errors', (t) => {
  t.same(avgPool2d(randn([1, 4, 33, 33]), 3).shape, [1, 4, 11, 11]);
  t.throws(() => avgPool2d(randn([4, 4]), 2), /expected x \[B, C, H, W\]/);
  t.throws(() => avgPool2d(randn([1, 1, 2, 5]), 3), /larger than the 2x5 input/);
  t.throws(() => avgPool2d(randn([1, 1, 4, 4]), 2, 0), /stride must be a positive integer/);
  t.end();
});
