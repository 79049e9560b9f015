/**
 * conv2d (engine/functional/conv.ts), composed from pad, strided slice, stack and one matmul:
 * PyTorch's F.conv2d outputs and gradients (tools/reference/conv_fixtures.py), float64 gradient
 * checks, and the error messages for bad shapes.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  conv2d: ([x, w, b], a) => E.conv2d(x, w, b ?? null, { stride: a.stride, padding: a.padding }),
};
runOpFixture(t, 'functional/conv', OPS);

t.test('gradcheck conv2d', (t) => {
  const g = new Generator(131);
  assertGradcheck(t, 'conv2d 3x3 stride 1', (x, w, b) => E.conv2d(x, w, b),
    [leaf([2, 2, 4, 4], g), leaf([3, 2, 3, 3], g), leaf([3], g)]);
  assertGradcheck(t, 'conv2d 3x3 stride 2 padding 1', (x, w, b) => E.conv2d(x, w, b, { stride: 2, padding: 1 }),
    [leaf([1, 2, 5, 6], g), leaf([2, 2, 3, 3], g), leaf([2], g)]);
  assertGradcheck(t, 'conv2d 2x3 kernel, stride [1, 2], padding [0, 1], no bias',
    (x, w) => E.conv2d(x, w, null, { stride: [1, 2], padding: [0, 1] }), [leaf([1, 3, 4, 5], g), leaf([2, 3, 2, 3], g)]);
  const p = permutedLeaf([2, 4, 4, 1], g);
  assertGradcheck(t, `conv2d of x.permute(${p.perm})`, (x, w) => E.conv2d(x.permute(p.perm), w, null, { padding: 1 }),
    [p.x, leaf([2, p.x.permute(p.perm).shape[1], 3, 3], g)]);
  t.end();
});

t.test('conv2d accepts an unbatched [C, H, W] input, like torch', (t) => {
  const g = new Generator(132);
  const x = leaf([2, 5, 5], g), w = leaf([3, 2, 3, 3], g);
  const batched = E.conv2d(x.unsqueeze(0), w, null, { stride: 2 });
  const single = E.conv2d(x, w, null, { stride: 2 });
  t.same(single.shape, [3, 2, 2]);
  t.same(Array.from(single.data()), Array.from(batched.data()));
  t.end();
});

t.test('errors', (t) => {
  const x = E.zeros([1, 3, 8, 8]);
  t.throws(() => E.conv2d(x, E.zeros([4, 2, 3, 3])), /3 channels.*\[4, 2, 3, 3\] expects 2/, 'channel mismatch');
  t.throws(() => E.conv2d(x, E.zeros([4, 3, 3, 3]), E.zeros([5])), /bias \[5\].*4 output channels/, 'bias size');
  t.throws(() => E.conv2d(x, E.zeros([4, 3, 9, 9])), /larger than the padded input 8x8/, 'kernel too large');
  t.throws(() => E.conv2d(x, E.zeros([4, 3, 3, 3]), null, { stride: 0 }), /stride must be positive/, 'stride 0');
  t.throws(() => E.conv2d(E.zeros([3, 8]), E.zeros([4, 3, 3, 3])), /expected input \[B, C, H, W\]/, 'input rank');
  t.end();
});
