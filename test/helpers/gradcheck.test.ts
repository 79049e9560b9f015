/**
 * The checkers must be able to fail: gradcheck catches a wrong backward, closeness catches errors
 * just above its tolerance, and the fixture runner fails on a wrong op, a missing op or a wrong gradient.
 */
import t, { type Test } from 'tap';
import * as E from '../../engine/index.ts';
import { fromOp, type Tensor } from '../../engine/tensor.ts';
import { runOpFixture, loadFixture, type OpImpl } from './fixtures.ts';
import { closeness, gradcheck } from './gradcheck.ts';
import { leaf } from './random.ts';

/** x³ with a backward scaled by `factor` (1 = correct). */
function cube(factor: number) {
  return (x: Tensor): Tensor => {
    const y = E.noGrad(() => x.mul(x).mul(x));
    return fromOp(y.storage, y.shape, 'cube', [x], (g) => [g.mul(x.mul(x)).mul(3 * factor)]);
  };
}

t.test('gradcheck', (t) => {
  const x = leaf([2, 3], new E.Generator(1));
  t.ok(gradcheck(cube(1), [x]).ok, 'a correct backward passes');
  const bad = gradcheck(cube(1.001), [x]);
  t.notOk(bad.ok, 'a backward off by 0.1% fails');
  t.match(bad.message, /input 0 \(shape \[2,3\]\) element \[\d,\d\]: analytic .* numerical/, 'the message names the element');
  // A backward that ignores the upstream gradient's pattern: right for g = 1, wrong for a random w.
  const ignoresG = (x: Tensor) => {
    const y = E.noGrad(() => x.mul(2));
    return fromOp(y.storage, y.shape, 'ignoresG', [x], (g) => [E.full(x.shape, 2, { dtype: 'float64' }).mul(g.sum())]);
  };
  t.notOk(gradcheck(ignoresG, [leaf([3], new E.Generator(2))]).ok, 'a backward that mixes up output elements fails');
  t.throws(() => gradcheck((a) => a, [E.zeros([2], { requiresGrad: true })]), /float32, not float64/, 'float32 inputs are refused');
  t.end();
});

t.test('closeness: one relative error per tensor', (t) => {
  const e = [1, -2, 0.5, 0];
  t.ok(closeness([1, -2, 0.5, 1.9e-5], e, { rtol: 1e-5 }).ok, '1.9e-5 abs error against max|e| = 2 passes rtol 1e-5');
  t.notOk(closeness([1, -2 + 2.1e-5, 0.5, 0], e, { rtol: 1e-5 }).ok, '2.1e-5 fails');
  t.notOk(closeness([1, 2], [1, 2, 3]).ok, 'length mismatch fails');
  t.notOk(closeness([NaN, 1], [1, 1]).ok, 'NaN fails');
  t.ok(closeness([-Infinity, 1], [-Infinity, 1]).ok, 'matching infinities pass');
  t.notOk(closeness([0, 1], [-Infinity, 1]).ok, 'a finite value where -Infinity is expected fails');
  t.end();
});

/** A stand-in for a tap Test that records failures instead of reporting them. */
function recorder(): { t: Test; failures: string[] } {
  const failures: string[] = [];
  const sub = (): Test => {
    const fake = {
      ok: (c: boolean, m?: string) => (c || failures.push(m ?? 'ok'), c),
      notOk: (c: boolean, m?: string) => (!c || failures.push(m ?? 'notOk'), !c),
      equal: (a: unknown, b: unknown, m?: string) => (a === b || failures.push(m ?? 'equal'), a === b),
      same: (a: unknown, b: unknown, m?: string) => {
        const ok = JSON.stringify(a) === JSON.stringify(b);
        if (!ok) failures.push(m ?? 'same');
        return ok;
      },
      fail: (m?: string) => (failures.push(m ?? 'fail'), false),
      test: (_name: string, fn: (t: Test) => void) => fn(sub()),
      end: () => undefined,
    };
    return fake as unknown as Test;
  };
  return { t: sub(), failures };
}

t.test('runOpFixture fails on wrong values, wrong gradients and unknown ops', (t) => {
  const fx = loadFixture('unary');
  t.ok(Object.keys(fx.cases).length > 20, 'the unary fixture lists its cases');
  const right: Record<string, OpImpl> = {};
  for (const name of ['neg', 'exp', 'log', 'sqrt', 'abs', 'sin', 'cos', 'relu', 'sigmoid', 'tanh', 'erf', 'sign']) {
    const f = (E as unknown as Record<string, (x: Tensor) => Tensor>)[name];
    right[name] = ([x]) => f(x);
  }
  const good = recorder();
  runOpFixture(good.t, 'unary', right);
  t.same(good.failures, [], 'the right table passes');

  const wrongValue = recorder();
  runOpFixture(wrongValue.t, 'unary', { ...right, exp: ([x]) => x.exp().mul(1 + 3e-5) });
  t.ok(wrongValue.failures.some((m) => /exp_f32\.out/.test(m)), 'a 3e-5 relative error in float32 exp is caught');
  t.ok(wrongValue.failures.some((m) => /exp_f64\.out/.test(m)), 'and in float64');

  const wrongGrad = recorder();
  // Same forward values as tanh, but the gradient of a detached copy plus a zero-valued term.
  runOpFixture(wrongGrad.t, 'unary', { ...right, tanh: ([x]) => x.tanh().detach().add(x.mul(0)) });
  t.ok(wrongGrad.failures.some((m) => /tanh_f64\.grad0/.test(m)), 'a wrong gradient is caught');

  const missing = recorder();
  const { erf: _erf, ...withoutErf } = right;
  runOpFixture(missing.t, 'unary', withoutErf);
  t.ok(missing.failures.some((m) => /no engine implementation for op "erf"/.test(m)), 'an op missing from the table fails');
  t.end();
});
