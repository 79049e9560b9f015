/**
 * Binary primitives with broadcasting (engine/ops/binary.ts): float64 gradient checks on random
 * broadcasting shapes, permuted inputs and number operands; PyTorch fixtures; error messages.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Operand, type Tensor } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { broadcastShapes, leaf, permutedLeaf, randShape, type Kind } from '../../helpers/random.ts';

const BINARY: Record<string, (a: Operand, b: Operand) => Tensor> = {
  add: E.add, sub: E.sub, mul: E.mul, div: E.div, pow: E.pow, maximum: E.maximum, minimum: E.minimum,
};
/** pow needs a positive base (its exponent gradient takes log a); div a divisor away from 0. */
const KIND_A: Record<string, Kind> = { pow: 'pos' };
const KIND_B: Record<string, Kind> = { div: 'away' };

const OPS: Record<string, OpImpl> = Object.fromEntries(Object.entries(BINARY).map(([name, f]) => [
  name,
  ([a, b]: Tensor[], args) => {
    if (args.scalar === undefined) return f(a, b);
    return args.side === 'left' ? f(args.scalar as number, a) : f(a, args.scalar as number);
  },
]));
runOpFixture(t, 'binary', OPS);

t.test('gradcheck: broadcasting, permuted inputs, number operands', (t) => {
  const g = new Generator(21);
  for (const [name, f] of Object.entries(BINARY)) {
    const ka = KIND_A[name] ?? 'randn', kb = KIND_B[name] ?? 'randn';
    const same = randShape(g, 1, 3);
    assertGradcheck(t, `${name} [${same}] [${same}]`, f, [leaf(same, g, ka), leaf(same, g, kb)]);
    for (let trial = 0; trial < 3; trial++) {
      const [sa, sb] = broadcastShapes(g);
      assertGradcheck(t, `${name} [${sa}] [${sb}]`, f, [leaf(sa, g, ka), leaf(sb, g, kb)]);
    }
    // Both operands non-contiguous, and one of them broadcast along its first dim.
    const shape = randShape(g, 2, 3).map((d) => d + 1);
    const pa = permutedLeaf(shape, g, ka);
    const pb = permutedLeaf([1, ...shape.slice(1)], g, kb);
    assertGradcheck(t, `${name} permute(${pa.perm}) [${shape}] with permute(${pb.perm})`,
      (a, b) => f(a.permute(pa.perm), b.permute(pb.perm)), [pa.x, pb.x]);
    const x = leaf([2, 3], g, name === 'div' ? 'away' : ka);
    assertGradcheck(t, `${name}(x, 1.3)`, (a) => f(a, 1.3), [x]);
    assertGradcheck(t, `${name}(1.3, x)`, (a) => f(1.3, a), [x]);
  }
  // pow with a negative base and an integer exponent (no gradient w.r.t. the exponent needed).
  assertGradcheck(t, 'pow(x, 3), x of any sign', (a) => E.pow(a, 3), [leaf([3, 2], g)]);
  // One tensor used twice: the gradients of both uses add up.
  assertGradcheck(t, 'mul(x, x)', (a) => E.mul(a, a), [leaf([4], g)]);
  t.end();
});

t.test('dtypes: number operands take the tensor dtype, mixed dtypes promote', (t) => {
  const f32 = E.tensor([1, 2], [2], { dtype: 'float32' });
  const f64 = E.tensor([1, 2], [2], { dtype: 'float64' });
  t.equal(E.add(f32, 0.1).dtype, 'float32');
  t.equal(E.add(f32, f64).dtype, 'float64');
  t.equal(E.add(E.tensor([1, 2], [2], { dtype: 'int32' }), 0.5).dtype, 'float32');
  t.end();
});

t.test('div is true division: int32 / int32 gives float32, as torch', (t) => {
  const inter = E.tensor([3, 0, 7], [3], { dtype: 'int32' });
  const union = E.tensor([4, 5, 7], [3], { dtype: 'int32' });
  const iou = E.div(inter, union);
  t.equal(iou.dtype, 'float32');
  t.same(iou.toArray(), [0.75, 0, 1]);
  t.same(inter.div(2).toArray(), [1.5, 0, 3.5]);
  t.equal(E.add(inter, union).dtype, 'int32', 'the other ops keep int32');
  t.end();
});

t.test('errors', (t) => {
  const a = E.zeros([2, 3]), b = E.zeros([4]);
  t.throws(() => E.add(a, b), /\[2,\s?3\].*\[4\]/, 'broadcast mismatch names both shapes');
  t.throws(() => E.mul(E.zeros([2, 3, 4]), E.zeros([3, 3])), /\[2,\s?3,\s?4\].*\[3,\s?3\]/, 'and for higher ranks');
  t.end();
});
