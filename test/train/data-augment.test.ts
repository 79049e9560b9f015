/**
 * train/data/augment.ts + photometric.ts: resize against torch (tools/reference/data_fixtures.py),
 * normalisation values, mmcv's rescale_size, crop / flip / pad of a known pattern, cat_max_ratio,
 * PhotoMetricDistortion steps, and determinism by seed.
 */
import t from 'tap';
import ndarray from 'ndarray';
import { Generator } from '../../engine/index.ts';
import {
  chooseCrop, cropPassesCatMaxRatio, normalizationStats, normalizeToChw, randomCropBox, rescaleSize, resizeBilinear, resizeNearest, testResizeSize, testTransform, trainTransform,
} from '../../train/data/augment.ts';
import { adjustHue, adjustSaturation, convertPixels, hsvToRgb, rgbToHsv } from '../../train/data/photometric.ts';
import type { SegSample } from '../../train/index.ts';
import { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD } from '../../model/preprocess.ts';
import { loadFixture } from '../helpers/fixtures.ts';

const fx = loadFixture('train/data');
const u8 = (name: string) => Uint8Array.from(fx.get(name).data);
const IMAGENET = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] };

t.test('bilinear and nearest resize match torch F.interpolate (cv2 geometry)', (t) => {
  const src = u8('resize.src'); // [7, 9, 3]
  for (const [h, w] of [[13, 5], [4, 17], [3, 4], [7, 9]]) {
    t.same(Array.from(resizeBilinear(src, 7, 9, 3, h, w)), Array.from(u8(`resize.bilinear_${h}x${w}`)), `bilinear ${h}x${w}`);
  }
  const lab = u8('nearest.src'); // [6, 5]
  for (const [h, w] of [[13, 4], [3, 11], [6, 5]]) t.same(Array.from(resizeNearest(lab, 6, 5, h, w)), Array.from(u8(`nearest.${h}x${w}`)), `nearest ${h}x${w}`);
  t.end();
});

t.test('normalisation: ImageNet (mmseg) and CLIP mean/std, CHW', (t) => {
  const src = u8('norm.src'); // [4, 5, 3]
  for (const kind of ['imagenet', 'clip'] as const) {
    const got = normalizeToChw(src, 4, 5, kind);
    const want = fx.get(`norm.${kind}`).data;
    const err = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
    t.ok(err < 1e-6, `${kind}: max |error| ${err.toExponential(2)} vs torch`);
  }
  t.equal(normalizeToChw(Uint8Array.from([0, 0, 0]), 1, 1, 'imagenet')[0], Math.fround(-123.675 / 58.395));
  t.same(normalizationStats('imagenet'), { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] }, 'the same constants as model/preprocess.ts');
  t.same(normalizationStats('clip'), { mean: CLIP_MEAN.map((m) => m * 255), std: CLIP_STD.map((s) => s * 255) });
  t.end();
});

t.test('rescale_size (mmcv) and the test-time resize: short side 512', (t) => {
  t.same(rescaleSize(375, 500, [2048, 512]), [512, 683]);
  t.same(rescaleSize(500, 375, [2048, 512]), [683, 512]);
  t.same(rescaleSize(100, 1000, [2048, 512]), [205, 2048], 'the long side caps at 2048');
  t.same(rescaleSize(480, 640, [1024, 256]), [256, 341]);
  t.same(testResizeSize(375, 500), [512, 683], 'test time: short side 512');
  t.same(testResizeSize(1000, 100), [5120, 512], 'min_size 512 lifts the 2048 cap (mmseg rewrites the scale)');
  t.same(testResizeSize(1000, 100, [2048, 512], null), [2048, 205], 'without min_size: rescale_size');
  t.same(testResizeSize(200, 300, [2048, 256], 512), [512, 768], 'min_size above the short target wins');
  const sample = { image: new Uint8Array(30 * 40 * 3), label: new Uint8Array(30 * 40), height: 30, width: 40, name: 'x', path: 'x' };
  const out = testTransform(sample);
  t.same([out.height, out.width, out.image.length], [512, 683, 3 * 512 * 683]);
  t.end();
});

