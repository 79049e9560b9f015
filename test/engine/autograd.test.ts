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
  t.equal(y.gradNode?.released, true, 'the node is marked released, not turned into a leaf');
  t.same(y.gradNode?.inputs, [], 'and lets go of its inputs');
  t.throws(() => y.backward(), /backward through the graph a second time.*retainGraph: true/s);
});

/** A tiny "encoder" shared by two losses, as focal + SSIM share the segmenter's output. */
function twoLosses() {
  const w = tensor([0.5, -1, 2], undefined, { requiresGrad: true, dtype: 'float64' });
  const x = tensor([1, 2, 3], undefined, { dtype: 'float64' });
  const enc = x.mul(w).exp(); // the shared subgraph
  const focal = enc.sum(); // d/dw = x e^{xw}
  const ssim = enc.mul(enc).sum(); // d/dw = 2 x e^{2xw}
  const expected = [1, 2, 3].map((xi, i) => {
    const e = Math.exp(xi * [0.5, -1, 2][i]);
    return xi * e + 2 * xi * e * e;
  });
  return { w, focal, ssim, expected };
}

t.test('a second backward through a freed shared subgraph throws and names retainGraph', async (t) => {
  const { w, focal, ssim } = twoLosses();
  focal.backward();
  const before = w.grad!.toArray();
  t.throws(() => ssim.backward(), /Trying to backward through the graph a second time.*\{ retainGraph: true \}/s);
  t.same(w.grad!.toArray(), before, 'nothing was accumulated by the refused backward');
});

t.test('retainGraph: two losses over one graph accumulate both gradients', async (t) => {
  const { w, focal, ssim, expected } = twoLosses();
  focal.backward({ retainGraph: true }); // options in the first place, as a PyTorch user writes them
  ssim.backward();
  const got = w.grad!.toArray();
  got.forEach((g, i) => t.ok(Math.abs(g - expected[i]) < 1e-12 * Math.abs(expected[i]), `w.grad[${i}] = ${g}, expected ${expected[i]}`));
  const b = twoLosses();
  b.focal.backward(undefined, { retainGraph: true }); // and in the second place
  b.ssim.backward();
  t.same(b.w.grad!.toArray(), got);
});

t.test('no two leaves share a gradient object', async (t) => {
  const a = tensor([1, 2], undefined, { requiresGrad: true });
  const b = tensor([3, 4], undefined, { requiresGrad: true });
  a.add(b).sum().backward(); // add hands the same gradient to both inputs
  t.not(a.grad, b.grad);
  a.grad!.assign(a.grad!.mul(10)); // as clipping replaces a grad's numbers
  t.same(a.grad!.toArray(), [10, 10]);
  t.same(b.grad!.toArray(), [1, 1], "b's gradient did not change with a's");
  // A leaf's gradient is not the caller's gradient object either.
  const g = tensor([5, 6]);
  const c = tensor([0, 0], undefined, { requiresGrad: true });
  c.mul(1).backward(g);
  t.not(c.grad, g);
  c.grad!.assign(tensor([0, 0]));
  t.same(g.toArray(), [5, 6]);
});

t.test('backward checks its arguments', async (t) => {
  const x = randn([2, 3], { requiresGrad: true });
  t.throws(() => x.mul(2).backward(ones([3, 2])), /gradient of shape \[3, 2\] does not match tensor shape \[2, 3\]/);
  t.throws(() => x.mul(2).backward(ones([6])), /does not match/);
  t.throws(() => x.sum().backward({ retain_graph: true } as never), /unknown option "retain_graph"/);
  t.throws(() => x.sum().backward({ retainGraph: 1 } as never), /retainGraph must be a boolean/);
  t.throws(() => x.sum().backward({ retainGraph: true }, { retainGraph: true }), /pass the options once/);
  t.throws(() => x.sum().backward(NaN), /finite number/);
  x.sum().backward({ retainGraph: false });
  t.same(x.grad!.toArray(), [1, 1, 1, 1, 1, 1], 'an options object is never read as a number (NaN)');
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
