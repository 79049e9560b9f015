/**
 * Image preprocessing: uint8 pixels [H, W, C] -> a normalised float tensor [1, 3, H', W'].
 * Pure (no Node imports): decoding files is cli/image-io.ts's job.
 *
 * Does:
 *  - `resizeImage`: Pillow's `Image.resize(size, BICUBIC | BILINEAR)` for 8-bit RGB, reproduced
 *    step by step from Pillow's src/libImaging/Resample.c, so that CLIP's preprocessing (torchvision
 *    on PIL images) is matched pixel for pixel:
 *      * kernels: bicubic with a = −0.5 (Keys; Pillow's choice, NOT torch's a = −0.75) and support 2;
 *        bilinear = the triangle with support 1;
 *      * antialiasing: when shrinking by s > 1 the kernel is stretched by s (support 2s for bicubic),
 *        so every input pixel contributes; enlarging uses the plain kernel;
 *      * sample positions: output pixel x looks at input centre (x + 0.5)·in/out (pixel centres
 *        aligned, like align_corners=False); the taps are cut at the image border and the weights
 *        of each output pixel renormalised to sum 1;
 *      * arithmetic: weights rounded to fixed point with 22 fraction bits, sums rounded and clipped
 *        to 0..255 after the horizontal pass and again after the vertical pass (two uint8 images);
 *  - `resizeShortSide` + `centerCrop`: torchvision's Resize(int) and CenterCrop, including
 *    int() truncation of the long side and Python's round-half-to-even crop offsets;
 *  - `toTensor`: (pixel·scale − mean) / std per channel, rounded to float32 after each step like
 *    torchvision's ToTensor + Normalize;
 *  - constants: CLIP's mean/std (clip/clip.py, 0..1 scale) and mmseg's ImageNet mean/std (0..255
 *    scale) used by ZegCLIP/SPT (method.md §4.2, §5.3).
 * Does not: colour management, EXIF rotation, 16-bit images, or alpha compositing: a 4th channel
 *   is dropped before resizing (Pillow would resize RGBA premultiplied, then drop alpha, which only
 *   differs for translucent pixels).
 *
 * Glossary: H, W input height and width; h, w output; C channels (3 or 4 in, 3 out); S crop side.
 */
import { tensor, type Tensor } from '../engine/index.ts';

/** 8-bit pixels, row-major [H, W, C] (the layout PNG and JPEG decoders produce). */
export interface RgbImage {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** The resampling filter of `resizeImage` (PIL's BICUBIC or BILINEAR). */
export type ResampleFilter = 'bicubic' | 'bilinear';

/** CLIP's normalisation, on the 0..1 scale (clip/clip.py _transform). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
/** CLIP's per-channel std on the 0..1 scale (OpenAI's preprocess). */
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
/** mmseg's ImageNet normalisation used by ZegCLIP/SPT, on the 0..255 scale (method.md §4.2). */
export const IMAGENET_MEAN = [123.675, 116.28, 103.53] as const;
/** ImageNet's per-channel std on the 0..255 scale (mmseg's img_norm_cfg). */
export const IMAGENET_STD = [58.395, 57.12, 57.375] as const;

const PRECISION_BITS = 32 - 8 - 2; // Pillow: 8 bits of result, 2 bits of headroom for overshoot
const ONE = 2 ** PRECISION_BITS;

const FILTERS: Record<ResampleFilter, { support: number; fn: (x: number) => number }> = {
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  bilinear: { support: 1, fn: (x) => Math.max(1 - Math.abs(x), 0) },
};

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: first tap, tap count and fixed-point weights per output. */
function coefficients(inSize: number, outSize: number, filter: ResampleFilter) {
  const { support: base, fn } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1); // stretch the kernel when shrinking (antialias)
  const support = base * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize), count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize); // fixed-point integers, stored exactly in doubles
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w = new Float64Array(xmax);
    const ss = 1 / filterScale; // multiplied, not divided, as Pillow does (same last-bit rounding)
    let total = 0;
    for (let x = 0; x < xmax; x++) total += (w[x] = fn((x + xmin - center + 0.5) * ss));
    for (let x = 0; x < xmax; x++) {
      const k = total !== 0 ? w[x] / total : w[x];
      weights[o * ksize + x] = Math.trunc(k < 0 ? -0.5 + k * ONE : 0.5 + k * ONE);
    }
    first[o] = xmin;
    count[o] = xmax;
  }
  return { first, count, weights, ksize };
}

/** Round a fixed-point sum to a pixel: (sum + ½) >> 22, clipped to 0..255. */
function clip8(sum: number): number {
  return Math.min(Math.max(Math.floor((sum + ONE / 2) / ONE), 0), 255);
}

