/**
 * PASCAL VOC 2012, 20 classes without background (ZegCLIP's ZeroPascalVOCDataset20; method.md §4.3).
 *
 * Layout (`root` = VOCdevkit/VOC2012):
 *   JPEGImages/<id>.jpg, SegmentationClass/<id>.png (palette PNGs: index = class, 255 = border),
 *   SegmentationClassAug/<id>.png (grayscale, the 10,582-image "aug" set), ImageSets/Segmentation/<list>.txt.
 * Splits: 'train' and 'val' (SegmentationClass), 'trainaug' = train.txt with SegmentationClass +
 *   aug.txt with SegmentationClassAug (the ZegCLIP config's two ann_dirs), or explicit { list, annDir } parts.
 * Labels: reduce_zero_label, so background 0 -> 255 (ignored), aeroplane..tvmonitor 1..20 -> 0..19.
 * Seen ids 0-14, unseen 15-19 (pottedplant, sheep, sofa, train, tvmonitor).
 * Does not: read the XML detection annotations or SegmentationObject.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VOC_CLASSES, VOC_UNSEEN_IDS } from '../../model/segmenter.ts';
import { complementIds, DatasetError, listLines, readSample, type DatasetSpec, type SegDataset, type SegSample } from './dataset.ts';

/** The 20 class names in train-id order and the unseen ids of the zero-shot split (model/segmenter.ts). */
export { VOC_CLASSES, VOC_UNSEEN_IDS };

/** One list file and the folder its masks are in, both relative to `root`. */
export interface VOCSplitPart { list: string; annDir: string }

/** Where PASCAL VOC 2012 lies and which split to read. */
export interface VOCOptions {
  /** The VOC2012 folder (holding JPEGImages, SegmentationClass, ImageSets). */
  root: string;
  /** 'train' | 'val' | 'trainaug', or explicit parts. Default 'train'. */
  split?: 'train' | 'val' | 'trainaug' | VOCSplitPart[];
  /** Unseen train ids; default VOC_UNSEEN_IDS. */
  unseenIds?: number[];
}

const PRESETS: Record<'train' | 'val' | 'trainaug', VOCSplitPart[]> = {
  train: [{ list: 'ImageSets/Segmentation/train.txt', annDir: 'SegmentationClass' }],
  val: [{ list: 'ImageSets/Segmentation/val.txt', annDir: 'SegmentationClass' }],
  trainaug: [
    { list: 'ImageSets/Segmentation/train.txt', annDir: 'SegmentationClass' },
    { list: 'ImageSets/Segmentation/aug.txt', annDir: 'SegmentationClassAug' },
  ],
};

/**
 * PASCAL VOC 2012 for segmentation (mmseg's layout and lists): background dropped, so train ids 0-19 are the
 * 20 classes and 255 is ignored.
 *
 * @example
 * const voc = new VOCDataset({ root: 'data/VOCdevkit/VOC2012', split: 'val' });
 * const { image, label } = await voc.get(0);
 */
export class VOCDataset implements SegDataset {
  readonly classNames: readonly string[] = VOC_CLASSES;
  readonly unseenIds: readonly number[];
  readonly seenIds: readonly number[];
  readonly spec: DatasetSpec;
  private readonly items: { name: string; annDir: string }[] = [];

  constructor(readonly options: VOCOptions) {
    const { root } = options;
    const split = options.split ?? 'train';
    const parts = typeof split === 'string' ? PRESETS[split] : split;
    if (!parts) throw new DatasetError(`VOC: unknown split ${JSON.stringify(split)} (expected train, val, trainaug or parts)`);
    for (const { list, annDir } of parts) {
      const file = join(root, list);
      if (!existsSync(file)) throw new DatasetError(`VOC: list file ${file} not found (is ${root} the VOC2012 folder?)`);
      for (const name of listLines(readFileSync(file, 'utf8'))) this.items.push({ name, annDir });
    }
    this.unseenIds = options.unseenIds ?? [...VOC_UNSEEN_IDS];
    this.seenIds = complementIds(VOC_CLASSES.length, this.unseenIds);
    this.spec = { kind: 'voc', ...options };
  }

  get length(): number { return this.items.length; }

  paths(i: number): { image: string; label: string; name: string } {
    const item = this.items[i];
    if (!item) throw new RangeError(`VOC: index ${i} out of range [0, ${this.length})`);
    return { image: join(this.options.root, 'JPEGImages', `${item.name}.jpg`), label: join(this.options.root, item.annDir, `${item.name}.png`), name: item.name };
  }

  get(i: number): Promise<SegSample> {
    const p = this.paths(i);
    return readSample(p.image, p.label, p.name, true);
  }
}
