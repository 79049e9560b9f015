/**
 * The SPT-SEG losses (train/losses/): focal, dice, SSIM and the whole sptLoss against the PyTorch
 * reference of the official criterion (tools/reference/losses_fixtures.py), SSIM also against skimage,
 * float64 gradient checks, the ignore modes, the backend of the constants, and the input errors.
 */
import t from 'tap';
import { backendNames, getBackend, setBackend, tensor, Generator, type DType, type Tensor } from '../../engine/index.ts';
import { diceLoss, sigmoidFocalLoss, sptLoss, ssim, ssimMap, gaussianWindow, prepareTargets } from '../../train/index.ts';
import { loadFixture, toTensor, type CaseArgs } from '../helpers/fixtures.ts';
import { assertClose, assertGradcheck } from '../helpers/gradcheck.ts';
import { leaf } from '../helpers/random.ts';

const fx = loadFixture('train/losses');
const TOL = { float64: { forward: 1e-10, grad: 1e-10 }, float32: { forward: 1e-5, grad: 1e-5 } } as const;
const input = (name: string, dtype: DType, requiresGrad = false): Tensor => {
  const x = toTensor(fx.get(name));
  const y = x.dtype === 'int32' ? x : x.to(dtype);
  return requiresGrad ? y.requiresGrad_() : y;
};
const ints = (v: number[], shape: number[]) => tensor(v, shape, { dtype: 'int32' });

t.test('PyTorch fixture train/losses.safetensors (the official criterion)', (t) => {
  const names = Object.keys(fx.cases).sort();
  t.ok(names.length >= 20, `${names.length} cases`);
  for (const name of names) {
    const meta = fx.cases[name] as unknown as CaseArgs;
    const dtype: DType = name.endsWith('_f32') ? 'float32' : 'float64';
    const tol = TOL[dtype];
    const close = (a: Tensor | undefined, key: string, rtol: number) => {
      if (!t.ok(a, `${name}: ${key} computed`)) return;
      assertClose(t, a!.data(), fx.get(`${name}.${key}`).data, { rtol, name: `${name}.${key}` });
    };
    t.test(name, (t) => {
      if (meta.op === 'focal' || meta.op === 'dice') {
        const x = input('focal.logits', dtype, true), y = input('focal.targets', dtype);
        const out = meta.op === 'focal'
          ? sigmoidFocalLoss(x, y, meta.numMasks, { alpha: meta.alpha, gamma: meta.gamma })
          : diceLoss(x, y, meta.numMasks);
        out.backward();
        close(out, 'out', tol.forward);
        close(x.grad ?? undefined, 'grad', tol.grad);
      } else if (meta.op === 'ssim') {
        const x = input('ssim.x', dtype, true), y = input('ssim.y', dtype);
        const out = ssim(x, y);
        out.backward();
        close(out, 'out', tol.forward);
        close(x.grad ?? undefined, 'grad', tol.grad);
        close(ssimMap(x, y), 'map', tol.forward);
      } else if (meta.op === 'skimage') {
        // skimage averages over the interior only (crop = (11 − 1) / 2 on every side), where zero and
        // reflect padding agree: compare that part of our map, and its mean with skimage's mssim.
        const x = input('skimage.x', 'float64'), y = input('skimage.y', 'float64');
        const map = ssimMap(x, y).data();
        const [, , H, W] = x.shape, crop = meta.crop as number;
        const ours: number[] = [], theirs: number[] = [];
        const full = fx.get('skimage.map').data;
        for (let i = crop; i < H - crop; i++) for (let j = crop; j < W - crop; j++) {
          ours.push(map[i * W + j]);
          theirs.push(full[i * W + j]);
        }
        assertClose(t, ours, theirs, { rtol: 1e-10, name: 'SSIM map interior vs skimage' });
        assertClose(t, [ours.reduce((a, b) => a + b, 0) / ours.length], fx.get('skimage.mssim').data, { rtol: 1e-10, name: 'mean SSIM vs skimage mssim' });
      } else if (meta.op === 'spt') {
        const prefix = name.startsWith('spt_empty') ? 'spt_empty' : 'spt';
        const x = input(`${prefix}.logits`, dtype, true), labels = input(`${prefix}.labels`, dtype);
        const r = sptLoss(x, labels, { ignoreMode: meta.ignoreMode, diceWeight: meta.diceWeight });
        r.total.backward();
        t.equal(r.numMasks, meta.numMasks, 'numMasks');
        close(r.focal, 'focal', tol.forward);
        close(r.ssim, 'ssim', tol.forward);
        if (meta.diceWeight !== 0) close(r.dice, 'dice', tol.forward);
        else t.equal(r.dice, undefined, 'no dice term when its weight is 0');
        close(r.total, 'total', tol.forward);
        close(x.grad ?? undefined, 'grad', tol.grad);
      } else {
        t.fail(`unknown op ${String(meta.op)}`);
      }
      t.end();
    });
  }
  t.end();
});