/** One 1-D pass along x (`horizontal`) or y over a C-channel uint8 image. */
function resamplePass(src: RgbImage, outSize: number, filter: ResampleFilter, horizontal: boolean): RgbImage {
  const { width: W, height: H, channels: C, data } = src;
  const { first, count, weights, ksize } = coefficients(horizontal ? W : H, outSize, filter);
  const w = horizontal ? outSize : W, h = horizontal ? H : outSize;
  const out = new Uint8Array(w * h * C);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = horizontal ? x : y;
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let t = 0; t < count[o]; t++) {
          const sx = horizontal ? first[o] + t : x, sy = horizontal ? y : first[o] + t;
          sum += data[(sy * W + sx) * C + c] * weights[o * ksize + t];
        }
        out[(y * w + x) * C + c] = clip8(sum);
      }
    }
  }
  return { width: w, height: h, channels: C, data: out };
}

/**
 * Keep the first three channels (RGBA -> RGB).
 *
 * @example
 * dropAlpha({ width: 1, height: 1, channels: 4, data: new Uint8Array([1, 2, 3, 255]) }).data;   // [1, 2, 3]
 */
export function dropAlpha(img: RgbImage): RgbImage {
  if (img.channels === 3) return img;
  if (img.channels !== 4) throw new Error(`expected an RGB or RGBA image, got ${img.channels} channels`);
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = img.data[i * 4 + c];
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/**
 * Pillow's `resize((w, h), BICUBIC | BILINEAR)`: horizontal pass, then vertical (each only if needed).
 *
 * @example
 * resizeImage(img, 224, 224, 'bilinear');
 */
export function resizeImage(img: RgbImage, w: number, h: number, filter: ResampleFilter = 'bicubic'): RgbImage {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new Error(`resizeImage: bad size ${w}x${h}`);
  let out = dropAlpha(img);
  if (w !== out.width) out = resamplePass(out, w, filter, true);
  if (h !== out.height) out = resamplePass(out, h, filter, false);
  return out;
}

/**
 * torchvision Resize(size): the shorter side becomes `size`, the longer int(size · long / short).
 *
 * @example
 * resizeShortSide(img, 224);   // a 640x480 image becomes 298x224
 */
export function resizeShortSide(img: RgbImage, size: number, filter: ResampleFilter = 'bicubic'): RgbImage {
  const { width: W, height: H } = img;
  const [short, long] = W <= H ? [W, H] : [H, W];
  const newLong = Math.trunc((size * long) / short);
  const [w, h] = W <= H ? [size, newLong] : [newLong, size];
  return resizeImage(img, w, h, filter);
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision CenterCrop((h, w)): offsets round((H − h) / 2) with Python rounding.
 *
 * @example
 * centerCrop(resizeShortSide(img, 224), 224, 224);
 */
export function centerCrop(img: RgbImage, w: number, h: number): RgbImage {
  const { width: W, height: H, channels: C, data } = img;
  if (w > W || h > H) throw new Error(`centerCrop: crop ${w}x${h} is larger than the image ${W}x${H}`);
  const top = roundHalfEven((H - h) / 2), left = roundHalfEven((W - w) / 2);
  const out = new Uint8Array(w * h * C);
  for (let y = 0; y < h; y++) out.set(data.subarray(((top + y) * W + left) * C, ((top + y) * W + left + w) * C), y * w * C);
  return { width: w, height: h, channels: C, data: out };
}

/**
 * Pixels -> [1, 3, H, W] float32, channel c = (pixel·scale − mean[c]) / std[c], each step rounded to
 * float32 as torchvision's ToTensor (x / 255) + Normalize (sub_, div_) compute it.
 *
 * @example
 * toTensor(img, CLIP_MEAN, CLIP_STD);   // [1, 3, H, W]
 */
export function toTensor(
  img: RgbImage, mean: readonly number[], std: readonly number[], scale = 1 / 255,
): Tensor {
  const rgb = dropAlpha(img);
  const n = rgb.width * rgb.height;
  const out = new Float32Array(3 * n);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c]), s = f(std[c]);
    for (let i = 0; i < n; i++) {
      const v = scale === 1 / 255 ? f(rgb.data[i * 3 + c] / 255) : f(rgb.data[i * 3 + c] * scale);
      out[c * n + i] = f(f(v - m) / s);
    }
  }
  return tensor(out, [1, 3, rgb.height, rgb.width]); // [1, 3, H, W]
}

/**
 * CLIP's own preprocessing (clip/clip.py _transform): Resize(S, bicubic), CenterCrop(S), normalise.
 *
 * @example
 * const pixels = clipPreprocess({ width, height, channels: 3, data: rgb });   // [1, 3, 224, 224]
 */
export function clipPreprocess(img: RgbImage, size = 224): Tensor {
  const square = centerCrop(resizeShortSide(img, size, 'bicubic'), size, size);
  return toTensor(square, CLIP_MEAN, CLIP_STD); // [1, 3, S, S]
}

/**
 * ZegCLIP/SPT's input normalisation (mmseg ImageNet mean/std on 0..255), no resizing.
 *
 * @example
 * imagenetNormalize(img);   // [1, 3, H, W], (pixel - IMAGENET_MEAN) / IMAGENET_STD
 */
export function imagenetNormalize(img: RgbImage): Tensor {
  return toTensor(img, IMAGENET_MEAN, IMAGENET_STD, 1); // [1, 3, H, W]
}
