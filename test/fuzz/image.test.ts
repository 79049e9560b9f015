// Fuzz the PNG and JPEG decoders (decodeImage) and the label-PNG reader (decodeLabelPng): byte
// mutations, PNG chunks edited with their CRC fixed (so the decoder sees them: IHDR width / height /
// depth / colour type / interlace set to interesting values, IDAT and PLTE data corrupted, chunks
// dropped or repeated), JPEG segment lengths and markers edited, random bytes. Every failure must be
// an ImageDecodeError naming the file; every decoded image must have width·height·channels bytes.
import t from 'tap';
import { crc32 } from 'node:zlib';
import {
  ImageDecodeError, decodeImage, decodeLabelPng, encodeJpeg, encodeLabelPng, encodePng, type DecodedImage,
} from '../../engine/io/image.ts';
import { caseCount, fuzz } from './harness.ts';
import { INTERESTING, Rng, copy, mutateBytes, splice, writeInt } from './mutate.ts';

const rgb: DecodedImage = { width: 5, height: 3, channels: 3, data: Uint8Array.from({ length: 45 }, (_, i) => (i * 37) % 256) };
const label = { width: 4, height: 4, data: Uint8Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 255 : i % 5)) };
const pngs = [encodePng(rgb), encodeLabelPng(label), encodeLabelPng(label, null)].map(copy);
const jpegs = [encodeJpeg(rgb, 80), encodeJpeg({ ...rgb, width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(128) }, 50)].map(copy);

/** PNG chunks as [offset, length, type]. */
function chunks(png: Uint8Array): [number, number, string][] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: [number, number, string][] = [];
  for (let at = 8; at + 12 <= png.length;) {
    const length = view.getUint32(at);
    if (at + 12 + length > png.length) break;
    out.push([at, length, String.fromCharCode(...png.subarray(at + 4, at + 8))]);
    at += 12 + length;
  }
  return out;
}

/** A chunk's data edited, and its CRC recomputed so the decoder reads past it. */
function editPngChunk(png: Uint8Array, rng: Rng): Uint8Array {
  const list = chunks(png);
  if (list.length === 0) return mutateBytes(png, rng);
  const [at, length, type] = rng.pick(list);
  let out = copy(png);
  const edit = rng.int(4);
  if (edit === 0 && type === 'IHDR') { // width, height (u32), then depth, colour type, compression, filter, interlace (u8)
    const field = rng.pick([[0, 4], [4, 4], [8, 1], [9, 1], [10, 1], [11, 1], [12, 1]]);
    writeInt(out, at + 8 + field[0], field[1], rng.chance(0.7) ? rng.pick(INTERESTING) : BigInt(rng.int(20)), false);
  } else if (edit <= 1 && length > 0) {
    out[at + 8 + rng.int(length)] ^= 1 << rng.int(8);
  } else if (edit === 2) { // drop or repeat a chunk
    out = rng.chance(0.5) ? splice(png, at, 12 + length, new Uint8Array(0)) : splice(png, at, 0, png.subarray(at, at + 12 + length));
    return out;
  } else {
    writeInt(out, at, 4, rng.pick(INTERESTING), false); // lying chunk length: no CRC to fix
    return out;
  }
  new DataView(out.buffer).setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)));
  return out;
}

/** A JPEG segment length or marker edited. */
function editJpegSegment(jpg: Uint8Array, rng: Rng): Uint8Array {
  const markers: number[] = [];
  for (let i = 2; i + 4 < jpg.length; i++) if (jpg[i] === 0xff && jpg[i + 1] >= 0xc0 && jpg[i + 1] !== 0xff) markers.push(i);
  const out = copy(jpg);
  const at = rng.pick(markers);
  if (rng.chance(0.5)) writeInt(out, at + 2, 2, rng.chance(0.7) ? rng.pick(INTERESTING) : BigInt(rng.int(64)), false);
  else if (rng.chance(0.5)) out[at + 1] = rng.pick([0xc0, 0xc2, 0xc4, 0xda, 0xdb, 0xdd, 0xd9, 0xe0, 0xfe, 0xcc]);
  else writeInt(out, at + 5 + rng.int(4), 2, rng.pick(INTERESTING), false); // e.g. SOF height / width
  return out;
}

interface ImageInput { bytes: Uint8Array; label: boolean }

function generate(rng: Rng): ImageInput {
  const png = rng.chance(0.6);
  const seed = png ? rng.pick(pngs) : rng.pick(jpegs);
  const mode = rng.int(5);
  let bytes: Uint8Array;
  if (mode <= 1) bytes = mutateBytes(seed, rng);
  else if (mode <= 3) bytes = png ? editPngChunk(editPngChunk(seed, rng), rng) : editJpegSegment(seed, rng);
  else bytes = Uint8Array.of(...(png ? seed.subarray(0, 8) : [0xff, 0xd8, 0xff]), ...rng.bytes(rng.int(128)));
  return { bytes, label: png && rng.chance(0.4) };
}

function check(result: unknown): string | undefined {
  const img = result as { width: number; height: number; channels?: number; data: Uint8Array };
  const expected = img.width * img.height * (img.channels ?? 1);
  return img.data.length === expected ? undefined : `${img.width}x${img.height} image with ${img.data.length} bytes`;
}

t.test('PNG / JPEG / label PNG: malformed images fail as ImageDecodeError naming the file', async (t) => {
  const stats = fuzz<ImageInput>(t, {
    name: 'image', generate, check, errors: [ImageDecodeError],
    parse: ({ bytes, label: asLabel }, source) => (asLabel ? decodeLabelPng(bytes, source) : decodeImage(bytes, source)),
  }, 5, caseCount(10000));
  t.ok(stats.accepted > 0, 'some mutations still decode');
});

t.test('a PNG header asking for 2^32 x 2^32 pixels is refused before decoding', async (t) => {
  const png = copy(pngs[0]);
  writeInt(png, 16, 4, 0xffffffffn, false);
  writeInt(png, 20, 4, 0xffffffffn, false);
  new DataView(png.buffer).setUint32(29, crc32(png.subarray(12, 29)));
  t.throws(() => decodeImage(png, 'huge.png'), { name: 'ImageDecodeError', message: /huge\.png: PNG of \d+ pixels, more than the limit/ });
  t.throws(() => decodeLabelPng(copy(encodeLabelPng(label)).fill(0xff, 16, 24), 'huge-label.png'), { name: 'ImageDecodeError', message: /huge-label\.png: PNG of/ });
});

t.test('the size checks spare real images that compress extremely well', async (t) => {
  const flat = { width: 1024, height: 768, channels: 3, data: new Uint8Array(1024 * 768 * 3).fill(200) };
  for (const [kind, bytes] of [['jpeg', encodeJpeg(flat, 10)], ['png', encodePng(flat)]] as const) {
    const img = decodeImage(bytes, `flat.${kind}`);
    t.same([img.width, img.height], [1024, 768], `a flat 1024x768 ${kind} of ${bytes.length} bytes decodes`);
  }
  const blank = { width: 2000, height: 2000, data: new Uint8Array(2000 * 2000) };
  t.equal(decodeLabelPng(encodeLabelPng(blank), 'blank.png').data.length, 2000 * 2000, 'an all-zero 2000x2000 label PNG decodes');
});
