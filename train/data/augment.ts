/**
 * The SPT-SEG / ZegCLIP data pipeline (method.md §4.2), deterministic from a Generator.
 *
 * Training, in mmseg's order: Resize(img_scale (2048, 512), ratio_range (0.5, 2.0), keep_ratio) ->
 *   RandomCrop(512x512, cat_max_ratio 0.75) -> RandomFlip(0.5) -> PhotoMetricDistortion -> Normalize ->
 *   Pad(512x512, image 0, label 255) -> CHW float32. Test: Resize(keep_ratio, min_size 512), which sets
 *   the short side to 512, then Normalize; the label keeps its size (metrics are computed at the
 *   original resolution).
 * Semantics copied from mmseg 0.x / mmcv (the versions ZegCLIP pins):
 *  - Resize: ratio ~ U(0.5, 2); target (int(2048·r), int(512·r)); mmcv.rescale_size: factor
 *    min(long_target / long_side, short_target / short_side), new size int(side·factor + 0.5);
 *    bilinear for images (cv2 INTER_LINEAR: half-pixel centres, edge clamp, no antialias), nearest for
 *    labels (cv2 INTER_NEAREST: source = floor(dst · in/out));
 *  - RandomCrop: offsets U{0..max(H−512, 0)}; with cat_max_ratio < 1, up to 10 crops are checked and
 *    one is kept when it holds more than one non-ignored class and the largest covers < 75 % of the
 *    non-ignored pixels; after 10 failures an 11th crop is taken unchecked;
 *  - PhotoMetricDistortion: brightness (p 0.5, +U(−32, 32)), contrast (p 0.5, ×U(0.5, 1.5)) first or
 *    last (a coin), saturation (p 0.5, S ×U(0.5, 1.5) in OpenCV's 8-bit HSV), hue (p 0.5, H + U{−18..17}
 *    mod 180); each step clips to 0..255 and truncates to uint8, like mmseg's `convert`.
 * Crops and flips are zero-copy ndarray views (lo/hi/step) of the decoded image; one copy makes them
 * dense for the pixel-wise steps.
 * Does not: reproduce cv2's fixed-point rounding bit for bit (bilinear and HSV values can differ by 1
 *   grey level), or draw the same random numbers as numpy (our Generator is the source of randomness).
 * Glossary: H, W input size; h, w resized size; cH, cW crop size.
 */
import ndarray from 'ndarray';
import type { Generator } from '../../engine/index.ts';
import type { NdArray } from '../../engine/io/ndarray.ts';
import type { SegSample } from './dataset.ts';
import { adjustHue, adjustSaturation, convertPixels } from './photometric.ts';
import { rescaleSize, resizeBilinear, testResizeSize } from '../../model/resize.ts';

// The test pipeline's geometry lives in model/resize.ts (no imports: the page and the loader's worker
// threads both take it), so that `segmentImage` (model/segment-image.ts) and this file resize alike.
export { rescaleSize, resizeBilinear, testResizeSize };

/**
 * The mean/std pair images are normalised with: mmseg's ImageNet values, CLIP's, or explicit values
 * per RGB channel on the 0..255 scale (a model card's, model/model-card.ts).
 */
export type Normalization = 'imagenet' | 'clip' | { mean: readonly number[]; std: readonly number[] };

/** The training pipeline's settings (defaults: mmseg's VOC / COCO-Stuff 512x512 pipeline). */
export interface AugmentOptions {
  /** (long, short) target of Resize before the ratio; default [2048, 512]. */
  imgScale?: [number, number];
  /** Resize ratio range; default [0.5, 2.0]. */
  ratioRange?: [number, number];
  /** Crop (and pad) size [cH, cW]; default [512, 512]. */
  cropSize?: [number, number];
  /** Largest share one class may cover in a crop; 1 disables the check. Default 0.75. */
  catMaxRatio?: number;
  /** Horizontal flip probability; default 0.5. */
  flipProb?: number;
  /** Apply PhotoMetricDistortion; default true. */
  photometric?: boolean;
  /** Mean/std: mmseg ImageNet (the reference) or CLIP's; default 'imagenet'. */
  normalization?: Normalization;
}

