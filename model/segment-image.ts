/**
 * The one inference path of SPT-SEG: an 8-bit RGB image in, a label per pixel out, used as its weights'
 * model card (model-card.ts) says. `spt-seg segment`, `spt-seg eval` (train/segmentation.ts
 * `evaluateSegmentation`), the package API (`import { segmentImage } from 'spt-seg'`) and the web page
 * (page/pipeline.ts) all call `segmentImage`, so the same image gives the same mask everywhere.
 *
 *   const { model, card } = await loadSptSegWithCard('world-sptseg.safetensors');
 *   const r = await segmentImage(model, card, text, { width, height, channels: 3, data: rgb });
 *   r.labels   // Int32Array [H·W]: class index, −1 = background (the card's rule); r.probs [C, H·W]; r.shares
 *
 * Steps (the official test pipeline, method.md §4.2; train/data/augment.ts `testTransform`):
 *   1. resize, keeping the aspect ratio, so the short side is the model's input side (mmseg
 *      Resize(keep_ratio, min_size), cv2 bilinear: model/resize.ts); an image already that size is untouched;
 *   2. normalise per channel on the 0..255 scale with the card's mean / std: (x − mean) / std, in
 *      float64, stored as float32 (as the data loader does);
 *   3. `SptSeg.predict`: sliding windows of the input size where the image is larger, sigmoid
 *      probabilities, the card's offset subtracted from the seen classes (the card's split, matched by name);
 *   4. probabilities resized back to the image (bilinear), then the label of each pixel: the argmax
 *      (the first class on ties), or −1 where the card's background rule says background
 *      (`backgroundLabels`; `background: false` skips the rule, as eval scores every labelled pixel).
 * Overrides (an offset, a threshold, a normalisation) go into the card first: `withOverrides(card, ...)`.
 * The tensors are made on the model's backend (its parameters'); the text embeddings are copied there
 * when they live elsewhere. Everything made here is freed before it returns.
 * Browser-safe: no Node imports.
 * Does not: decode files (engine/io/image.ts, page/image.ts), embed class names (text-embeddings.ts), draw.
 *
 * Glossary: C classes, E embedding width, H, W the image; h, w the resized image the model sees.
 */
import { dispose, interpolate, tensor, tidy, type Tensor } from '../engine/index.ts';
import { backgroundLabels, type BackgroundRule, type SptSegCard } from './model-card.ts';
import type { RgbImage } from './preprocess.ts';
import { resizeBilinear, testResizeSize } from './resize.ts';
import type { SptSeg } from './segmenter.ts';

/** The label of background pixels in mask files (mmseg's ignore index); `labels` holds −1 for them. */
export const BACKGROUND_LABEL = 255;

/** What `segmentImage` may be told besides the card. */
export interface SegmentImageOptions {
  /** The class of each row of `text` (default: the card's class names; needed when the card has none). */
  classes?: readonly string[];
  /** Which rows get the card's seen-class offset (default: the classes the card marks seen, by name). */
  seen?: readonly boolean[];
  /** Apply the card's background rule (default true). `false`: every pixel gets a class (eval's scoring). */
  background?: boolean;
  /** Sliding-window stride in pixels (default mmseg's 426/512 of the input side). */
  stride?: number;
}

/** A segmented image. */
export interface SegmentedImage {
  width: number;
  height: number;
  /** [H·W] row-major: class index, or −1 where the background rule says background. */
  labels: Int32Array;
  /** [C, H·W] sigmoid probabilities, the seen-class offset already subtracted. */
  probs: Float32Array;
  /** Fraction of the pixels given to each class. */
  shares: number[];
  /** Fraction of the pixels left as background (0 without a background rule). */
  backgroundShare: number;
  classes: string[];
  /** Which classes got the seen-class offset. */
  seen: boolean[];
  /** The size [h, w] the image was resized to for the model. */
  resized: [number, number];
  /** The background rule that was applied. */
  rule: BackgroundRule;
}

/**
 * Steps 1-2: the image as the model's input, CHW float32 [3, h, w], and its size.
 *
 * @example
 * prepareImage(rgb, card).data;   // [3, h, w], short side = the card's input side
 */
export function prepareImage(rgb: RgbImage, card: SptSegCard): { data: Float32Array; height: number; width: number } {
  const { width: W, height: H, channels: C } = rgb;
  if (C !== 3 && C !== 4) throw new Error(`segmentImage: expected an RGB or RGBA image, got ${C} channels`);
  if (rgb.data.length !== W * H * C) throw new Error(`segmentImage: ${rgb.data.length} bytes for a ${W}x${H}x${C} image`);
  const side = Math.min(...card.input.size);
  const [h, w] = testResizeSize(H, W, [4 * side, side], side);
  const src = C === 3 ? rgb.data : Uint8Array.from({ length: W * H * 3 }, (_, i) => rgb.data[Math.floor(i / 3) * 4 + (i % 3)]);
  const pixels = h === H && w === W ? src : resizeBilinear(src, H, W, 3, h, w); // [h, w, 3]
  const { mean, std } = card.input.normalization;
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < h * w; p++) out[c * h * w + p] = (pixels[p * 3 + c] - mean[c]) / std[c];
  }
  return { data: out, height: h, width: w };
}

