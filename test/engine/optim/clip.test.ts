/**
 * clipGradNorm (engine/optim/clip.ts): torch.nn.utils.clip_grad_norm_'s numbers, computed on the
 * device with a single read. PyTorch parity over 20 training steps is in train.test.ts (the SGD run
 * clips every step and compares the norm with PyTorch's).
 */
import t from 'tap';
import { tensor, type Tensor } from '../../../engine/index.ts';
import { clipGradNorm } from '../../../engine/optim/index.ts';

function withGrads(grads: number[][]): Tensor[] {
  return grads.map((g) => {
    const p = tensor(g.map(() => 0), undefined, { requiresGrad: true, dtype: 'float64' });
    p.grad = tensor(g, undefined, { dtype: 'float64' });
    return p;
  });
}

/** Count the device reads `fn` makes on the backend of `like`. */
function countReads(like: Tensor, fn: () => void): number {
  const backend = like.storage.backend;
  const read = backend.read;
  let n = 0;
  backend.read = (s) => { n++; return read.call(backend, s); };
  try { fn(); } finally { backend.read = read; }
  return n;
}

t.test('total norm over all gradients; scaled by maxNorm / (total + 1e-6) when above', (t) => {
  const ps = withGrads([[3, 4], [12], [0, 0, 0]]);
  const total = clipGradNorm(ps, 6.5);
  t.equal(total, 13);
  const c = 6.5 / (13 + 1e-6);
  t.same(ps.map((p) => p.grad!.toArray()), [[3 * c, 4 * c], [12 * c], [0, 0, 0]]);
  t.end();
});

t.test('below maxNorm the gradients keep their values; params without a grad are skipped', (t) => {
  const ps = withGrads([[0.3, 0.4]]);
  const none = tensor([1], undefined, { requiresGrad: true });
  t.equal(clipGradNorm([...ps, none], 1), 0.5);
  t.same(ps[0].grad!.toArray(), [0.3, 0.4]);
  t.equal(none.grad, null);
  t.equal(clipGradNorm([none], 1), 0, 'no gradients at all: total 0');
  t.end();
});

t.test('one read for any number of parameters', (t) => {
  const ps = withGrads(Array.from({ length: 12 }, (_, i) => [i + 1, -i]));
  const reads = countReads(ps[0], () => clipGradNorm(ps, 0.1));
  t.equal(reads, 1, 'a single .item() at the end');
  t.end();
});

t.test('clipped gradients are separate objects, never shared', (t) => {
  const ps = withGrads([[3, 4], [3, 4]]);
  ps[1].grad = ps[0].grad; // even if they came in shared
  clipGradNorm(ps, 1);
  t.not(ps[0].grad, ps[1].grad);
  t.end();
});
