/**
 * rfft2 / irfft2 (engine/ops/fft.ts) and complexMul (engine/functional/complex.ts):
 *   - against torch.fft.rfft2 / irfft2: every length 1..33 along W and along H, three norms,
 *     odd and even, 14x14 and 32x32, irfft2's crop / pad to s, SPT's filter chain (forward and grads);
 *   - float64 gradchecks of both (sizes 1, 2, odd, even, 14), all norms, s that crops and pads;
 *   - round trips irfft2(rfft2(x), [H, W]) == x;
 *   - every H, W in 1..33: the CPU kernels (fft.js / direct DFT) against the DFT-as-matmul kernels
 *     that gpu.js runs (two independent implementations of the same contract);
 *   - results stay on x's backend; argument errors.
 */
import t from 'tap';
import { otherCpuBackend } from '../../helpers/backends.ts';
import * as E from '../../../engine/index.ts';
import {
  complexMul, Generator, getBackend, irfft2, rfft2, tensor, type FftNorm,
} from '../../../engine/index.ts';
import { CpuBackend } from '../../../kernels/cpu/index.ts';
import { usesFftJs } from '../../../kernels/cpu/fft.ts';
import { irfft2ByMatmul, rfft2ByMatmul } from '../../../kernels/gpu/fft.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertClose, assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, values } from '../../helpers/random.ts';

const norm = (a: Record<string, unknown>) => ({ norm: a.norm as FftNorm });
const OPS: Record<string, OpImpl> = {
  rfft2: ([x], a) => E.rfft2(x, norm(a)),
  irfft2: ([X], a) => E.irfft2(X, a.s as [number, number], norm(a)),
  complexMul: ([a, b]) => E.complexMul(a, b),
  sptFilter: ([x, w]) => {
    const [H, W] = x.shape.slice(-2);
    return E.irfft2(E.complexMul(E.rfft2(x, { norm: 'ortho' }), w), [H, W], { norm: 'ortho' });
  },
};
runOpFixture(t, 'functional/fft', OPS);

const NORMS: FftNorm[] = ['backward', 'ortho', 'forward'];

t.test('gradcheck rfft2 and irfft2: sizes 1, 2, odd, even, 14; every norm', (t) => {
  const g = new Generator(101);
  for (const [i, [H, W]] of [[1, 1], [2, 2], [1, 5], [3, 4], [5, 7], [4, 1], [14, 14]].entries()) {
    const nm = NORMS[i % 3];
    assertGradcheck(t, `rfft2([2, ${H}, ${W}], ${nm})`, (x) => rfft2(x, { norm: nm }), [leaf([2, H, W], g)]);
    const Wf = Math.floor(W / 2) + 1;
    assertGradcheck(t, `irfft2([2, ${H}, ${Wf}, 2], [${H}, ${W}], ${nm})`, (X) => irfft2(X, [H, W], { norm: nm }),
      [leaf([2, H, Wf, 2], g)]);
  }
  assertGradcheck(t, 'irfft2 cropping to s', (X) => irfft2(X, [3, 4]), [leaf([5, 4, 2], g)]);
  assertGradcheck(t, 'irfft2 zero-padding to s', (X) => irfft2(X, [4, 9], { norm: 'ortho' }), [leaf([2, 3, 2], g)]);
  assertGradcheck(t, 'complexMul (broadcast)', (a, b) => complexMul(a, b), [leaf([2, 3, 2], g), leaf([3, 2], g)]);
  assertGradcheck(t, 'SPT filter irfft2(rfft2(x) ⊙ w)', (x, w) =>
    irfft2(complexMul(rfft2(x, { norm: 'ortho' }), w), [4, 5], { norm: 'ortho' }), [leaf([2, 4, 5], g), leaf([4, 3, 2], g)]);
  t.end();
});

t.test('round trip irfft2(rfft2(x), [H, W]) == x for every norm, odd and even sizes', (t) => {
  const g = new Generator(102);
  for (const [H, W] of [[1, 1], [1, 2], [3, 5], [14, 14], [32, 32], [7, 33]]) {
    for (const nm of NORMS) {
      const x = tensor(values(2 * H * W, g), [2, H, W], { dtype: 'float64' });
      const y = irfft2(rfft2(x, { norm: nm }), [H, W], { norm: nm });
      assertClose(t, y.data(), x.data(), { rtol: 1e-12, name: `${H}x${W} ${nm}` });
    }
  }
  t.end();
});

t.test('every H, W in 1..33: CPU kernels (fft.js / direct DFT) == DFT-as-matmul kernels', (t) => {
  const cpu = new CpuBackend();
  const g = new Generator(103);
  let worstF = 0, worstI = 0;
  for (let H = 1; H <= 33; H++) {
    for (let W = 1; W <= 33; W++) {
      const Wf = Math.floor(W / 2) + 1;
      const x = cpu.fromArray(values(H * W, g), 'float64');
      const X = cpu.fromArray(values(H * Wf * 2, g), 'float64');
      worstF = Math.max(worstF, maxRel(cpu.read(cpu.rfft2(x, 1, H, W, 0.5)), cpu.read(rfft2ByMatmul(cpu, x, 1, H, W, 0.5))));
      worstI = Math.max(worstI, maxRel(cpu.read(cpu.irfft2(X, 1, H, W, 0.5)), cpu.read(irfft2ByMatmul(cpu, X, 1, H, W, 0.5))));
    }
  }
  t.ok(worstF < 1e-12, `rfft2: max relative difference ${worstF.toExponential(2)} over 1089 sizes`);
  t.ok(worstI < 1e-12, `irfft2: max relative difference ${worstI.toExponential(2)} over 1089 sizes`);
  t.ok(usesFftJs(32) && usesFftJs(2) && !usesFftJs(14) && !usesFftJs(1), 'fft.js runs the powers of two >= 2');
  t.end();
});

/** max |a − b| / max |b| (one relative error per array). */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return a.length === b.length ? d / Math.max(s, 1e-300) : Infinity;
}

t.test('rfft2 / irfft2 run on the backend of their input', (t) => {
  const global = getBackend().name;
  const other = otherCpuBackend();
  if (!other) {
    t.pass('only one CPU backend registered: nothing to compare');
    t.end();
    return;
  }
  const x = tensor(new Float64Array(2 * 6 * 5).map((_, i) => Math.sin(i)), [2, 6, 5], { dtype: 'float64', requiresGrad: true, device: other });
  const y = irfft2(rfft2(x, { norm: 'ortho' }), [6, 5], { norm: 'ortho' });
  t.equal(y.storage.backend.name, other, `computed on "${other}" while the global backend is "${global}"`);
  y.sum().backward();
  t.equal(x.grad?.storage.backend.name, other, 'and so is the gradient');
  t.end();
});

t.test('argument errors name what is wrong', (t) => {
  const x = tensor([[1, 2], [3, 4]]);
  t.throws(() => rfft2(tensor([1, 2, 3])), /expected x \[\.\., H, W\]/);
  t.throws(() => rfft2(x, { norm: 'none' as FftNorm }), /norm must be 'backward', 'ortho' or 'forward'/);
  t.throws(() => irfft2(x, [2, 2]), /expected X \[\.\., H, W\/2\+1, 2\]/);
  t.throws(() => irfft2(rfft2(x), [2, 0]), /s must be two positive integers/);
  t.throws(() => complexMul(x.reshape([4, 1]), rfft2(x)), /complexMul: expected a complex tensor/);
  t.end();
});
