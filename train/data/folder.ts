/**
 * A generic images + masks folder with a class-names file, for your own data.
 *
 * Layout (all names configurable): <root>/images/<id>.<jpg|jpeg|png>, <root>/masks/<id>.png (palette
 *   or grayscale PNGs holding train ids, 255 = ignore), <root>/classes.txt or class_names.txt (one class
 *   name per line, line i = train id i), optionally <root>/<split>.txt (one id per line) to pick a
 *   subset, and optionally <root>/splits.json with "unseen_ids" (what `spt-seg data shapes` writes).
 *   Without a list, every image that has a mask of the same id is a sample, sorted by id.
 * Options: reduceZeroLabel (mmseg semantics) when id 0 is a background to ignore; unseenIds for a
 *   zero-shot split (default: splits.json's unseen_ids if the file exists, else none).
 * Does not: guess class names from the masks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { complementIds, DatasetError, listLines, readSample, type DatasetSpec, type SegDataset, type SegSample } from './dataset.ts';

/** Where a folder dataset lies and how its subfolders and files are named. */
export interface FolderOptions {
  root: string;
  /** Image subfolder; default 'images'. */
  imageDir?: string;
  /** Mask subfolder; default 'masks'. */
  maskDir?: string;
  /** Class-names file; default 'classes.txt', else 'class_names.txt'. */
  classesFile?: string;
  /** A list file (relative to root) of ids; default: all images with a mask. */
  list?: string;
  reduceZeroLabel?: boolean;
  unseenIds?: number[];
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];

/**
 * Any dataset laid out as `images/`, `masks/` and a class-names file (see FolderOptions for the names).
 *
 * @example
 * const ds = new FolderDataset({ root: 'data/my-set', unseenIds: [3] });
 * const sample = await ds.get(0);
 */
export class FolderDataset implements SegDataset {
  readonly classNames: readonly string[];
  readonly unseenIds: readonly number[];
  readonly seenIds: readonly number[];
  readonly spec: DatasetSpec;
  private readonly items: { name: string; image: string }[];

  constructor(readonly options: FolderOptions) {
    const { root } = options;
    const candidates = options.classesFile ? [options.classesFile] : ['classes.txt', 'class_names.txt'];
    const classesFile = candidates.map((f) => join(root, f)).find((f) => existsSync(f));
    if (!classesFile) throw new DatasetError(`folder dataset: class-names file ${candidates.map((f) => join(root, f)).join(' or ')} not found (one name per line)`);
    this.classNames = listLines(readFileSync(classesFile, 'utf8'));
    if (this.classNames.length === 0 || this.classNames.length > 255) {
      throw new DatasetError(`folder dataset: ${classesFile} lists ${this.classNames.length} classes (expected 1..255)`);
    }
    const imageDir = join(root, options.imageDir ?? 'images');
    const maskDir = join(root, options.maskDir ?? 'masks');
    if (!existsSync(imageDir)) throw new DatasetError(`folder dataset: image folder ${imageDir} not found`);
    const images = new Map<string, string>();
    for (const f of readdirSync(imageDir)) {
      const ext = extname(f);
      if (IMAGE_EXTENSIONS.includes(ext.toLowerCase())) images.set(f.slice(0, -ext.length), join(imageDir, f));
    }
    let names: string[];
    if (options.list) {
      const file = join(root, options.list);
      if (!existsSync(file)) throw new DatasetError(`folder dataset: list file ${file} not found`);
      names = listLines(readFileSync(file, 'utf8'));
      // A listed id without an image is kept: reading it reports the missing file by name.
      this.items = names.map((name) => ({ name, image: images.get(name) ?? join(imageDir, `${name}.jpg`) }));
    } else {
      names = [...images.keys()].filter((n) => existsSync(join(maskDir, `${n}.png`))).sort();
      this.items = names.map((name) => ({ name, image: images.get(name) as string }));
    }
    const splitsFile = join(root, 'splits.json');
    const unseen = options.unseenIds ?? splitsFileUnseen(splitsFile);
    const bad = unseen.find((i) => !(Number.isInteger(i) && i >= 0 && i < this.classNames.length));
    if (bad !== undefined) {
      const from = options.unseenIds ? 'the unseenIds option' : splitsFile;
      throw new DatasetError(`folder dataset: unseen id ${bad} (from ${from}) is not a class id of ${classesFile} in [0, ${this.classNames.length})`);
    }
    this.unseenIds = unseen;
    this.seenIds = complementIds(this.classNames.length, unseen);
    this.spec = { kind: 'folder', ...options };
  }

  get length(): number { return this.items.length; }

  paths(i: number): { image: string; label: string; name: string } {
    const item = this.items[i];
    if (!item) throw new RangeError(`folder dataset: index ${i} out of range [0, ${this.length})`);
    return { image: item.image, label: join(this.options.root, this.options.maskDir ?? 'masks', `${item.name}.png`), name: item.name };
  }

  get(i: number): Promise<SegSample> {
    const p = this.paths(i);
    return readSample(p.image, p.label, p.name, this.options.reduceZeroLabel ?? false);
  }
}

/** "unseen_ids" of a splits.json, or [] when there is no such file. */
function splitsFileUnseen(file: string): number[] {
  if (!existsSync(file)) return [];
  let ids: unknown;
  try {
    ids = (JSON.parse(readFileSync(file, 'utf8')) as { unseen_ids?: unknown }).unseen_ids;
  } catch (err) {
    throw new DatasetError(`folder dataset: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (ids === undefined) return [];
  if (!Array.isArray(ids) || !ids.every((i) => Number.isInteger(i))) throw new DatasetError(`folder dataset: ${file}: "unseen_ids" must be a list of integers`);
  return ids as number[];
}