/** An 8 x 12 image whose pixel (y, x) = (10y + x, 100 + y, 200 - x), with label (y·12 + x) mod 7. */
function pattern(): SegSample {
  const [H, W] = [8, 12];
  const image = new Uint8Array(H * W * 3);
  const label = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { image.set([10 * y + x, 100 + y, 200 - x], (y * W + x) * 3); label[y * W + x] = (y * W + x) % 7; }
  return { image, label, height: H, width: W, name: 'p', path: 'p' };
}

t.test('crop and flip of a known pattern (no resize, no colour change)', (t) => {
  const s = pattern();
  const opts = { imgScale: [12, 8] as [number, number], ratioRange: [1, 1] as [number, number], cropSize: [4, 6] as [number, number], catMaxRatio: 1, photometric: false };
  const seen = new Set<boolean>();
  for (let seed = 0; seed < 12; seed++) {
    const out = trainTransform(s, new Generator(seed), opts);
    // Replay the draws: ratio, crop offsets, flip.
    const g = new Generator(seed);
    g.random();
    const [y0, x0] = randomCropBox(8, 12, 4, 6, g);
    const flip = g.random() < 0.5;
    seen.add(flip);
    let ok = true;
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 6; x++) {
        const sx = x0 + (flip ? 5 - x : x), sy = y0 + y;
        if (out.label[y * 6 + x] !== s.label[sy * 12 + sx]) ok = false;
        for (let c = 0; c < 3; c++) {
          const want = Math.fround((s.image[(sy * 12 + sx) * 3 + c] - IMAGENET.mean[c]) / IMAGENET.std[c]);
          if (out.image[(c * 4 + y) * 6 + x] !== want) ok = false;
        }
      }
    }
    t.ok(ok, `seed ${seed}: crop at (${y0}, ${x0})${flip ? ', flipped' : ''}`);
  }
  t.same([...seen].sort(), [false, true], 'both flipped and unflipped crops occurred');
  t.end();
});

t.test('pad to the crop size: image 0, label 255', (t) => {
  const s = pattern();
  const out = trainTransform(s, new Generator(3), { imgScale: [12, 8], ratioRange: [1, 1], cropSize: [10, 16], catMaxRatio: 1, photometric: false, flipProb: 0 });
  t.same([out.height, out.width, out.image.length, out.label.length], [10, 16, 3 * 160, 160]);
  t.equal(out.label[7 * 16 + 11], s.label[7 * 12 + 11], 'last real pixel');
  t.same([out.label[7 * 16 + 12], out.label[8 * 16], out.label[159]], [255, 255, 255]);
  t.same([out.image[8 * 16], out.image[2 * 160 + 159], out.image[12]], [0, 0, 0]);
  t.end();
});

t.test('cat_max_ratio: keeps a crop where no class passes 75 %, at most 10 checks', (t) => {
  // 20 x 20 label: class 1 in columns 0-9, class 0 in columns 10-19, 255 in row 19. An 8 x 8 crop
  // passes only when 3 to 5 of its columns are class 1 (x0 in 5..7): about 1 box in 4.
  const lab = new Uint8Array(400);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 10; x++) lab[y * 20 + x] = 1;
  lab.fill(255, 380);
  const view = ndarray(lab, [20, 20]);
  t.ok(cropPassesCatMaxRatio(view.lo(0, 6).hi(8, 8), 0.75), '4 of 8 columns class 1: passes');
  t.notOk(cropPassesCatMaxRatio(view.lo(0, 12).hi(8, 8), 0.75), 'one class only: fails');
  t.notOk(cropPassesCatMaxRatio(view.lo(0, 8).hi(8, 8), 0.75), '2 of 8 columns: the largest is 75 %, not < 75 %');
  t.notOk(cropPassesCatMaxRatio(ndarray(new Uint8Array(4).fill(255), [2, 2]), 0.75), 'all ignored');
  let passed = 0, unchecked = 0;
  for (let seed = 0; seed < 40; seed++) {
    const [y0, x0, h, w] = chooseCrop(view, 8, 8, 0.75, new Generator(seed));
    if (cropPassesCatMaxRatio(view.lo(y0, x0).hi(h, w), 0.75)) passed++;
    const [a, b, c, d] = randomCropBox(20, 20, 8, 8, new Generator(seed));
    if (cropPassesCatMaxRatio(view.lo(a, b).hi(c, d), 0.75)) unchecked++;
  }
  t.ok(passed >= 30 && passed > unchecked + 10, `passing crops: ${passed}/40 with the check, ${unchecked}/40 without`);
  // A single-class label fails every check: 10 checks, then an 11th box is taken unchecked.
  const flat = ndarray(new Uint8Array(400), [20, 20]);
  const g = new Generator(7), replay = new Generator(7);
  const box = chooseCrop(flat, 8, 8, 0.75, g);
  let last = randomCropBox(20, 20, 8, 8, replay);
  for (let k = 0; k < 10; k++) last = randomCropBox(20, 20, 8, 8, replay);
  t.same(box, last, 'the 11th box');
  t.equal(g.random(), replay.random(), 'exactly 11 boxes were drawn');
  t.end();
});

