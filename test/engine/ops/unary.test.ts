/**
 * Unary primitives (engine/ops/unary.ts): float64 gradient checks on random shapes and permuted
 * inputs, then PyTorch's values and gradients from test/fixtures/ops/unary.safetensors.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator, type Tensor } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, permutedLeaf, randShape, type Kind } from '../../helpers/random.ts';

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  neg: E.neg, exp: E.exp, log: E.log, sqrt: E.sqrt, abs: E.abs, sin: E.sin, cos: E.cos,
  relu: E.relu, sigmoid: E.sigmoid, tanh: E.tanh, erf: E.erf, sign: E.sign,
};
/** Inputs away from the kinks (relu, abs at 0) and inside the domain (log, sqrt). */
const DOMAIN: Record<string, Kind> = { log: 'pos', sqrt: 'pos', abs: 'away', relu: 'away' };

const OPS: Record<string, OpImpl> = Object.fromEntries(
  Object.entries(UNARY).map(([name, f]) => [name, ([x]: Tensor[]) => f(x)]),
);
runOpFixture(t, 'unary', OPS);

t.test('gradcheck: random shapes and permuted inputs', (t) => {
  const g = new Generator(11);
  for (const [name, f] of Object.entries(UNARY)) {
    if (name === 'sign') continue; // piecewise constant
    for (let trial = 0; trial < 2; trial++) {
      const shape = randShape(g, 0, 3);
      assertGradcheck(t, `${name} [${shape}]`, f, [leaf(shape, g, DOMAIN[name] ?? 'randn')]);
    }
    const { x, perm } = permutedLeaf(randShape(g, 2, 3), g, DOMAIN[name] ?? 'randn');
    assertGradcheck(t, `${name} permute(${perm})`, (x) => f(x.permute(perm)), [x]);
  }
  // erf beyond |x| = 2.5 uses a continued fraction: check the derivative there too.
  const wide = E.tensor([-4.1, -2.7, -2.49, 2.51, 3.3, 5.2], [6], { dtype: 'float64', requiresGrad: true });
  assertGradcheck(t, 'erf on both branches', E.erf, [wide]);
  t.end();
});

t.test('sign has no gradient and keeps dtype', (t) => {
  const x = E.tensor([-2, 0, 3], [3], { dtype: 'float64', requiresGrad: true });
  const y = x.sign();
  t.same(y.toArray(), [-1, 0, 1]);
  y.mul(x).sum().backward(); // d(sign(x)·x)/dx = sign(x): only the mul path carries gradient
  t.same(x.grad?.toArray(), [-1, 0, 1]);
  t.equal(E.sign(E.tensor([1.5], [1], { dtype: 'float32' })).dtype, 'float32');
  t.end();
});
