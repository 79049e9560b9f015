/**
 * train/data readers: a tiny VOC layout (JPEG, palette and grayscale masks, ImageSets lists), a
 * COCO-Stuff layout and a generic folder, written by the test and read back: label mapping
 * (reduce_zero_label, 255), the built-in seen / unseen splits, the class names, and named errors.
 */
import t from 'tap';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COCOStuffDataset, COCO_STUFF_CLASSES, FolderDataset, VOCDataset, VOC_CLASSES, openDataset, reduceZeroLabel, BadSampleError,
} from '../../train/index.ts';
import { gradient, tempDir, writeCOCOStuff, writeFolder, writeVOC } from './data-fixtures.ts';

const root = tempDir('readers');
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const voc = writeVOC(join(root, 'VOC2012'));
const coco = writeCOCOStuff(join(root, 'coco_stuff164k'));
const folder = writeFolder(join(root, 'mine'));

const reduced = (raw: Uint8Array) => Array.from(raw, (v) => (v === 0 || v === 255 ? 255 : v - 1));

t.test('reduceZeroLabel: 0 -> 255, k -> k-1, 255 stays', (t) => {
  t.same(Array.from(reduceZeroLabel(Uint8Array.from([0, 1, 2, 20, 255]))), [255, 0, 1, 19, 255]);
  t.end();
});

t.test('VOC: splits, reduce_zero_label, image pixels, seen/unseen', async (t) => {
  const train = new VOCDataset({ root: voc.root, split: 'train' });
  t.equal(train.length, 2);
  t.same(train.classNames, VOC_CLASSES);
  t.equal(train.classNames.length, 20);
  t.same(train.unseenIds, [15, 16, 17, 18, 19]);
  t.same(train.seenIds, Array.from({ length: 15 }, (_, i) => i));
  t.same(train.unseenIds.map((i) => train.classNames[i]), ['pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor']);
  const s = await train.get(0);
  t.same([s.name, s.height, s.width], ['2007_000001', 24, 32]);
  t.equal(s.path, join(voc.root, 'JPEGImages', '2007_000001.jpg'));
  t.same(Array.from(s.label), reduced(voc.raw['2007_000001']), 'palette mask: background 255, aeroplane 0, tvmonitor 19');
  t.same([s.label[0], s.label[32], s.label[32 + 15], s.label[32 + 31]], [255, 255, 0, 19]);
  const want = gradient(24, 32, 0);
  const err = s.image.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
  t.ok(err <= 8, `JPEG pixels within ${err} <= 8 levels of the written gradient`);
  t.equal((await new VOCDataset({ root: voc.root, split: 'val' }).get(0)).name, '2007_000003');
  const aug = new VOCDataset({ root: voc.root, split: 'trainaug' });
  t.equal(aug.length, 3);
  const a = await aug.get(2);
  t.equal(a.name, '2008_000004');
  t.same(Array.from(a.label), reduced(voc.raw['2008_000004']), 'grayscale SegmentationClassAug mask');
  t.equal(aug.paths(2).label, join(voc.root, 'SegmentationClassAug', '2008_000004.png'));
  t.throws(() => new VOCDataset({ root: join(root, 'nowhere') }), /list file .*train\.txt not found/);
  t.throws(() => train.paths(5), /index 5 out of range \[0, 2\)/);
});

t.test('COCO-Stuff: 171 classes, ids as stored, the unseen split of method.md §4.3', async (t) => {
  t.equal(COCO_STUFF_CLASSES.length, 171);
  t.equal(COCOStuffDataset.CLASSES, COCO_STUFF_CLASSES);
  t.equal(new Set(COCO_STUFF_CLASSES).size, 171, 'names are distinct');
  const ds = new COCOStuffDataset({ root: coco.root });
  t.equal(ds.length, 2);
  t.same(ds.unseenIds.map((i) => ds.classNames[i]), ['cow', 'giraffe', 'suitcase', 'frisbee', 'skateboard', 'carrot', 'scissors',
    'cardboard', 'clouds', 'grass', 'playingfield', 'river', 'road', 'tree', 'wall-concrete']);
  t.equal(ds.seenIds.length, 156);
  t.same([ds.classNames[0], ds.classNames[79], ds.classNames[80], ds.classNames[170]], ['person', 'toothbrush', 'banner', 'wood']);
  const s = await ds.get(0);
  t.equal(s.name, '000000000009');
  t.same(Array.from(s.label), Array.from(coco.raw['000000000009']), 'label ids 0, 19, 170 and 255 unchanged');
  t.equal(ds.paths(1).label, join(coco.root, 'annotations/train2017/000000000025_labelTrainIds.png'));
});

