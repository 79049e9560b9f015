/**
 * Image files <-> pixels for the command line: a re-export of engine/io/image.ts, where decoding and
 * encoding now live (datasets in train/data use them too).
 */
export {
  sniffImageFormat, decodeImage, readImage, encodePng, writePng, decodeLabelPng, readLabelPng,
  encodeLabelPng, writeLabelPng, vocPalette, encodeJpeg, toRgb,
  type ImageFormat, type DecodedImage, type LabelMap,
} from '../engine/io/image.ts';
