/**
 * correlate1d (engine/ops/correlate.ts), the fixed 1-D filter SSIM's blur is made of:
 *   - against PyTorch (conv1d along the dim, zero padding K // 2): every dim of a 3-D tensor, asymmetric
 *     taps, an axis shorter than the window, one tap, SSIM's Gaussian along H and W, a permuted input;
 *   - float64 gradchecks (asymmetric taps, so that a backward that forgot to reverse them fails);
 *   - on the wasm backend, H-then-W filtering equals the band-matrix matmul Gh · X · Gwᵀ it replaced in
 *     SSIM bit for bit, forward and backward (the claim kernels/wasm/correlate-simd.ts makes);
 *   - results on the input's backend; argument errors.
 */
import t from 'tap';
import * as E from '../../../engine/index.ts';
import { correlate1d, Generator, tensor, type Tensor } from '../../../engine/index.ts';
import { createWasmBackend } from '../../../kernels/wasm/index.ts';
import { gaussianWindow } from '../../../train/losses/ssim.ts';
import { otherCpuBackend } from '../../helpers/backends.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf, values } from '../../helpers/random.ts';

const OPS: Record<string, OpImpl> = {
  correlate1d: ([x], a) => E.correlate1d(x, a.weights as number[], a.dim as number),
};
runOpFixture(t, 'correlate', OPS);

t.test('gradcheck correlate1d: every dim, asymmetric taps, short axes, one tap', (t) => {
  const g = new Generator(131);
  const cases: [number[], number[], number][] = [
    [[2, 3, 9], [0.5, -1, 2], -1], [[2, 7, 5], [0.25, -0.5, 1, 2, -1.5], 1], [[6, 2, 3], [1, 0, -2, 0.5, 0.75], 0],
    [[3, 4], [...gaussianWindow(11, 1.5)], -1], [[2, 5], [-1.25], 0], [[4, 3, 2], [1, 2, 3], 1],
  ];
  for (const [shape, w, dim] of cases) {
    assertGradcheck(t, `correlate1d [${shape}] ${w.length} taps dim ${dim}`, (x) => correlate1d(x, w, dim), [leaf(shape, g)]);
  }
  t.end();
});

/** The [n, n] matrix of the zero-padded filter: row i holds w centred on column i (or its transpose). */
function bandMatrix(n: number, w: Float64Array, like: Tensor, transposed: boolean): Tensor {
  const r = (w.length - 1) / 2;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - r); j <= Math.min(n - 1, i + r); j++) m[transposed ? j * n + i : i * n + j] = w[j - i + r];
  }
  return tensor(m, [n, n], { device: like.storage.backend, dtype: like.dtype });
}

t.test('wasm: the H-then-W blur equals the band-matrix matmul bit for bit, forward and backward', (t) => {
  const wasm = createWasmBackend({ threads: 1 });
  if (wasm === null) { t.fail('no wasm backend in this engine (Node 20+ has one)'); t.end(); return; }
  const g = new Generator(132);
  const w = gaussianWindow(11, 1.5);
  // 64 x 64: the world's masks; 7 x 5 and 3 x 9: axes near or below the window; 300: k above the GEMM's k block.
  for (const [P, H, W] of [[6, 64, 64], [3, 7, 5], [2, 3, 9], [1, 300, 6]]) {
    const x = tensor(values(P * H * W, g), [P, H, W], { device: wasm }).requiresGrad_();
    const gout = tensor(values(P * H * W, g), [P, H, W], { device: wasm });
    const filtered = correlate1d(correlate1d(x, w, -2), w, -1);
    filtered.mul(gout).sum().backward();
    const [yF, gF] = [filtered.data(), x.grad!.data()];
    x.zeroGrad();
    const viaMatmul = bandMatrix(H, w, x, false).matmul(x).matmul(bandMatrix(W, w, x, true));
    viaMatmul.mul(gout).sum().backward();
    const [yM, gM] = [viaMatmul.data(), x.grad!.data()];
    const differ = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).filter((v, i) => !Object.is(v, b[i]) && v !== b[i]).length;
    t.equal(differ(yF, yM), 0, `[${P}, ${H}, ${W}]: forward identical`);
    t.equal(differ(gF, gM), 0, `[${P}, ${H}, ${W}]: gradient identical`);
  }
  t.end();
});

t.test('correlate1d runs on its input\'s backend', (t) => {
  const other = otherCpuBackend();
  if (other === null) { t.pass('only one CPU backend registered: nothing to compare'); t.end(); return; }
  const x = tensor([1, 2, 3, 4], [4], { device: other });
  const y = correlate1d(x, [1, 0, -1], 0);
  t.equal(y.storage.backend.name, other);
  t.same(Array.from(y.data()), [-2, -2, -2, 3]); // x[i-1] - x[i+1], zeros beyond the ends
  t.end();
});

t.test('correlate1d argument errors', (t) => {
  const x = tensor([1, 2, 3, 4], [2, 2]);
  t.throws(() => correlate1d(x, [1, 2], 0), /odd number of weights, got 2/);
  t.throws(() => correlate1d(x, [], 0), /odd number of weights, got 0/);
  t.throws(() => correlate1d(x, [1, NaN, 1], 0), /weights must be finite/);
  t.throws(() => correlate1d(x, [1], 2), /dimension out of range/);
  t.throws(() => correlate1d(tensor([1, 2], [2], { dtype: 'int32' }), [1], 0), /expected a float32 or float64 tensor, got int32/);
  t.throws(() => correlate1d(tensor(5), [1], 0), /at least one dim/);
  t.end();
});
