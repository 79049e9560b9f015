/**
 * Slicing and joining (engine/ops/slice.ts): slice (with step, negative and clamped bounds), narrow,
 * pad, cat, stack, chunk; gradient checks, PyTorch fixtures, error messages.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Tensor } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf, randShape } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  slice: ([x], a) => x.slice(a.dim as number, a.start as number, (a.end ?? undefined) as number | undefined, a.step as number),
  narrow: ([x], a) => x.narrow(a.dim as number, a.start as number, a.length as number),
  pad: ([x], a) => E.pad(x, a.pads as [number, number][], a.value as number),
  cat: (xs, a) => E.cat(xs, a.dim as number),
  stack: (xs, a) => E.stack(xs, a.dim as number),
  chunk: ([x], a) => E.chunk(x, a.chunks as number, a.dim as number),
};
runOpFixture(t, 'slice', OPS);

t.test('gradcheck on random shapes', (t) => {
  const g = new Generator(71);
  for (let trial = 0; trial < 3; trial++) {
    const shape = randShape(g, 1, 3, 5).map((d) => d + 1);
    const d = g.int(0, shape.length);
    const n = shape[d];
    const start = g.int(-n, n), step = g.int(1, 4);
    assertGradcheck(t, `slice [${shape}] dim ${d} from ${start} step ${step}`, (x) => x.slice(d, start, undefined, step), [leaf(shape, g)]);
    const pads = shape.map(() => [g.int(0, 3), g.int(0, 3)] as [number, number]);
    assertGradcheck(t, `pad [${shape}] ${JSON.stringify(pads)}`, (x) => E.pad(x, pads, 0.5), [leaf(shape, g)]);
    const other = shape.map((s, i) => (i === d ? g.int(1, 4) : s));
    assertGradcheck(t, `cat [${shape}] [${other}] dim ${d}`, (a, b) => E.cat([a, b, a], d), [leaf(shape, g), leaf(other, g)]);
    const sd = g.int(0, shape.length + 1);
    assertGradcheck(t, `stack 2×[${shape}] dim ${sd}`, (a, b) => E.stack([a, b], sd), [leaf(shape, g), leaf(shape, g)]);
    const chunks = g.int(1, 4);
    // Weight each chunk differently so that a gradient sent to the wrong chunk shows.
    assertGradcheck(t, `chunk [${shape}] into ${chunks} along ${d}`,
      (x) => E.cat(E.chunk(x, chunks, d).map((c, k) => c.mul(k + 1)), d), [leaf(shape, g)]);
  }
  // Non-contiguous inputs to each op.
  const p = permutedLeaf([4, 3], g), q = permutedLeaf([4, 2], g);
  const v = (x: Tensor) => x.permute(p.perm);
  assertGradcheck(t, 'slice of a permuted input', (x) => v(x).slice(0, 1, 4, 2), [p.x]);
  assertGradcheck(t, 'pad of a permuted input', (x) => E.pad(v(x), [[1, 0], [0, 2]]), [p.x]);
  assertGradcheck(t, 'cat of permuted inputs', (x, y) => E.cat([v(x), y.permute(q.perm)], 1), [p.x, q.x]);
  assertGradcheck(t, 'stack of permuted inputs', (x) => E.stack([v(x), v(x).mul(2)], 1), [p.x]);
  assertGradcheck(t, 'chunk of a permuted input', (x) => E.chunk(v(x), 3, 0)[1], [p.x]);
  t.end();
});

t.test('chunk sizes follow torch.chunk', (t) => {
  t.same(E.chunk(E.zeros([7, 2]), 3, 0).map((c) => c.shape[0]), [3, 3, 1]);
  t.same(E.chunk(E.zeros([6]), 4).map((c) => c.shape[0]), [2, 2, 2]); // torch also gives 3 chunks here
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.cat([E.zeros([2, 3]), E.zeros([2, 4])], 0), /\[2, 4\].*\[2, 3\]/, 'cat mismatch names the shapes');
  t.throws(() => E.zeros([3]).slice(0, 0, 2, 0), /step must be a positive integer/, 'slice step 0');
  t.throws(() => E.pad(E.zeros([3]), [[-1, 0]]), /non-negative/, 'negative pad');
  t.end();
});
