// Preprocessing against Pillow 9.4 (the fixtures): Image.resize with BICUBIC and BILINEAR, down and up,
// must match pixel for pixel; CLIP's Resize + CenterCrop + ToTensor + Normalize must match to float32
// rounding.
import t from 'tap';
import { toFloat32 } from '../../engine/io/safetensors.ts';
import {
  centerCrop, clipPreprocess, dropAlpha, imagenetNormalize, resizeImage, resizeShortSide, type RgbImage,
} from '../../model/preprocess.ts';
import { ref, reference, relErr } from './fixtures.ts';

function src(): RgbImage {
  const raw = reference().get('pil.src')!;
  const [height, width, channels] = raw.shape;
  return { width, height, channels, data: raw.data as Uint8Array };
}

for (const filter of ['bicubic', 'bilinear'] as const) {
  for (const [w, h] of [[19, 23], [71, 45], [16, 37], [50, 12]]) {
    t.test(`resizeImage ${filter} 50x37 -> ${w}x${h} equals Pillow`, async (tt) => {
      const expected = reference().get(`pil.${filter}_${w}x${h}`)!;
      const out = resizeImage(src(), w, h, filter);
      tt.same([out.height, out.width, out.channels], expected.shape);
      const want = expected.data as Uint8Array;
      let maxDiff = 0;
      for (let i = 0; i < out.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - want[i]));
      tt.equal(maxDiff, 0, 'every pixel equal');
    });
  }
}

t.test('clipPreprocess(…, 16) equals CLIP transform via Pillow', async (tt) => {
  const x = clipPreprocess(src(), 16);
  tt.same(x.shape, [1, 3, 16, 16]);
  const err = relErr(x, ref('pil.clip16'));
  tt.ok(err < 1e-6, `error ${err.toExponential(2)}`);
  const raw = reference().get('pil.clip16')!;
  tt.same(Array.from(x.data()), Array.from(toFloat32(raw)), 'bit-identical');
});

t.test('resizeShortSide and centerCrop follow torchvision', async (tt) => {
  const img: RgbImage = { width: 50, height: 37, channels: 3, data: new Uint8Array(50 * 37 * 3) };
  const r = resizeShortSide(img, 16);
  tt.same([r.width, r.height], [21, 16], 'long side int(16 * 50 / 37) = 21');
  // (21 - 16) / 2 = 2.5 rounds to 2 (half to even), as Python's round
  const data = new Uint8Array(21 * 3).map((_, i) => Math.floor(i / 3));
  const row: RgbImage = { width: 21, height: 1, channels: 3, data };
  tt.equal(centerCrop(row, 16, 1).data[0], 2);
  tt.throws(() => centerCrop(row, 22, 1), /larger than the image/);
});

t.test('RGBA input drops alpha; ImageNet normalisation on the 0..255 scale', async (tt) => {
  const rgba: RgbImage = { width: 1, height: 1, channels: 4, data: new Uint8Array([123, 116, 104, 7]) };
  tt.same(Array.from(dropAlpha(rgba).data), [123, 116, 104]);
  const x = imagenetNormalize(rgba).toArray();
  tt.ok(Math.abs(x[0] - (123 - 123.675) / 58.395) < 1e-6);
  tt.ok(Math.abs(x[2] - (104 - 103.53) / 57.375) < 1e-6);
});