/** An augmented sample: the network input and its label, both cropped/padded to cropSize. */
export interface AugmentedSample {
  /** Normalised RGB, CHW float32 [3, cH, cW]. */
  image: Float32Array;
  /** Train ids [cH, cW], 255 = ignore (and padding). */
  label: Uint8Array;
  height: number;
  width: number;
}

const IGNORE = 255;

// The values of model/preprocess.ts's IMAGENET_* and CLIP_* (a test checks they agree), repeated here
// so that a loader's worker thread does not load the whole engine just for eight numbers.
/** mmseg's ImageNet mean/std on the 0..255 scale (method.md §4.2). */
const IMAGENET_MEAN = [123.675, 116.28, 103.53];
const IMAGENET_STD = [58.395, 57.12, 57.375];
/** CLIP's mean/std on the 0..1 scale (clip/clip.py). */
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/**
 * Mean and std per RGB channel on the 0..255 scale.
 *
 * @example
 * normalizationStats('clip').mean;   // CLIP_MEAN · 255
 */
export function normalizationStats(kind: Normalization): { mean: number[]; std: number[] } {
  if (typeof kind === 'object') return { mean: [...kind.mean], std: [...kind.std] };
  if (kind === 'clip') return { mean: CLIP_MEAN.map((m) => m * 255), std: CLIP_STD.map((s) => s * 255) };
  return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
}

/** Nearest-neighbour resize of a label map (cv2 INTER_NEAREST: source = floor(dst · in/out)). */
export function resizeNearest(src: Uint8Array, H: number, W: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(Math.floor(y * (H / h)), H - 1);
    for (let x = 0; x < w; x++) out[y * w + x] = src[sy * W + Math.min(Math.floor(x * (W / w)), W - 1)];
  }
  return out;
}

/** A crop box [y0, x0, cropH, cropW] inside an H x W image (mmseg RandomCrop.get_crop_bbox). */
export function randomCropBox(H: number, W: number, cropH: number, cropW: number, gen: Generator): [number, number, number, number] {
  const y0 = gen.int(0, Math.max(H - cropH, 0) + 1);
  const x0 = gen.int(0, Math.max(W - cropW, 0) + 1);
  return [y0, x0, Math.min(cropH, H - y0), Math.min(cropW, W - x0)];
}

/** Does a crop of the label pass cat_max_ratio? (> 1 non-ignored class, the largest < ratio of them). */
export function cropPassesCatMaxRatio(label: NdArray<Uint8Array>, catMaxRatio: number): boolean {
  const counts = new Map<number, number>();
  const [h, w] = label.shape;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = label.get(y, x);
      if (v !== IGNORE) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  if (counts.size <= 1) return false;
  let total = 0, most = 0;
  for (const c of counts.values()) { total += c; most = Math.max(most, c); }
  return most / total < catMaxRatio;
}

/** mmseg RandomCrop with cat_max_ratio: the chosen box (up to 10 checked tries, then one unchecked). */
export function chooseCrop(label: NdArray<Uint8Array>, cropH: number, cropW: number, catMaxRatio: number, gen: Generator): [number, number, number, number] {
  const [H, W] = label.shape;
  let box = randomCropBox(H, W, cropH, cropW, gen);
  if (catMaxRatio < 1) {
    for (let k = 0; k < 10; k++) {
      if (cropPassesCatMaxRatio(label.lo(box[0], box[1]).hi(box[2], box[3]), catMaxRatio)) break;
      box = randomCropBox(H, W, cropH, cropW, gen);
    }
  }
  return box;
}

/** A dense row-major copy of an ndarray view (any strides, e.g. a flipped crop). */
export function materialize(view: NdArray<Uint8Array>): Uint8Array {
  const [h, w, c = 1] = view.shape;
  const out = new Uint8Array(h * w * c);
  const [sy, sx, sc = 0] = view.stride;
  const { data, offset } = view;
  let i = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[i++] = data[offset + y * sy + x * sx + k * sc];
  return out;
}

