/**
 * Dropout (engine/functional/layers.ts): identity cases, statistics of the seeded mask, and the
 * gradient, which must be the same mask scaled by 1/(1-p). PyTorch's random stream differs from ours
 * (engine/rng.ts), so there is no fixture: the checks below hold for any correct dropout.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { Generator } from '../../../engine/index.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf } from '../../helpers/random.ts';

t.test('identity when p = 0 or not training', (t) => {
  const x = leaf([3, 4], new Generator(1));
  t.equal(E.dropout(x, 0), x, 'p = 0 returns the input');
  t.equal(E.dropout(x, 0.5, false), x, 'eval returns the input');
  t.same(E.dropout(x, 1).toArray(), new Array(12).fill(0), 'p = 1 zeros everything');
  t.end();
});

t.test('statistics: drop rate, kept values scaled by 1/(1-p), mean preserved', (t) => {
  const n = 20000;
  for (const p of [0.1, 0.5, 0.8]) {
    const x = E.ones([n], { dtype: 'float64' });
    const y = E.dropout(x, p, true, new Generator(5)).toArray();
    const dropped = y.filter((v) => v === 0).length / n;
    const sd = Math.sqrt((p * (1 - p)) / n);
    t.ok(Math.abs(dropped - p) < 5 * sd, `p = ${p}: dropped fraction ${dropped.toFixed(4)} within 5σ (${(5 * sd).toFixed(4)})`);
    t.ok(y.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-12), `p = ${p}: kept values are 1/(1-p)`);
    const mean = y.reduce((a, b) => a + b, 0) / n;
    t.ok(Math.abs(mean - 1) < 5 * Math.sqrt(p / (1 - p) / n), `p = ${p}: mean ${mean.toFixed(4)} ≈ 1`);
  }
  // Float32 input keeps its dtype.
  t.equal(E.dropout(E.ones([10]), 0.3, true, new Generator(1)).dtype, 'float32');
  t.end();
});

t.test('seeding: same seed same mask, other seed other mask', (t) => {
  const x = E.ones([200], { dtype: 'float64' });
  const a = E.dropout(x, 0.5, true, new Generator(9)).toArray();
  const b = E.dropout(x, 0.5, true, new Generator(9)).toArray();
  const c = E.dropout(x, 0.5, true, new Generator(10)).toArray();
  t.same(a, b);
  t.notSame(a, c);
  E.manualSeed(3);
  const d = E.dropout(x, 0.5).toArray();
  E.manualSeed(3);
  t.same(E.dropout(x, 0.5).toArray(), d, 'the default generator follows manualSeed');
  t.end();
});

t.test('gradient is the mask scaled by 1/(1-p)', (t) => {
  const p = 0.3;
  const x = leaf([50], new Generator(2), 'away'); // no zeros, so y = 0 exactly where dropped
  const y = E.dropout(x, p, true, new Generator(4));
  const gout = E.randn([50], { dtype: 'float64', generator: new Generator(6) });
  y.backward(gout);
  const xv = x.toArray(), yv = y.toArray(), gv = gout.toArray(), grad = x.grad!.toArray();
  let ok = true;
  for (let i = 0; i < 50; i++) {
    const kept = yv[i] !== 0;
    const expected = kept ? gv[i] / (1 - p) : 0;
    if (Math.abs(grad[i] - expected) > 1e-12) ok = false;
    if (kept && Math.abs(yv[i] - xv[i] / (1 - p)) > 1e-12) ok = false;
  }
  t.ok(ok, 'grad_i = gout_i / (1-p) where kept, 0 where dropped; y_i = x_i / (1-p) where kept');
  t.ok(yv.some((v) => v === 0) && yv.some((v) => v !== 0), 'mask has both kinds');
  // And the finite-difference check with the same mask on every call (a fresh generator each time).
  assertGradcheck(t, 'dropout p=0.3 with a fixed mask', (x) => E.dropout(x, 0.3, true, new Generator(8)), [leaf([3, 5], new Generator(3))]);
  assertGradcheck(t, 'dropout of a permuted input', (x) => E.dropout(x.t(), 0.5, true, new Generator(8)), [leaf([4, 3], new Generator(3))]);
  t.end();
});

t.test('errors', (t) => {
  t.throws(() => E.dropout(E.ones([2]), 1.5), /between 0 and 1, but got 1.5/);
  t.throws(() => E.dropout(E.ones([2]), -0.1), /between 0 and 1/);
  t.end();
});
