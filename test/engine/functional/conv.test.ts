/**
 * conv2d (engine/functional/conv.ts), composed from pad, unfold2d (engine/ops/unfold.ts) and one
 * matmul: PyTorch's F.conv2d outputs and gradients (tools/reference/conv_fixtures.py), float64
 * gradient checks of conv2d and of unfold2d itself, unfold2d against its definition as a loop,
 * the channels-last variant against conv2d, and the error messages for bad shapes.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { unfold2d } from '../../../engine/ops/unfold.ts';
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

/** unfold2d by its definition: out[b, i, j, u, v, c] = x[b, i·sH + u, j·sW + v, c]. */
function unfoldLoop(x: Float64Array, [B, H, W, C]: number[], [kH, kW]: number[], [sH, sW]: number[]): number[] {
  const Ho = Math.floor((H - kH) / sH) + 1, Wo = Math.floor((W - kW) / sW) + 1;
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    for (let u = 0; u < kH; u++) for (let v = 0; v < kW; v++) for (let c = 0; c < C; c++) {
      out.push(x[((b * H + i * sH + u) * W + j * sW + v) * C + c]);
    }
  }
  return out;
}

t.test('unfold2d: the definition, and gradients where windows overlap, touch and leave gaps', (t) => {
  const g = new Generator(133);
  const cases: [number[], [number, number], [number, number]][] = [
    [[2, 5, 6, 3], [3, 3], [1, 1]], [[1, 7, 7, 2], [3, 3], [2, 2]], [[2, 6, 6, 1], [2, 2], [2, 2]],
    [[1, 7, 8, 2], [2, 3], [3, 2]], [[1, 9, 5, 4], [4, 1], [2, 3]], [[1, 3, 3, 1], [3, 3], [1, 1]],
  ];
  for (const [shape, k, s] of cases) {
    const x = leaf(shape, g);
    const got = unfold2d(x, k, s);
    t.same(Array.from(got.data()), unfoldLoop(x.data() as Float64Array, shape, k, s), `values ${shape} kernel ${k} stride ${s}`);
    assertGradcheck(t, `unfold2d ${shape} kernel ${k} stride ${s}`, (a) => unfold2d(a, k, s), [x]);
  }
  t.throws(() => unfold2d(E.zeros([1, 2, 2, 1]), [3, 3], [1, 1]), /window 3x3 is larger than the input 2x2/);
  t.throws(() => unfold2d(E.zeros([2, 2, 1]), [1, 1], [1, 1]), /expected x \[B, H, W, C\]/);
  t.throws(() => unfold2d(E.zeros([1, 2, 2, 1]), [1, 1], [0, 1]), /positive integers/);
  t.end();
});

t.test('conv2dChannelsLast equals conv2d between permutes (values and gradients)', (t) => {
  const g = new Generator(134);
  const x = leaf([2, 3, 9, 7], g), w = leaf([4, 3, 3, 3], g), b = leaf([4], g);
  const ref = E.conv2d(x, w, b, { stride: 2, padding: 1 });
  const cl = E.conv2dChannelsLast(x.permute([0, 2, 3, 1]), w, b, { stride: 2, padding: 1 });
  t.same(Array.from(cl.permute([0, 3, 1, 2]).data()), Array.from(ref.data()));
  assertGradcheck(t, 'conv2dChannelsLast', (xx, ww, bb) => E.conv2dChannelsLast(xx, ww, bb, { stride: 2, padding: 1 }),
    [leaf([1, 5, 6, 2], g), leaf([3, 2, 3, 3], g), leaf([3], g)]);
  t.end();
});
