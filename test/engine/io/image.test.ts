/**
 * engine/io/image.ts: label PNGs written by PIL (tools/reference/data_fixtures.py) read back as class
 * indices, our palette / grayscale PNG writer read back by pngjs and by our reader, the VOC colour map,
 * JPEG round trip, and errors that name the file.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeImage, decodeLabelPng, encodeJpeg, encodeLabelPng, encodePng, readLabelPng, sniffImageFormat, toRgb, vocPalette,
} from '../../../engine/io/image.ts';
import { loadFixture } from '../../helpers/fixtures.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'train');
const fx = loadFixture('train/data');

t.test('palette and grayscale label PNGs written by PIL read as indices', async (t) => {
  const pal = await readLabelPng(join(FIXTURES, 'data_palette.png'));
  t.same([pal.height, pal.width], fx.get('palette_labels').shape);
  t.same(Array.from(pal.data), Array.from(fx.get('palette_labels').data), 'palette indices incl. 0 and 255');
  const gray = await readLabelPng(join(FIXTURES, 'data_gray.png'));
  t.same([gray.height, gray.width], fx.get('gray_labels').shape);
  t.same(Array.from(gray.data), Array.from(fx.get('gray_labels').data), 'grey values incl. 255');
});

t.test('the VOC colour map', (t) => {
  const pal = vocPalette();
  t.same(Array.from(pal), Array.from(fx.get('voc_palette').data));
  t.same(Array.from(pal.subarray(3, 6)), [128, 0, 0], 'aeroplane');
  t.same(Array.from(pal.subarray(15 * 3, 15 * 3 + 3)), [192, 128, 128], 'person');
  t.same(Array.from(pal.subarray(255 * 3)), [224, 224, 192], 'border');
  t.end();
});

t.test('our palette PNG: pngjs sees the colours, our reader the indices', (t) => {
  const data = Uint8Array.from([0, 1, 2, 15, 20, 255]);
  const png = encodeLabelPng({ width: 3, height: 2, data });
  t.equal(sniffImageFormat(png), 'png');
  const rgba = decodeImage(png, 'mask.png');
  const pal = vocPalette();
  for (let i = 0; i < 6; i++) t.same(Array.from(rgba.data.subarray(i * 4, i * 4 + 3)), Array.from(pal.subarray(data[i] * 3, data[i] * 3 + 3)), `pixel ${i} colour`);
  t.same(Array.from(decodeLabelPng(png).data), Array.from(data));
  const gray = encodeLabelPng({ width: 2, height: 3, data }, null);
  const back = decodeLabelPng(gray);
  t.same([back.width, back.height, Array.from(back.data)], [2, 3, Array.from(data)], 'grayscale round trip');
  t.end();
});

t.test('palette entries that share a colour keep their indices', (t) => {
  const palette = new Uint8Array(6 * 3); // all six entries black
  const data = Uint8Array.from([5, 4, 3, 2, 1, 0]);
  const png = encodeLabelPng({ width: 6, height: 1, data }, palette);
  t.same(Array.from(decodeLabelPng(png).data), [5, 4, 3, 2, 1, 0]);
  t.end();
});

t.test('errors name the file', (t) => {
  const rgb = encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) });
  t.throws(() => decodeLabelPng(rgb, 'masks/a.png'), /masks\/a\.png: a label PNG must be palette or grayscale, got RGBA/);
  const png = encodeLabelPng({ width: 4, height: 4, data: new Uint8Array(16) });
  t.throws(() => decodeLabelPng(png.subarray(0, 40), 'cut.png'), /cut\.png: (truncated PNG|cannot decode)/);
  t.throws(() => decodeLabelPng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'x.png'), /x\.png: not a PNG/);
  t.throws(() => decodeImage(new Uint8Array([1, 2, 3]), 'y.bin'), /y\.bin: not a PNG or JPEG/);
  const jpg = encodeJpeg({ width: 16, height: 8, channels: 3, data: new Uint8Array(16 * 8 * 3).fill(128) });
  t.throws(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'img/b.jpg'), /img\/b\.jpg: cannot decode jpeg image/);
  t.end();
});

t.test('JPEG round trip (lossy) and RGBA -> RGB', (t) => {
  const w = 16, h = 8;
  const src = Uint8Array.from({ length: w * h * 3 }, (_, i) => 60 + (i % 3) * 50);
  const back = toRgb(decodeImage(encodeJpeg({ width: w, height: h, channels: 3, data: src }, 95), 'a.jpg'));
  t.same([back.width, back.height, back.channels], [w, h, 3]);
  const maxErr = Array.from(back.data).reduce((m, v, i) => Math.max(m, Math.abs(v - src[i])), 0);
  t.ok(maxErr <= 4, `max error ${maxErr} <= 4 grey levels`);
  t.end();
});

t.test('the PIL fixture file is a real palette PNG', (t) => {
  const bytes = readFileSync(join(FIXTURES, 'data_palette.png'));
  t.equal(bytes[8 + 8 + 9], 3, 'IHDR colour type 3');
  t.end();
});
