/**
 * COCO-Stuff 164K, 171 classes (ZegCLIP's ZeroCOCOStuffDataset; method.md §4.3).
 *
 * Layout (mmseg's coco_stuff164k, after tools/convert_datasets/coco_stuff164k.py):
 *   images/<split>/<id>.jpg and annotations/<split>/<id>_labelTrainIds.png (grayscale: train ids
 *   0..170, 255 = ignore). The sample list is the image folder, sorted (mmseg scans the folder), or
 *   a list file of ids when given.
 * Labels are read as they are (no reduce_zero_label). Unseen ids: the 15 of method.md §4.3.
 * Does not: convert the raw COCO-Stuff labels (ids 0..181 with gaps) to train ids.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { complementIds, DatasetError, listLines, readSample, type DatasetSpec, type SegDataset, type SegSample } from './dataset.ts';

/** ZeroCOCOStuffDataset.CLASSES (= mmseg COCOStuffDataset.CLASSES): 80 things then 91 stuff. */
export const COCO_STUFF_CLASSES = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
  'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush', 'banner', 'blanket', 'branch', 'bridge', 'building-other',
  'bush', 'cabinet', 'cage', 'cardboard', 'carpet', 'ceiling-other', 'ceiling-tile', 'cloth', 'clothes',
  'clouds', 'counter', 'cupboard', 'curtain', 'desk-stuff', 'dirt', 'door-stuff', 'fence', 'floor-marble',
  'floor-other', 'floor-stone', 'floor-tile', 'floor-wood', 'flower', 'fog', 'food-other', 'fruit',
  'furniture-other', 'grass', 'gravel', 'ground-other', 'hill', 'house', 'leaves', 'light', 'mat', 'metal',
  'mirror-stuff', 'moss', 'mountain', 'mud', 'napkin', 'net', 'paper', 'pavement', 'pillow', 'plant-other',
  'plastic', 'platform', 'playingfield', 'railing', 'railroad', 'river', 'road', 'rock', 'roof', 'rug',
  'salad', 'sand', 'sea', 'shelf', 'sky-other', 'skyscraper', 'snow', 'solid-other', 'stairs', 'stone',
  'straw', 'structural-other', 'table', 'tent', 'textile-other', 'towel', 'tree', 'vegetable', 'wall-brick',
  'wall-concrete', 'wall-other', 'wall-panel', 'wall-stone', 'wall-tile', 'wall-wood', 'water-other',
  'waterdrops', 'window-blind', 'window-other', 'wood',
] as const;

/** cow, giraffe, suitcase, frisbee, skateboard, carrot, scissors, cardboard, clouds, grass, playingfield, river, road, tree, wall-concrete. */
export const COCO_STUFF_UNSEEN_IDS = [19, 23, 28, 29, 36, 51, 76, 88, 94, 112, 133, 136, 137, 157, 160] as const;

/** Where COCO-Stuff 164k lies and which split to read. */
export interface COCOStuffOptions {
  /** The coco_stuff164k folder (holding images/ and annotations/). */
  root: string;
  /** 'train2017' | 'val2017' (any subfolder name). Default 'train2017'. */
  split?: string;
  /** A file of ids (one per line, relative to root) instead of scanning the image folder. */
  list?: string;
  /** Mask file suffix; default '_labelTrainIds.png'. */
  labelSuffix?: string;
  unseenIds?: number[];
}

/**
 * COCO-Stuff 164k for segmentation (mmseg's `coco_stuff164k` layout, `_labelTrainIds.png` masks): 171 classes, 255 ignored.
 *
 * @example
 * const coco = new COCOStuffDataset({ root: 'data/coco_stuff164k', split: 'val2017' });
 * coco.length;
 */
export class COCOStuffDataset implements SegDataset {
  /** Same name and contents as the reference's ZeroCOCOStuffDataset.CLASSES. */
  static readonly CLASSES = COCO_STUFF_CLASSES;
  readonly classNames: readonly string[] = COCO_STUFF_CLASSES;
  readonly unseenIds: readonly number[];
  readonly seenIds: readonly number[];
  readonly spec: DatasetSpec;
  private readonly names: string[];
  private readonly imageDir: string;
  private readonly labelDir: string;

  constructor(readonly options: COCOStuffOptions) {
    const split = options.split ?? 'train2017';
    this.imageDir = join(options.root, 'images', split);
    this.labelDir = join(options.root, 'annotations', split);
    if (options.list) {
      const file = join(options.root, options.list);
      if (!existsSync(file)) throw new DatasetError(`COCO-Stuff: list file ${file} not found`);
      this.names = listLines(readFileSync(file, 'utf8'));
    } else {
      if (!existsSync(this.imageDir)) throw new DatasetError(`COCO-Stuff: image folder ${this.imageDir} not found (is ${options.root} the coco_stuff164k folder?)`);
      this.names = readdirSync(this.imageDir).filter((f) => f.endsWith('.jpg')).map((f) => f.slice(0, -4)).sort();
    }
    this.unseenIds = options.unseenIds ?? [...COCO_STUFF_UNSEEN_IDS];
    this.seenIds = complementIds(COCO_STUFF_CLASSES.length, this.unseenIds);
    this.spec = { kind: 'coco-stuff', ...options };
  }

  get length(): number { return this.names.length; }

  paths(i: number): { image: string; label: string; name: string } {
    const name = this.names[i];
    if (name === undefined) throw new RangeError(`COCO-Stuff: index ${i} out of range [0, ${this.length})`);
    return { image: join(this.imageDir, `${name}.jpg`), label: join(this.labelDir, `${name}${this.options.labelSuffix ?? '_labelTrainIds.png'}`), name };
  }

  get(i: number): Promise<SegSample> {
    const p = this.paths(i);
    return readSample(p.image, p.label, p.name, false);
  }
}

/** The reference's name for the class (ZegCLIP's dataset class), for readers of the official code. */
export const ZeroCOCOStuffDataset = COCOStuffDataset;
