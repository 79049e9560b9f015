/**
 * The common shape of a segmentation dataset, and the reading every reader shares.
 *
 * Does: the `SegDataset` interface (length, class names, seen / unseen ids, `get(i)`), `readSample`
 *   (decode an RGB image and its label PNG, check that their sizes agree, apply reduce_zero_label) and
 *   `reduceZeroLabel` (mmseg's LoadAnnotations(reduce_zero_label=True): 0 -> 255, k -> k - 1, 255 stays).
 * Does not: augment (augment.ts) or batch (loader.ts). Errors name the file that is missing or corrupt,
 *   and are `BadSampleError`s so the loader can skip or fail on them as the user chose.
 * Glossary: H, W image height and width.
 */
import { readImage, readLabelPng, toRgb } from '../../engine/io/image.ts';

/** One decoded sample. */
export interface SegSample {
  /** RGB pixels, row-major [H, W, 3]. */
  image: Uint8Array;
  /** Class index per pixel [H, W]; 255 = ignore. */
  label: Uint8Array;
  height: number;
  width: number;
  /** The sample's id (file name without extension). */
  name: string;
  /** The image file. */
  path: string;
}

/** What a worker thread needs to reopen the same dataset: JSON data only. */
export type DatasetSpec =
  | ({ kind: 'voc' } & import('./voc.ts').VOCOptions)
  | ({ kind: 'coco-stuff' } & import('./coco-stuff.ts').COCOStuffOptions)
  | ({ kind: 'folder' } & import('./folder.ts').FolderOptions);

/** A segmentation dataset: class names, the seen / unseen split, and samples by index, decoded on demand. */
export interface SegDataset {
  readonly length: number;
  /** Class names by train id (0-based; 255 is never a class). */
  readonly classNames: readonly string[];
  /** Train ids seen in training (the complement of `unseenIds`). */
  readonly seenIds: readonly number[];
  /** Train ids held out for zero-shot evaluation (method.md §4.3). */
  readonly unseenIds: readonly number[];
  /** How to reopen this dataset elsewhere (in a loader's worker thread). */
  readonly spec: DatasetSpec;
  /** The image and mask paths of sample i, without reading them. */
  paths(i: number): { image: string; label: string; name: string };
  get(i: number): Promise<SegSample>;
}

/** A dataset that cannot be opened (a missing or malformed list, class-names or splits file): names the file. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/**
 * A sample that cannot be read: names the file.
 *
 * @example
 * if (err instanceof BadSampleError) console.error(err.file, err.message);
 */
export class BadSampleError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'BadSampleError';
  }
}

/**
 * mmseg reduce_zero_label, in place: background 0 -> 255 (ignored), k -> k - 1, 255 stays 255.
 *
 * @example
 * reduceZeroLabel(new Uint8Array([0, 1, 2]));   // [255, 0, 1]
 */
export function reduceZeroLabel(label: Uint8Array): Uint8Array {
  for (let i = 0; i < label.length; i++) {
    const v = label[i];
    label[i] = v === 0 || v === 255 ? 255 : v - 1;
  }
  return label;
}

/** The seen ids: every id in 0..numClasses-1 that is not unseen. */
export function complementIds(numClasses: number, unseen: readonly number[]): number[] {
  const set = new Set(unseen);
  return Array.from({ length: numClasses }, (_, i) => i).filter((i) => !set.has(i));
}

/** Decode `imagePath` and `labelPath` into a sample; any failure is a BadSampleError naming the file. */
export async function readSample(imagePath: string, labelPath: string, name: string, reduceZero: boolean): Promise<SegSample> {
  const image = await readOrBad(imagePath, async () => toRgb(await readImage(imagePath)));
  const label = await readOrBad(labelPath, () => readLabelPng(labelPath));
  if (label.width !== image.width || label.height !== image.height) {
    throw new BadSampleError(labelPath, `${labelPath}: mask is ${label.height}x${label.width} but image ${imagePath} is ${image.height}x${image.width}`);
  }
  return {
    image: image.data instanceof Uint8Array ? image.data : new Uint8Array(image.data),
    label: reduceZero ? reduceZeroLabel(label.data) : label.data,
    height: image.height, width: image.width, name, path: imagePath,
  };
}

async function readOrBad<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new BadSampleError(file, `${file}: file not found`);
    const msg = e.message.startsWith(file) ? e.message : `${file}: ${e.message}`;
    throw new BadSampleError(file, msg);
  }
}

/** The non-empty lines of a list file, trimmed (ImageSets lists, class-name files). */
export function listLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}
