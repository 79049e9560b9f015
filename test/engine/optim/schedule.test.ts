// The poly schedule with linear warmup (mmcv PolyLrUpdaterHook semantics, method.md §4.1).
import t from 'tap';
import { polyLr } from '../../../engine/optim/index.ts';

const lr = polyLr({ baseLr: 2e-4, maxIters: 20000, power: 0.9, minLr: 1e-6, warmupIters: 1500, warmupRatio: 1e-6 });

t.test('warmup starts at warmupRatio · lr and ends on the poly curve', async (t) => {
  t.ok(Math.abs(lr(0) - 2e-4 * 1e-6) < 1e-16, `lr(0) = ${lr(0)}`);
  const regular1500 = (2e-4 - 1e-6) * (1 - 1500 / 20000) ** 0.9 + 1e-6;
  t.ok(Math.abs(lr(1500) - regular1500) < 1e-15);
  // Half way through warmup: k = 0.5 (1 - 1e-6), so lr ≈ regular / 2.
  const regular750 = (2e-4 - 1e-6) * (1 - 750 / 20000) ** 0.9 + 1e-6;
  t.ok(Math.abs(lr(750) - regular750 * (1 - 0.5 * (1 - 1e-6))) < 1e-15);
});

t.test('after warmup the rate decreases to minLr', async (t) => {
  let prev = Infinity;
  for (let it = 1500; it <= 20000; it += 500) {
    t.ok(lr(it) < prev, `decreasing at ${it}`);
    prev = lr(it);
  }
  t.equal(lr(20000), 1e-6);
  t.equal(lr(25000), 1e-6, 'clamped past maxIters');
});
