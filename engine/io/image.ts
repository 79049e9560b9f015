/**
 * Image files <-> pixels and label maps (Node only: model/preprocess.ts stays pure).
 *
 * Does:
 *  - decode PNG (pngjs: any bit depth and colour type, to 8-bit RGBA) and baseline/progressive JPEG
 *    (jpeg-js, to RGBA), chosen by the file's magic bytes, not its extension; encode RGB(A) as PNG;
 *  - read label PNGs as one class index per pixel: a palette (indexed) PNG gives its palette index
 *    (VOC SegmentationClass: index = class id, 255 = border), an 8-bit grayscale PNG its grey value
 *    (SegmentationClassAug, COCO-Stuff `*_labelTrainIds.png`);
 *  - write 8-bit palette PNGs (masks with the VOC colour map, or any palette) and grayscale label PNGs.
 *  - fail on bad input with an `ImageDecodeError` naming the file; refuse images beyond `IMAGE_LIMITS`,
 *    or larger than their compressed data could encode, from the headers, before a decoder allocates.
 * How the palette index is recovered: pngjs always expands a palette to RGBA, and two palette entries may
 *   share a colour, so before decoding we swap the file's PLTE chunk for an identity ramp (entry i =
 *   (i, i, i)) and drop tRNS; the red channel of pngjs's output is then the index itself.
 * Does not: EXIF orientation, ICC profiles, CMYK JPEGs, GIF/WebP/BMP, 16-bit label PNGs, or RGB colour
 *   masks (a label PNG must be palette or grayscale: the error says so).
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

/** 8-bit pixels, row-major [H, W, C] (structurally the same as model/preprocess.ts's RgbImage). */
export interface DecodedImage {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** One 8-bit class index per pixel, row-major [H, W]. */
export interface LabelMap {
  width: number;
  height: number;
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Every decoding failure; the message names the file (`source`) and what is wrong. */
export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/**
 * What one image may cost, checked from its header before decoding (docs/formats.md): at most
 * `maxPixels` (jpeg-js's own default, 100 MP: 400 MB of RGBA) and `maxMemoryMB` of decoder buffers.
 */
export const IMAGE_LIMITS = { maxPixels: 100_000_000, maxMemoryMB: 1024 } as const;

/**
 * Refuse, from the chunk headers alone, a PNG that asks for too many pixels: any IHDR (a file may
 * repeat it; the decoder takes the last) beyond `IMAGE_LIMITS.maxPixels`, or dimensions its IDAT data
 * cannot hold (deflate expands at most 1032:1, and every row takes at least 1 + width/8 bytes).
 * Otherwise pngjs would allocate the whole image first, then fail, seconds later.
 */
function checkPngSize(bytes: Uint8Array, source: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pixels = 0;
  let rawBytes = 0;
  let idat = 0;
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    if (type === 0x49484452 && at + 16 <= bytes.length) { // IHDR
      const width = view.getUint32(at + 8);
      const height = view.getUint32(at + 12);
      pixels = Math.max(pixels, width * height);
      rawBytes = Math.max(rawBytes, height * (1 + Math.ceil(width / 8)));
    }
    if (type === 0x49444154) idat += Math.min(length, bytes.length - at - 8); // IDAT
    at += 12 + length;
  }
  if (pixels > IMAGE_LIMITS.maxPixels) {
    throw new ImageDecodeError(`${source}: PNG of ${pixels} pixels, more than the limit of ${IMAGE_LIMITS.maxPixels}`);
  }
  if (rawBytes > 1032 * idat + 1024) {
    throw new ImageDecodeError(`${source}: PNG header declares at least ${rawBytes} bytes of rows, more than ${idat} bytes of IDAT data can inflate to`);
  }
}

/**
 * The same for a JPEG: walk its marker segments (skipping entropy-coded data, where 0xFF is always
 * followed by 0x00 or a restart marker) and check every frame header (SOFn). Each 8x8 block of a scan
 * costs at least one bit, so a file of N bytes cannot hold more than 8N blocks; jpeg-js would allocate
 * the frame's buffers before finding out.
 */
function checkJpegSize(bytes: Uint8Array, source: string): void {
  const u16 = (at: number) => (bytes[at] << 8) | bytes[at + 1];
  const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) break;
    const marker = bytes[at + 1];
    if (marker === 0xff || (marker >= 0xd0 && marker <= 0xd9) || marker === 0x01) { at += marker === 0xff ? 1 : 2; continue; }
    const length = u16(at + 2);
    if (isSof(marker) && at + 9 <= bytes.length) {
      const height = u16(at + 5);
      const width = u16(at + 7);
      if (width * height > IMAGE_LIMITS.maxPixels) {
        throw new ImageDecodeError(`${source}: JPEG of ${width}x${height} pixels, more than the limit of ${IMAGE_LIMITS.maxPixels}`);
      }
      if (Math.ceil(width / 8) * Math.ceil(height / 8) > 8 * bytes.length) {
        throw new ImageDecodeError(`${source}: JPEG header declares ${width}x${height} pixels, more than its ${bytes.length} bytes can encode`);
      }
    }
    at += 2 + length;
    if (marker === 0xda) { // start of scan: skip the entropy-coded data up to the next real marker
      while (at + 1 < bytes.length && !(bytes[at] === 0xff && bytes[at + 1] !== 0 && (bytes[at + 1] < 0xd0 || bytes[at + 1] > 0xd7))) at++;
    }
  }
}