t.test('gradcheck focal, dice and SSIM (float64)', (t) => {
  const g = new Generator(901);
  const target = tensor(Array.from({ length: 2 * 2 * 3 * 4 }, () => (g.random() < 0.4 ? 1 : 0)), [2, 2, 3, 4], { dtype: 'float64' });
  const weight = tensor(Array.from({ length: 2 * 3 * 4 }, () => (g.random() < 0.7 ? 1 : 0)), [2, 1, 3, 4], { dtype: 'float64' });
  for (const [alpha, gamma] of [[0.25, 2], [0.6, 1.5], [-1, 0], [0.25, 1]]) {
    assertGradcheck(t, `focal α ${alpha} γ ${gamma}`, (x) => sigmoidFocalLoss(x, target, 3, { alpha, gamma }), [leaf([2, 2, 3, 4], g)]);
  }
  assertGradcheck(t, 'focal with pixel weights', (x) => sigmoidFocalLoss(x, target, 3, { weight }), [leaf([2, 2, 3, 4], g)]);
  assertGradcheck(t, 'focal wrt soft targets', (y) => sigmoidFocalLoss(leaf([2, 2, 3, 4], new Generator(3)).detach(), y.sigmoid(), 2), [leaf([2, 2, 3, 4], g)]);
  assertGradcheck(t, 'dice', (x) => diceLoss(x, target, 3), [leaf([2, 2, 3, 4], g)]);
  assertGradcheck(t, 'dice with pixel weights', (x) => diceLoss(x, target, 3, { weight }), [leaf([2, 2, 3, 4], g)]);
  const y = tensor(Array.from({ length: 2 * 7 * 9 }, () => (g.random() < 0.5 ? 1 : 0)), [1, 2, 7, 9], { dtype: 'float64' });
  assertGradcheck(t, 'ssim wrt x [1, 2, 7, 9]', (x) => ssim(x, y), [leaf([1, 2, 7, 9], g)]);
  assertGradcheck(t, 'ssimMap wrt both inputs, 5-tap window', (a, b) => ssimMap(a, b, { windowSize: 5, sigma: 1 }), [leaf([2, 6, 5], g), leaf([2, 6, 5], g)]);
  assertGradcheck(t, 'ssim weighted mean', (x) => ssim(x, y, { weight: tensor([1, 0, 0, 1, 1, 1, 0, 1, 1], [1, 1, 1, 9], { dtype: 'float64' }) }), [leaf([1, 2, 7, 9], g)]);
  t.end();
});

t.test('gradcheck sptLoss with upsampling, both ignore modes, with dice (float64)', (t) => {
  const g = new Generator(902);
  const labels = ints([
    0, 0, 1, 1, 255, 2, 2,
    0, 0, 1, 1, 255, 2, 2,
    0, 255, 1, 1, 1, 2, 2,
    0, 0, 0, 1, 1, 1, 255,
    255, 255, 255, 1, 1, 1, 1,
    2, 2, 0, 0, 1, 255, 1,
  ], [1, 6, 7]);
  for (const ignoreMode of ['reference', 'mask'] as const) {
    assertGradcheck(t, `sptLoss [1, 3, 3, 4] -> [6, 7], ${ignoreMode}, dice 1`,
      (x) => sptLoss(x, labels, { ignoreMode, diceWeight: 1 }).total, [leaf([1, 3, 3, 4], g)]);
  }
  t.end();
});

