/**
 * Tiny datasets written to a temp dir for the train/data tests: a VOC layout (JPEG images, palette PNG
 * masks, an aug part with grayscale masks, ImageSets lists), a COCO-Stuff layout and a generic folder.
 * Images are smooth gradients (so JPEG keeps them close); masks are known patterns.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJpeg, encodeLabelPng, encodePng } from '../../engine/io/image.ts';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `spt-seg-${tag}-`));
}

/** RGB pixels [h, w, 3]: red follows x, green follows y, blue the seed. */
export function gradient(h: number, w: number, seed: number): Uint8Array {
  const px = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([Math.round((x * 255) / Math.max(w - 1, 1)), Math.round((y * 255) / Math.max(h - 1, 1)), (seed * 40) % 256], (y * w + x) * 3);
  return px;
}

/** Label [h, w]: vertical stripes of classes a, b, c (thirds) with a 255 border row at the top. */
export function stripes(h: number, w: number, a: number, b: number, c: number): Uint8Array {
  const lab = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) lab[y * w + x] = y === 0 ? 255 : x < w / 3 ? a : x < (2 * w) / 3 ? b : c;
  return lab;
}

const write = (path: string, bytes: Uint8Array | string) => writeFileSync(path, bytes);
const jpeg = (h: number, w: number, seed: number) => encodeJpeg({ width: w, height: h, channels: 3, data: gradient(h, w, seed) }, 95);

/** VOC2012 layout: train a, b (palette masks, raw VOC ids 0..20 + 255), val c, aug d (grayscale mask). */
export function writeVOC(root: string, size: [number, number] = [24, 32]): { root: string; raw: Record<string, Uint8Array> } {
  const [h, w] = size;
  for (const d of ['JPEGImages', 'SegmentationClass', 'SegmentationClassAug', 'ImageSets/Segmentation']) mkdirSync(join(root, d), { recursive: true });
  const raw: Record<string, Uint8Array> = {
    '2007_000001': stripes(h, w, 0, 1, 20), // background, aeroplane, tvmonitor
    '2007_000002': stripes(h, w, 15, 16, 0), // person, pottedplant, background
    '2007_000003': stripes(h, w, 5, 5, 7),
    '2008_000004': stripes(h, w, 12, 0, 19),
  };
  let seed = 0;
  for (const [name, lab] of Object.entries(raw)) {
    write(join(root, 'JPEGImages', `${name}.jpg`), jpeg(h, w, seed++));
    const aug = name.startsWith('2008');
    write(join(root, aug ? 'SegmentationClassAug' : 'SegmentationClass', `${name}.png`), encodeLabelPng({ width: w, height: h, data: lab }, aug ? null : undefined));
  }
  write(join(root, 'ImageSets/Segmentation/train.txt'), '2007_000001\n2007_000002\n');
  write(join(root, 'ImageSets/Segmentation/val.txt'), '2007_000003\n');
  write(join(root, 'ImageSets/Segmentation/aug.txt'), '2008_000004\n');
  return { root, raw };
}

/** coco_stuff164k layout: two train2017 images with grayscale *_labelTrainIds.png masks. */
export function writeCOCOStuff(root: string): { root: string; raw: Record<string, Uint8Array> } {
  const [h, w] = [12, 18];
  for (const d of ['images/train2017', 'annotations/train2017']) mkdirSync(join(root, d), { recursive: true });
  const raw: Record<string, Uint8Array> = { '000000000009': stripes(h, w, 0, 19, 170), '000000000025': stripes(h, w, 112, 112, 160) };
  let seed = 0;
  for (const [name, lab] of Object.entries(raw)) {
    write(join(root, 'images/train2017', `${name}.jpg`), jpeg(h, w, seed++));
    write(join(root, 'annotations/train2017', `${name}_labelTrainIds.png`), encodeLabelPng({ width: w, height: h, data: lab }, null));
  }
  return { root, raw };
}

/** A generic folder: PNG and JPEG images, palette masks, classes.txt, a val.txt list. */
export function writeFolder(root: string): { root: string; raw: Record<string, Uint8Array> } {
  const [h, w] = [10, 9];
  for (const d of ['images', 'masks']) mkdirSync(join(root, d), { recursive: true });
  const raw: Record<string, Uint8Array> = { b: stripes(h, w, 0, 1, 2), a: stripes(h, w, 2, 2, 1), c: stripes(h, w, 1, 0, 0) };
  write(join(root, 'images', 'a.png'), encodePng({ width: w, height: h, channels: 3, data: gradient(h, w, 1) }));
  write(join(root, 'images', 'b.jpg'), jpeg(h, w, 2));
  write(join(root, 'images', 'c.jpeg'), jpeg(h, w, 3));
  write(join(root, 'images', 'no-mask.jpg'), jpeg(h, w, 4));
  for (const [name, lab] of Object.entries(raw)) write(join(root, 'masks', `${name}.png`), encodeLabelPng({ width: w, height: h, data: lab }));
  write(join(root, 'classes.txt'), 'sky\nroad\n\ntree\n');
  write(join(root, 'val.txt'), 'c\na\n');
  return { root, raw };
}