/** A decoder's throw (jpeg-js sometimes throws strings) as text. */
const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The format from the first bytes: PNG starts with \x89PNG, JPEG with FF D8 FF. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 4 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Decode PNG or JPEG bytes to RGBA pixels [H, W, 4]. `source` (a path) names the file in errors. */
export function decodeImage(bytes: Uint8Array, source = '<buffer>'): DecodedImage {
  const format = sniffImageFormat(bytes);
  try {
    if (format === 'png') {
      checkPngSize(bytes, source);
      const png = pngjs.PNG.sync.read(asBuffer(bytes));
      return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data) };
    }
    if (format === 'jpeg') {
      checkJpegSize(bytes, source);
      const img = jpeg.decode(bytes, {
        useTArray: true, formatAsRGBA: true,
        maxResolutionInMP: IMAGE_LIMITS.maxPixels / 1e6, maxMemoryUsageInMB: IMAGE_LIMITS.maxMemoryMB,
      });
      return { width: img.width, height: img.height, channels: 4, data: img.data };
    }
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`${source}: cannot decode ${format} image: ${reason(err)}`);
  }
  throw new ImageDecodeError(`${source}: not a PNG or JPEG file`);
}

export async function readImage(path: string): Promise<DecodedImage> {
  return decodeImage(await readFile(path), path);
}

/** RGB pixels [H, W, 3] from any decoded image (alpha dropped). */
export function toRgb(img: DecodedImage): DecodedImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = img.data[i * img.channels + c];
  return { width: img.width, height: img.height, channels: 3, data: rgb };
}

/** Encode RGB or RGBA pixels as a PNG (alpha 255 when the image has none). */
export function encodePng(img: DecodedImage): Uint8Array {
  const { width, height, channels, data } = img;
  const rgba = Buffer.alloc(width * height * 4, 255);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < channels && c < 4; c++) rgba[i * 4 + c] = data[i * channels + c];
  return pngjs.PNG.sync.write({ width, height, data: rgba });
}

export async function writePng(path: string, img: DecodedImage): Promise<void> {
  await writeAtomic(path, encodePng(img));
}

// ---------------------------------------------------------------------------------------------
// PNG chunks: [length u32][type 4 ASCII][data][crc32 of type + data]

interface Chunk { type: string; data: Uint8Array }