t.test('folder: classes file, scanning, list, reduceZeroLabel, unseen ids', async (t) => {
  const all = new FolderDataset({ root: folder.root });
  t.same(all.classNames, ['sky', 'road', 'tree']);
  t.equal(all.length, 3, 'the image without a mask is left out');
  t.same([0, 1, 2].map((i) => all.paths(i).name), ['a', 'b', 'c']);
  const a = await all.get(0);
  t.same(Array.from(a.image), Array.from(gradient(10, 9, 1)), 'PNG image exact');
  t.same(Array.from(a.label), Array.from(folder.raw.a));
  const val = new FolderDataset({ root: folder.root, list: 'val.txt', reduceZeroLabel: true, unseenIds: [2] });
  t.same([val.length, val.paths(0).name, val.seenIds, val.unseenIds], [2, 'c', [0, 1], [2]]);
  t.same(Array.from((await val.get(0)).label), reduced(folder.raw.c));
  t.throws(() => new FolderDataset({ root: folder.root, unseenIds: [3] }), /unseen id 3 \(from the unseenIds option\) is not a class id of .*classes\.txt in \[0, 3\)/);
  t.throws(() => new FolderDataset({ root: join(root, 'none') }), /classes\.txt or .*class_names\.txt not found/);
  // The layout `spt-seg data shapes` writes: class_names.txt and splits.json's unseen_ids.
  renameSync(join(folder.root, 'classes.txt'), join(folder.root, 'class_names.txt'));
  writeFileSync(join(folder.root, 'splits.json'), JSON.stringify({ unseen_ids: [1] }));
  const world = new FolderDataset({ root: folder.root });
  t.same([world.classNames, world.unseenIds, world.seenIds], [['sky', 'road', 'tree'], [1], [0, 2]]);
  renameSync(join(folder.root, 'class_names.txt'), join(folder.root, 'classes.txt'));
  rmSync(join(folder.root, 'splits.json'));
});

t.test('openDataset rebuilds a dataset from its spec (what a worker does)', async (t) => {
  const ds = openDataset(JSON.parse(JSON.stringify(new VOCDataset({ root: voc.root, split: 'trainaug' }).spec)));
  t.equal(ds.length, 3);
  t.equal((await ds.get(1)).name, '2007_000002');
  t.equal(openDataset(new COCOStuffDataset({ root: coco.root }).spec).length, 2);
  t.equal(openDataset(new FolderDataset({ root: folder.root }).spec).length, 3);
});

t.test('missing, corrupt and mismatched files are BadSampleErrors naming the file', async (t) => {
  const dir = join(root, 'bad');
  writeVOC(dir);
  const ds = new VOCDataset({ root: dir, split: 'trainaug' });
  rmSync(join(dir, 'SegmentationClass', '2007_000002.png'));
  writeFileSync(join(dir, 'JPEGImages', '2007_000001.jpg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
  writeVOC(join(root, 'small'), [8, 8]);
  const img = join(dir, 'JPEGImages', '2007_000001.jpg');
  t.ok(await ds.get(0).catch((e: unknown) => e instanceof BadSampleError), 'a BadSampleError');
  await t.rejects(ds.get(0), { file: img, message: new RegExp(`^${img}: cannot decode jpeg image`) });
  const mask = join(dir, 'SegmentationClass', '2007_000002.png');
  await t.rejects(ds.get(1), { file: mask, message: `${mask}: file not found` });
  writeFileSync(join(dir, 'SegmentationClassAug', '2008_000004.png'), readFileSync(join(root, 'small', 'SegmentationClassAug', '2008_000004.png')));
  await t.rejects(ds.get(2), { message: /mask is 8x8 but image .*2008_000004\.jpg is 24x32/ });
});
