/**
 * Image files <-> pixels, for the command line (Node only; model/preprocess.ts stays pure).
 *
 * Does: decode PNG (pngjs: any bit depth and colour type, to 8-bit RGBA) and baseline/progressive
 *   JPEG (jpeg-js, to RGBA), chosen by the file's magic bytes, not its extension; encode RGB(A)
 *   pixels as PNG.
 * Does not: EXIF orientation, ICC colour profiles, CMYK JPEGs, GIF/WebP/BMP.
 */
import { readFile, writeFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import type { RgbImage } from '../model/preprocess.ts';

export type ImageFormat = 'png' | 'jpeg';

/** The format from the first bytes: PNG starts with \x89PNG, JPEG with FF D8 FF. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 4 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode PNG or JPEG bytes to RGBA pixels [H, W, 4]. `source` only appears in error messages. */
export function decodeImage(bytes: Uint8Array, source = '<buffer>'): RgbImage {
  const format = sniffImageFormat(bytes);
  try {
    if (format === 'png') {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data) };
    }
    if (format === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, channels: 4, data: img.data };
    }
  } catch (err) {
    throw new Error(`${source}: cannot decode ${format} image: ${(err as Error).message}`);
  }
  throw new Error(`${source}: not a PNG or JPEG file`);
}

export async function readImage(path: string): Promise<RgbImage> {
  return decodeImage(await readFile(path), path);
}

/** Encode RGB or RGBA pixels as a PNG (alpha 255 when the image has none). */
export function encodePng(img: RgbImage): Uint8Array {
  const { width, height, channels, data } = img;
  const rgba = Buffer.alloc(width * height * 4, 255);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < channels && c < 4; c++) rgba[i * 4 + c] = data[i * channels + c];
  return pngjs.PNG.sync.write({ width, height, data: rgba });
}

export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFile(path, encodePng(img));
}
