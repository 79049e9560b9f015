/**
 * A dropped or chosen file -> 8-bit RGB pixels, as `spt-seg segment` reads the same file: the page
 * then segments them with the same function (model/segment-image.ts), which resizes them for the model.
 *
 * Does: check the bytes are PNG or JPEG (by signature, not by name), refuse files and images that
 *   are too large with a message saying the limit, decode with the browser (createImageBitmap, no
 *   colour conversion, so a PNG gives its own bytes), and shrink an image whose longer side exceeds
 *   `IMAGE_LIMITS.workSide` on a canvas first (the masks of so many pixels would only cost memory),
 *   saying so in `note`.
 * Does not: draw on the page (view.ts) or run the model (pipeline.ts).
 */
import type { RgbImage } from '../model/preprocess.ts';
import { PageInputError } from './pipeline.ts';

export const IMAGE_LIMITS = { maxBytes: 32 * 1024 * 1024, maxSide: 8192, maxPixels: 40_000_000, workSide: 1024 } as const;

/** 'png', 'jpeg' or null from the first bytes. */
export function sniff(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode `file` (shrunk to at most `IMAGE_LIMITS.workSide` on its longer side). Throws PageInputError for user mistakes. */
export async function imageFromFile(file: File): Promise<{ rgb: RgbImage; note: string }> {
  if (file.size > IMAGE_LIMITS.maxBytes) {
    throw new PageInputError(`${file.name} is too large: ${(file.size / 2 ** 20).toFixed(1)} MB (at most ${IMAGE_LIMITS.maxBytes / 2 ** 20} MB).`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = sniff(bytes);
  if (format === null) throw new PageInputError(`${file.name} is not a PNG or JPEG image (${file.type || 'unknown type'}): drop a .png or .jpg file.`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: `image/${format}` }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new PageInputError(`${file.name} looks like a ${format.toUpperCase()} but the browser cannot decode it (truncated or damaged?).`);
  }
  const { width: w, height: h } = bitmap;
  if (w > IMAGE_LIMITS.maxSide || h > IMAGE_LIMITS.maxSide || w * h > IMAGE_LIMITS.maxPixels) {
    bitmap.close();
    throw new PageInputError(`${file.name} is too large: ${w}x${h} pixels (at most ${IMAGE_LIMITS.maxSide} per side and ${IMAGE_LIMITS.maxPixels / 1e6} megapixels).`);
  }
  const shrink = Math.min(1, IMAGE_LIMITS.workSide / Math.max(w, h));
  const W = Math.max(1, Math.round(w * shrink)), H = Math.max(1, Math.round(h * shrink));
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, W, H);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, W, H).data;
  const data = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = rgba[4 * p + c];
  const note = shrink < 1 ? `${file.name}, ${w}x${h}, shrunk to ${W}x${H} on the page` : `${file.name}, ${w}x${h}`;
  return { rgb: { width: W, height: H, channels: 3, data }, note };
}