/** Normalise HWC uint8 RGB into a CHW float32 array of size [3, outH, outW], zero-padded bottom/right. */
export function normalizeToChw(rgb: Uint8Array, h: number, w: number, kind: Normalization, outH = h, outW = w): Float32Array {
  const { mean, std } = normalizationStats(kind);
  const out = new Float32Array(3 * outH * outW); // padding: image 0 (after normalisation, as mmseg pads last)
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(c * outH + y) * outW + x] = (rgb[(y * w + x) * 3 + c] - mean[c]) / std[c];
    }
  }
  return out;
}

/**
 * The whole training pipeline for one sample; `gen` is the sample's own generator.
 *
 * @example
 * const { image, label } = trainTransform(sample, new Generator(0), { cropSize: [512, 512] });
 */
export function trainTransform(sample: SegSample, gen: Generator, opts: AugmentOptions = {}): AugmentedSample {
  const [ratioLo, ratioHi] = opts.ratioRange ?? [0.5, 2.0];
  const [scaleLong, scaleShort] = opts.imgScale ?? [2048, 512];
  const [cropH, cropW] = opts.cropSize ?? [512, 512];
  const { height: H, width: W } = sample;
  // 1. Resize by a random ratio, keeping the aspect ratio.
  const ratio = ratioLo + gen.random() * (ratioHi - ratioLo);
  const [h, w] = rescaleSize(H, W, [Math.trunc(scaleLong * ratio), Math.trunc(scaleShort * ratio)]);
  const image = ndarray(resizeBilinear(sample.image, H, W, 3, h, w), [h, w, 3]); // [h, w, 3]
  const label = ndarray(resizeNearest(sample.label, H, W, h, w), [h, w]); // [h, w]
  // 2. Random crop (views, no copy).
  const [y0, x0, ch, cw] = chooseCrop(label, cropH, cropW, opts.catMaxRatio ?? 0.75, gen);
  let imageView = image.lo(y0, x0, 0).hi(ch, cw, 3); // [ch, cw, 3]
  let labelView = label.lo(y0, x0).hi(ch, cw); // [ch, cw]
  // 3. Horizontal flip: a negative stride on the W axis (still no copy).
  if (gen.random() < (opts.flipProb ?? 0.5)) {
    imageView = imageView.step(1, -1, 1);
    labelView = labelView.step(1, -1);
  }
  const rgb = materialize(imageView); // [ch, cw, 3], dense
  // 4. PhotoMetricDistortion, in mmseg's order.
  if (opts.photometric ?? true) {
    if (gen.int(0, 2) === 1) convertPixels(rgb, 1, -32 + gen.random() * 64); // brightness
    const mode = gen.int(0, 2); // 1: contrast before the HSV steps, 0: after
    const contrast = () => { if (gen.int(0, 2) === 1) convertPixels(rgb, 0.5 + gen.random(), 0); };
    if (mode === 1) contrast();
    if (gen.int(0, 2) === 1) adjustSaturation(rgb, 0.5 + gen.random());
    if (gen.int(0, 2) === 1) adjustHue(rgb, gen.int(-18, 18));
    if (mode === 0) contrast();
  }
  // 5. Normalise and pad to the crop size (image 0, label 255).
  const out = new Uint8Array(cropH * cropW).fill(IGNORE); // [cH, cW]
  const dense = materialize(labelView);
  for (let y = 0; y < ch; y++) out.set(dense.subarray(y * cw, (y + 1) * cw), y * cropW);
  return { image: normalizeToChw(rgb, ch, cw, opts.normalization ?? 'imagenet', cropH, cropW), label: out, height: cropH, width: cropW };
}

/**
 * The test pipeline: keep-ratio resize (short side 512 by default) and normalise; CHW [3, h, w].
 *
 * @example
 * const { image } = testTransform(sample);   // short side 512, normalised
 */
export function testTransform(
  sample: SegSample, opts: Pick<AugmentOptions, 'imgScale' | 'normalization'> & { minSize?: number | null } = {},
): { image: Float32Array; height: number; width: number } {
  const [h, w] = testResizeSize(sample.height, sample.width, opts.imgScale ?? [2048, 512], opts.minSize === undefined ? 512 : opts.minSize);
  const rgb = resizeBilinear(sample.image, sample.height, sample.width, 3, h, w); // [h, w, 3]
  return { image: normalizeToChw(rgb, h, w, opts.normalization ?? 'imagenet'), height: h, width: w }; // [3, h, w]
}