function readChunks(bytes: Uint8Array, source: string): Chunk[] {
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw new ImageDecodeError(`${source}: not a PNG file (a label map must be a PNG)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  for (let at = 8; at < bytes.length;) {
    if (at + 12 > bytes.length) throw new ImageDecodeError(`${source}: truncated PNG (chunk header at byte ${at})`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) throw new ImageDecodeError(`${source}: truncated PNG (${type} chunk at byte ${at})`);
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  if (chunks[0]?.type !== 'IHDR' || chunks[0].data.length !== 13) throw new ImageDecodeError(`${source}: PNG without a valid IHDR chunk`);
  return chunks;
}

function writeChunks(chunks: readonly Chunk[]): Uint8Array {
  const total = 8 + chunks.reduce((s, c) => s + 12 + c.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(PNG_SIGNATURE, 0);
  let at = 8;
  for (const { type, data } of chunks) {
    view.setUint32(at, data.length);
    const typeBytes = Uint8Array.from(type, (ch) => ch.charCodeAt(0));
    out.set(typeBytes, at + 4);
    out.set(data, at + 8);
    view.setUint32(at + 8 + data.length, crc32(out.subarray(at + 4, at + 8 + data.length)));
    at += 12 + data.length;
  }
  return out;
}

const COLOR_TYPE_NAMES: Record<number, string> = { 0: 'grayscale', 2: 'RGB', 3: 'palette', 4: 'grayscale+alpha', 6: 'RGBA' };

/**
 * A label PNG as class indices [H, W]: the palette index of a palette PNG, the grey value of an
 * 8-bit (or lower) grayscale PNG. Anything else is an error naming `source` and the colour type.
 */
export function decodeLabelPng(bytes: Uint8Array, source = '<buffer>'): LabelMap {
  const chunks = readChunks(bytes, source);
  const ihdr = chunks[0].data;
  const depth = ihdr[8];
  const colorType = ihdr[9];
  if (colorType !== 0 && colorType !== 3) {
    throw new ImageDecodeError(`${source}: a label PNG must be palette or grayscale, got ${COLOR_TYPE_NAMES[colorType] ?? `colour type ${colorType}`}`
      + ' (colour masks must be converted to class ids first)');
  }
  if (depth > 8) throw new ImageDecodeError(`${source}: ${depth}-bit label PNGs are not supported (expected 8 bits or fewer)`);
  let png = bytes;
  if (colorType === 3) {
    // Identity palette: entry i = (i, i, i); tRNS removed so every index stays opaque.
    const ramp = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) ramp.fill(i, i * 3, i * 3 + 3);
    png = writeChunks(chunks.filter((c) => c.type !== 'tRNS').map((c) => (c.type === 'PLTE' ? { type: 'PLTE', data: ramp } : c)));
  }
  let rgba: Buffer;
  let width: number;
  let height: number;
  try {
    checkPngSize(png, source);
    ({ data: rgba, width, height } = pngjs.PNG.sync.read(asBuffer(png)));
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`${source}: cannot decode label PNG: ${reason(err)}`);
  }
  const data = new Uint8Array(width * height);
  // Grey below 8 bits is rescaled to 0..255 by pngjs; undo it so a 1-bit mask reads 0/1.
  const scale = colorType === 0 && depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  for (let i = 0; i < data.length; i++) data[i] = Math.round(rgba[i * 4] / scale);
  return { width, height, data };
}

export async function readLabelPng(path: string): Promise<LabelMap> {
  return decodeLabelPng(await readFile(path), path);
}

/** The PASCAL VOC colour map (VOCdevkit's labelcolormap): 256 RGB entries, class id bits interleaved. */
export function vocPalette(): Uint8Array {
  const pal = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let [r, g, b, c] = [0, 0, 0, i];
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    pal.set([r, g, b], i * 3);
  }
  return pal;
}

/**
 * Encode a label map as an 8-bit PNG: a palette PNG with `palette` (RGB triples, up to 256; default
 * the VOC colour map), or a grayscale PNG when `palette` is null. Rows are stored unfiltered.
 */
export function encodeLabelPng(label: LabelMap, palette: Uint8Array | null = vocPalette()): Uint8Array {
  const { width, height, data } = label;
  if (data.length !== width * height) throw new Error(`encodeLabelPng: ${data.length} values for a ${height}x${width} map`);
  if (palette && (palette.length % 3 !== 0 || palette.length > 768)) throw new Error(`encodeLabelPng: palette needs RGB triples, at most 256, got ${palette.length} bytes`);
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, palette ? 3 : 0, 0, 0, 0], 8); // depth 8, colour type, deflate, filter 0, no interlace
  const raw = new Uint8Array(height * (width + 1)); // each row: filter byte 0, then the indices
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const chunks: Chunk[] = [{ type: 'IHDR', data: ihdr }];
  if (palette) chunks.push({ type: 'PLTE', data: palette });
  chunks.push({ type: 'IDAT', data: deflateSync(raw) }, { type: 'IEND', data: new Uint8Array(0) });
  return writeChunks(chunks);
}

export async function writeLabelPng(path: string, label: LabelMap, palette: Uint8Array | null = vocPalette()): Promise<void> {
  await writeAtomic(path, encodeLabelPng(label, palette));
}

/** Encode RGB(A) pixels as a baseline JPEG (quality 0..100), for test datasets and reports. */
export function encodeJpeg(img: DecodedImage, quality = 90): Uint8Array {
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4).fill(255);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgba[i * 4 + c] = img.data[i * img.channels + c];
  return jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data;
}

/**
 * Write through a temporary file and rename, so a reader never sees half a file. (files.ts's
 * writeFileAtomic also fsyncs, but importing it would pull the tensor engine into the data loader's
 * worker threads, which only need pixels.)
 */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