t.test('PhotoMetricDistortion steps', (t) => {
  const px = Uint8Array.from([0, 100, 200, 250]);
  convertPixels(px, 1, 10.7);
  t.same(Array.from(px), [10, 110, 210, 255], 'brightness: +beta, clip, truncate');
  convertPixels(px, 0.5, 0);
  t.same(Array.from(px), [5, 55, 105, 127], 'contrast: ×alpha, truncate');
  t.same(rgbToHsv(255, 0, 0), [0, 255, 255]);
  t.same(rgbToHsv(0, 255, 0), [60, 255, 255]);
  t.same(rgbToHsv(0, 0, 255), [120, 255, 255]);
  t.same(rgbToHsv(128, 128, 128), [0, 0, 128]);
  t.same(hsvToRgb(60, 255, 255), [0, 255, 0]);
  let worst = 0;
  const g = new Generator(1);
  for (let i = 0; i < 300; i++) {
    const rgb = [g.int(0, 256), g.int(0, 256), g.int(0, 256)] as const;
    const back = hsvToRgb(...rgbToHsv(...rgb));
    worst = Math.max(worst, ...back.map((v, k) => Math.abs(v - rgb[k])));
  }
  // H is stored in 2-degree steps: half a step moves a saturated channel by 255 / 60 ≈ 4.3 levels.
  t.ok(worst <= 5, `RGB -> HSV -> RGB within ${worst} <= 5 levels (8-bit HSV quantisation)`);
  const red = Uint8Array.from([255, 0, 0]);
  adjustHue(red, 60);
  t.same(Array.from(red), [0, 255, 0], 'hue +60 (= 120 degrees): red -> green');
  const grey = Uint8Array.from([200, 100, 100]);
  adjustSaturation(grey, 0);
  t.same(Array.from(grey), [200, 200, 200], 'saturation 0: grey at the same value');
  t.end();
});

t.test('deterministic by seed; the full default pipeline', (t) => {
  const [H, W] = [40, 60];
  const image = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 7919) % 256);
  const label = Uint8Array.from({ length: H * W }, (_, i) => (i % W < 20 ? 1 : i % W < 40 ? 2 : 3));
  const s: SegSample = { image, label, height: H, width: W, name: 's', path: 's' };
  const opts = { imgScale: [120, 30] as [number, number], cropSize: [32, 32] as [number, number] };
  const a = trainTransform(s, new Generator(5), opts);
  const b = trainTransform(s, new Generator(5), opts);
  t.same([a.height, a.width, a.image.length], [32, 32, 3 * 32 * 32]);
  t.ok(a.image.every((v, i) => v === b.image[i]) && a.label.every((v, i) => v === b.label[i]), 'same seed, same output');
  const c = trainTransform(s, new Generator(6), opts);
  t.notOk(a.image.every((v, i) => v === c.image[i]), 'another seed, another output');
  t.ok(a.label.every((v) => v === 255 || (v >= 1 && v <= 3)), 'labels stay label values (nearest)');
  t.end();
});
