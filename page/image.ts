/**
 * A dropped or chosen file -> the model's input: planar RGB [3, S, S] in [0, 1].
 *
 * Does: check the bytes are PNG or JPEG (by signature, not by name), refuse files and images that
 *   are too large with a message saying the limit, decode with the browser (createImageBitmap),
 *   centre-crop to a square and resize it to S x S on a canvas (the browser's smoothing).
 * Does not: draw on the page (view.ts) or run the model (pipeline.ts).
 */
import { PageInputError } from './pipeline.ts';

export const IMAGE_LIMITS = { maxBytes: 32 * 1024 * 1024, maxSide: 8192, maxPixels: 40_000_000 } as const;

/** 'png', 'jpeg' or null from the first bytes. */
export function sniff(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode `file` and resize it to the model's input side S. Throws PageInputError for user mistakes. */
export async function imageFromFile(file: File, S: number): Promise<Float32Array> {
  if (file.size > IMAGE_LIMITS.maxBytes) {
    throw new PageInputError(`${file.name} is too large: ${(file.size / 2 ** 20).toFixed(1)} MB (at most ${IMAGE_LIMITS.maxBytes / 2 ** 20} MB).`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = sniff(bytes);
  if (format === null) throw new PageInputError(`${file.name} is not a PNG or JPEG image (${file.type || 'unknown type'}): drop a .png or .jpg file.`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: `image/${format}` }));
  } catch {
    throw new PageInputError(`${file.name} looks like a ${format.toUpperCase()} but the browser cannot decode it (truncated or damaged?).`);
  }
  const { width: w, height: h } = bitmap;
  if (w > IMAGE_LIMITS.maxSide || h > IMAGE_LIMITS.maxSide || w * h > IMAGE_LIMITS.maxPixels) {
    bitmap.close();
    throw new PageInputError(`${file.name} is too large: ${w}x${h} pixels (at most ${IMAGE_LIMITS.maxSide} per side and ${IMAGE_LIMITS.maxPixels / 1e6} megapixels).`);
  }
  const side = Math.min(w, h);
  const canvas = document.createElement('canvas');
  canvas.width = S;
  canvas.height = S;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, (w - side) / 2, (h - side) / 2, side, side, 0, 0, S, S); // centre square -> S x S
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, S, S).data;
  const out = new Float32Array(3 * S * S);
  for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) out[c * S * S + p] = rgba[4 * p + c] / 255;
  return out;
}