/** The seen mask of `classes` under the card's split (by name); all false when the card names no classes. */
export function seenMaskOf(card: SptSegCard, classes: readonly string[]): boolean[] {
  const known = card.classes;
  if (!known) return classes.map(() => false);
  const seen = new Set(known.seen.map((c) => known.names[c]));
  return classes.map((n) => seen.has(n));
}

/**
 * Segment one image with `model` as its `card` says (see the header): `text` [C, E] holds the class
 * embeddings, one row per class of `opts.classes` (default: the card's classes).
 *
 * @example
 * const r = await segmentImage(model, card, worldClassText(clip, card.classes!.names), toRgb(await readImage('scene.png')));
 * r.labels;   // Int32Array [H·W], −1 = background
 */
export async function segmentImage(model: SptSeg, card: SptSegCard, text: Tensor, rgb: RgbImage, opts: SegmentImageOptions = {}): Promise<SegmentedImage> {
  const [ch, cw] = model.inputSize, [sh, sw] = card.input.size;
  if (ch !== sh || cw !== sw) throw new Error(`segmentImage: the card says input ${sh}x${sw}, the model takes ${ch}x${cw}`);
  if (text.shape.length !== 2) throw new Error(`segmentImage: text embeddings must be [C, E], got [${text.shape.join(', ')}]`);
  const [C, E] = text.shape;
  if (E !== model.config.decoder.embedDim) throw new Error(`segmentImage: text embeddings are ${E}-d, but the model's image embeddings are ${model.config.decoder.embedDim}-d`);
  const classes = [...(opts.classes ?? card.classes?.names ?? Array.from({ length: C }, (_, c) => `class ${c}`))];
  if (classes.length !== C) throw new Error(`segmentImage: ${C} text embeddings for ${classes.length} classes (${classes.join(', ')})`);
  const seen = [...(opts.seen ?? seenMaskOf(card, classes))];
  if (seen.length !== C) throw new Error(`segmentImage: a seen mask of ${seen.length} entries for ${C} classes`);
  const rule: BackgroundRule = opts.background === false ? { rule: 'none' } : card.inference.background;
  const { width: W, height: H } = rgb;
  const input = prepareImage(rgb, card);
  const like = model.parameters()[0];
  const probsT = tidy(() => {
    const image = tensor(input.data, [1, 3, input.height, input.width], { like }); // [1, 3, h, w]
    const textT = text.storage.backend === like.storage.backend ? text : tensor(text.data(), [C, E], { like }); // [C, E]
    const p = model.predict(image, textT, { seenMask: seen, offset: card.inference.offset, stride: opts.stride }).probs; // [1, C, h, w]
    return input.height === H && input.width === W ? p : interpolate(p, [H, W]); // [1, C, H, W]
  });
  let probs: Float32Array;
  try {
    probs = Float32Array.from(await probsT.dataAsync()); // a copy: the storage is recycled below
  } finally {
    dispose(probsT);
  }
  const labels = backgroundLabels(probs, C, rule); // [H·W]
  const counts = new Array<number>(C).fill(0);
  let none = 0;
  for (const l of labels) if (l < 0) none++; else counts[l]++;
  return {
    width: W, height: H, labels, probs, shares: counts.map((n) => n / labels.length), backgroundShare: none / labels.length,
    classes, seen, resized: [input.height, input.width], rule,
  };
}

/**
 * 8-bit RGB [H, W, 3] from planar float RGB [3, H, W] in [0, 1] (a world scene's `image`): round(255·v),
 * clipped. The page and `sceneRgb` (train/world/export.ts, the PNGs the world writes) both use it.
 *
 * @example
 * rgbFromPlanar(scene.image, scene.size, scene.size);   // what the scene's PNG decodes to
 */
export function rgbFromPlanar(planar: ArrayLike<number>, width: number, height: number): RgbImage {
  const plane = width * height;
  if (planar.length !== 3 * plane) throw new Error(`rgbFromPlanar: ${planar.length} values for [3, ${height}, ${width}]`);
  const data = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, planar[c * plane + p])));
  }
  return { width, height, channels: 3, data };
}

/**
 * Labels (−1 = background) as a mask file's bytes: the class index, BACKGROUND_LABEL (255) for background.
 *
 * @example
 * writeLabelPng('mask.png', { width, height, data: maskBytes(r.labels) }, classPalette());
 */
export function maskBytes(labels: Int32Array): Uint8Array {
  return Uint8Array.from(labels, (l) => (l < 0 ? BACKGROUND_LABEL : l));
}
