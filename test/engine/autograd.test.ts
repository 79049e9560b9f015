// Autograd mechanics: accumulation, deep graphs, noGrad, detach, error messages.
import t from 'tap';
import { noGrad, ones, randn, tensor, manualSeed, Tensor } from '../../engine/index.ts';

t.test('a tensor used twice gets both gradients', async (t) => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true, dtype: 'float64' });
  x.mul(x).add(x).sum().backward(); // d/dx (x² + x) = 2x + 1
  t.same(x.grad!.toArray(), [3, 5, 7]);
});

t.test('repeated backward calls accumulate into .grad, zeroGrad clears', async (t) => {
  const x = tensor([2], undefined, { requiresGrad: true });
  x.mul(3).sum().backward();
  x.mul(3).sum().backward();
  t.same(x.grad!.toArray(), [6]);
  x.zeroGrad();
  t.equal(x.grad, null);
});

t.test('a chain of 10,000 ops does not overflow the stack', async (t) => {
  const x = tensor([1], undefined, { requiresGrad: true, dtype: 'float64' });
  let y: Tensor = x;
  for (let i = 0; i < 10000; i++) y = y.mul(1.0001);
  y.sum().backward();
  t.ok(Math.abs(x.grad!.item() - 1.0001 ** 10000) < 1e-9 * 1.0001 ** 10000);
});

t.test('noGrad records nothing; detach cuts the graph', async (t) => {
  const x = randn([3], { requiresGrad: true });
  const y = noGrad(() => x.mul(2));
  t.equal(y.requiresGrad, false);
  t.equal(y.gradNode, null);
  const z = x.detach().mul(2).add(x).sum();
  z.backward();
  t.same(x.grad!.toArray(), [1, 1, 1]);
});

t.test('backward without a gradient needs a scalar', async (t) => {
  const x = randn([2, 2], { requiresGrad: true });
  t.throws(() => x.mul(2).backward(), /one-element tensor/);
  const y = x.mul(2);
  y.backward(ones([2, 2]));
  t.same(x.grad!.toArray(), [2, 2, 2, 2]);
});

t.test('backward on a tensor with no graph is a clear error', async (t) => {
  t.throws(() => tensor([1]).backward(), /does not require grad/);
});

t.test('the graph is released after backward unless retainGraph', async (t) => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward(undefined, { retainGraph: true });
  y.backward();
  t.same(x.grad!.toArray(), [4, 8]);
  t.equal(y.gradNode, null);
});

t.test('the same seed gives the same numbers', async (t) => {
  manualSeed(42);
  const a = randn([5]).toArray();
  manualSeed(42);
  const b = randn([5]).toArray();
  manualSeed(43);
  const c = randn([5]).toArray();
  t.same(a, b);
  t.not(a[0], c[0]);
});