t.test('sptLoss semantics: targets, num_masks, ignored pixels, weights', (t) => {
  const labels = ints([0, 2, 255, 2, 255, 255, 255, 255, 1, 1, 3, 3, 0, 255, 3, 1], [2, 2, 4]);
  const like = tensor([0], [1], { dtype: 'float64' });
  const { targets, valid, numMasks } = prepareTargets(labels, 4, like);
  t.equal(numMasks, 2 + 3, 'image 0 has {0, 2}, image 1 has {0, 1, 3}: 5 masks');
  t.same(targets.shape, [2, 4, 2, 4]);
  const oh = targets.data();
  t.same(Array.from(oh.slice(0, 8)), [1, 0, 0, 0, 0, 0, 0, 0], 'class-0 mask of image 0');
  t.same(Array.from(oh.slice(16, 24)), [0, 1, 0, 1, 0, 0, 0, 0], 'class-2 mask of image 0');
  t.same(Array.from(valid.data().slice(0, 8)), [1, 1, 0, 1, 0, 0, 0, 0], 'valid pixels of image 0');
  t.equal(prepareTargets(ints([255, 255], [1, 1, 2]), 3, like).numMasks, 1, 'num_masks is at least 1');

  const g = new Generator(903);
  const x = leaf([2, 4, 2, 4], g);
  const r = sptLoss(x, labels, { focalWeight: 3, ssimWeight: 0.5, diceWeight: 2 });
  const expected = r.focal.item() * 3 + r.ssim.item() * 0.5 + r.dice!.item() * 2;
  t.ok(Math.abs(r.total.item() - expected) < 1e-12, 'total = the weighted sum of the terms');

  // Mask mode: with no SSIM term, ignored pixels get exactly zero gradient (no upsampling here);
  // the reference mode treats them as negatives, so they do get one.
  for (const mode of ['mask', 'reference'] as const) {
    const xi = leaf([2, 4, 2, 4], new Generator(904));
    sptLoss(xi, labels, { ignoreMode: mode, ssimWeight: 0, diceWeight: 1 }).total.backward();
    const grad = xi.grad!.data();
    let ignoredGrad = 0;
    for (let b = 0; b < 2; b++) for (let c = 0; c < 4; c++) for (let i = 0; i < 8; i++) {
      if (labels.data()[b * 8 + i] === 255) ignoredGrad = Math.max(ignoredGrad, Math.abs(grad[(b * 4 + c) * 8 + i]));
    }
    if (mode === 'mask') t.equal(ignoredGrad, 0, 'mask mode: ignored pixels get no gradient');
    else t.ok(ignoredGrad > 1e-4, `reference mode: ignored pixels are negatives (|grad| up to ${ignoredGrad.toExponential(2)})`);
  }
  t.end();
});

t.test('bad input gets a specific error', (t) => {
  const x = tensor(new Float64Array(2 * 3 * 2 * 2), [2, 3, 2, 2], { dtype: 'float64' });
  t.throws(() => sptLoss(x, ints([0, 1, 2, 3, 0, 0, 0, 0], [2, 2, 2])), /label 3 at \[0, 1, 1\] is outside \[0, 3\) and is not the ignore index 255/);
  t.throws(() => sptLoss(x, ints([0, 1, 2, -1, 0, 0, 0, 0], [2, 2, 2])), /label -1 at \[0, 1, 1\]/);
  t.throws(() => sptLoss(x, ints([0, 1, 2, 0], [1, 2, 2])), /labels must be \[B, H, W\] with B = 2/);
  t.throws(() => sptLoss(x.reshape([6, 2, 2]), ints([0, 1, 2, 0], [1, 2, 2])), /logits must be \[B, C, h, w\], got \[6,2,2\]/);
  t.throws(() => sptLoss(x, ints([0, 0, 0, 0, 0, 0, 0, 0], [2, 2, 2]), { ignoreMode: 'drop' as 'mask' }), /ignoreMode must be 'reference' or 'mask'/);
  t.throws(() => sigmoidFocalLoss(x, x.reshape([2, 3, 4]), 1), /targets have shape \[2,3,4\], expected the logits' shape \[2,3,2,2\]/);
  t.throws(() => sigmoidFocalLoss(x, x, 0), /numMasks must be positive/);
  t.throws(() => diceLoss(x, x.reshape([2, 3, 4]), 1), /diceLoss: targets have shape/);
  t.throws(() => ssim(x, x, { windowSize: 4 }), /windowSize must be a positive odd integer, got 4/);
  t.end();
});

t.test('the Gaussian window and the backend of the band matrices', (t) => {
  const g = gaussianWindow(11, 1.5);
  t.ok(Math.abs(g.reduce((a, b) => a + b, 0) - 1) < 1e-15, 'normalised');
  t.ok(Math.abs(g[5] / g[4] - Math.exp(1 / (2 * 1.5 * 1.5))) < 1e-12 && g[0] === g[10], 'Gaussian, symmetric');
  // Constants go on the input's backend: a tensor made on another backend than the global one works.
  const names = backendNames();
  const other = names.find((n) => n !== getBackend().name);
  if (!other) {
    t.pass(`only one backend (${names}) registered: nothing to compare`);
    t.end();
    return;
  }
  const global = getBackend().name;
  setBackend(other);
  const x = tensor(new Float64Array(2 * 9 * 9).map((_, i) => Math.sin(i)), [1, 2, 9, 9], { dtype: 'float64' });
  const labels = ints(Array.from({ length: 81 }, (_, i) => (i % 7 === 0 ? 255 : i % 2)), [1, 9, 9]);
  setBackend(global);
  const r = sptLoss(x.slice(3, 0, 5).slice(2, 0, 5), labels);
  t.equal(r.total.storage.backend.name, other, `computed on "${other}" while the global backend is "${global}"`);
  t.ok(Number.isFinite(r.total.item()), 'finite');
  t.end();
});
