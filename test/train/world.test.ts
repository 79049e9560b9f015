/**
 * The zero-shot shapes world (train/world/): scenes are deterministic by seed, labels / instances /
 * objects agree, captions name every object and the hard negative swaps exactly one shape, the
 * region weights pool each object's patches, and the folder export reads back.
 */
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, readLabelPng, readImage, vocPalette } from '../../engine/io/image.ts';
import { BACKGROUND, DEFAULT_SPLIT, WORLD_CLASS_NAMES, WORLD_SHAPES } from '../../train/world/classes.ts';
import { regionWeightsOf, worldBatch } from '../../train/world/batch.ts';
import { worldGrid, writeWorldFolder } from '../../train/world/export.ts';
import { patchLabels } from '../../train/world/probe.ts';
import { drawWorldScenes, WORLD_DEFAULTS, type WorldScene } from '../../train/world/scenes.ts';

const names = (s: WorldScene) => s.objects.map((o) => WORLD_CLASS_NAMES[o.cls]);

t.test('12 classes, split 9 seen / 3 unseen (ring, star, arrow)', (t) => {
  t.equal(WORLD_SHAPES.length, 12);
  t.same(DEFAULT_SPLIT.unseen.map((i) => WORLD_CLASS_NAMES[i]), ['ring', 'star', 'arrow']);
  t.same([...DEFAULT_SPLIT.seen, ...DEFAULT_SPLIT.unseen].sort((a, b) => a - b), WORLD_SHAPES.map((_, i) => i));
  // Every shape covers a sensible part of its frame (none empty, none the whole square).
  for (const s of WORLD_SHAPES) {
    let inside = 0;
    for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) if (s.inside(-1 + (x + 0.5) / 20, -1 + (y + 0.5) / 20)) inside++;
    t.ok(inside > 0.2 * 1600 && inside < 0.8 * 1600, `${s.name} covers ${(inside / 16).toFixed(0)}% of its frame`);
  }
  t.end();
});

t.test('deterministic by seed', (t) => {
  const a = drawWorldScenes(3, 6), b = drawWorldScenes(3, 6), c = drawWorldScenes(4, 6);
  t.same(a.map((s) => Array.from(s.image)), b.map((s) => Array.from(s.image)), 'same seed, same pixels');
  t.same(a.map((s) => Array.from(s.labels)), b.map((s) => Array.from(s.labels)), 'same labels');
  t.same(a.map((s) => s.caption), b.map((s) => s.caption), 'same captions');
  t.notSame(a.map((s) => Array.from(s.labels)), c.map((s) => Array.from(s.labels)), 'another seed, other scenes');
  // Scene i depends only on (seed, i): a longer list starts with the same scenes.
  t.same(drawWorldScenes(3, 8).slice(0, 6).map((s) => s.caption), a.map((s) => s.caption));
  t.end();
});

t.test('labels, instances and objects agree', (t) => {
  const { minObjects, maxObjects, size } = WORLD_DEFAULTS;
  for (const sc of drawWorldScenes(7, 20)) {
    t.ok(sc.objects.length >= minObjects && sc.objects.length <= maxObjects, 'object count in range');
    t.equal(sc.image.length, 3 * size * size);
    t.ok(sc.image.every((v) => v >= 0 && v <= 1), 'pixels in [0, 1]');
    const visible = new Array<number>(sc.objects.length).fill(0);
    let ok = true;
    for (let i = 0; i < sc.labels.length; i++) {
      const k = sc.instances[i];
      if (k === BACKGROUND) { ok &&= sc.labels[i] === BACKGROUND; continue; }
      ok &&= sc.labels[i] === sc.objects[k].cls;
      visible[k]++;
    }
    t.ok(ok, 'label = class of the visible object, 255 on background');
    t.same(visible, sc.objects.map((o) => o.visible), 'visible pixel counts');
    t.ok(sc.objects.every((o) => o.visible > 0), 'every object is visible');
  }
  t.end();
});

t.test('captions name every object; the negative swaps one shape', (t) => {
  for (const sc of drawWorldScenes(11, 30)) {
    for (const n of names(sc)) t.ok(sc.caption.includes(n), `"${sc.caption}" names ${n}`);
    const cw = sc.caption.split(' '), nw = sc.negative.split(' ');
    const diff = cw.map((w, i) => [w, nw[i]]).filter(([a, b]) => a !== b);
    t.ok(cw.length === nw.length && diff.length === 1 && WORLD_CLASS_NAMES.includes(diff[0][1]),
      `negative "${sc.negative}" differs in one shape name`);
  }
  t.end();
});

t.test('single centred objects of a forced class', (t) => {
  const scenes = drawWorldScenes(5, 12, WORLD_DEFAULTS, { objects: 1, centred: true, cls: 10 });
  t.ok(scenes.every((s) => s.objects.length === 1 && s.objects[0].cls === 10), 'one star each');
  t.ok(scenes.every((s) => Math.abs(s.objects[0].cx - 32) <= 2 && Math.abs(s.objects[0].cy - 32) <= 2), 'centred');
  t.end();
});

t.test('region weights pool each object over its patches; patch labels', (t) => {
  const scenes = drawWorldScenes(2, 3);
  const { weights, classes } = regionWeightsOf(scenes, 8);
  const W = weights.toArray(), N = 64;
  const rows = classes.shape[0];
  t.ok(rows >= 3, `${rows} objects pooled`);
  for (let r = 0; r < rows; r++) {
    const row = W.slice(r * 3 * N, (r + 1) * 3 * N);
    t.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${r} sums to 1`);
    const scenesTouched = new Set(row.flatMap((v, i) => (v > 0 ? [Math.floor(i / N)] : [])));
    t.equal(scenesTouched.size, 1, 'an object pools patches of its own scene only');
  }
  const labels = patchLabels(scenes[0], 8);
  t.equal(labels.length, 64);
  t.ok(labels.every((l) => l === BACKGROUND || scenes[0].objects.some((o) => o.cls === l)), 'patch labels are classes of the scene');
  // The per-patch targets of a batch are exactly its non-background patch labels, flattened b·N + n.
  const batch = worldBatch(2, 0, 3, 0, 8, WORLD_DEFAULTS);
  const want = batch.scenes.flatMap((sc, b) => patchLabels(sc, 8).flatMap((l, n) => (l === BACKGROUND ? [] : [[b * N + n, l]])));
  t.same(Array.from(batch.patchIndex.toArray()), want.map(([i]) => i), 'patch indices');
  t.same(Array.from(batch.patchClasses.toArray()), want.map(([, l]) => l), 'patch classes');
  t.ok(want.length > 10, `${want.length} object patches`);
  t.end();
});

t.test('folder export reads back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'world-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const scenes = drawWorldScenes(9, 3);
  await writeWorldFolder(dir, scenes);
  const mask = await readLabelPng(join(dir, 'masks', 'scene_000001.png'));
  t.same(Array.from(mask.data), Array.from(scenes[1].labels), 'mask PNG holds the class ids (255 background)');
  const img = await readImage(join(dir, 'images', 'scene_000001.png'));
  t.equal(img.width, 64);
  t.equal(img.data[0], Math.round(255 * scenes[1].image[0]), 'first pixel, red channel');
  t.same((await readFile(join(dir, 'class_names.txt'), 'utf8')).trim().split('\n'), WORLD_CLASS_NAMES);
  const lines = (await readFile(join(dir, 'captions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((l) => l.caption), scenes.map((s) => s.caption));
  const splits = JSON.parse(await readFile(join(dir, 'splits.json'), 'utf8'));
  t.same(splits.unseen, ['ring', 'star', 'arrow']);
});

t.test('worldGrid: image, ground truth and (with predictions) the prediction on the scored pixels', (t) => {
  const scenes = drawWorldScenes(5, 2, WORLD_DEFAULTS);
  const S = WORLD_DEFAULTS.size;
  const preds = scenes.map(() => new Uint8Array(S * S).fill(3)); // "cross" everywhere
  const img = decodeImage(worldGrid(scenes, 2, 1, preds));
  t.same([img.width, img.height], [2 * (S + 4) + 4, 3 * S + 8 + 4], '2 columns of 3 tiles');
  t.same([decodeImage(worldGrid(scenes, 2, 1)).height], [2 * S + 8 + 4], 'without predictions, 2 tiles');
  const palette = vocPalette();
  const at = (x: number, y: number) => [0, 1, 2].map((c) => img.data[(y * img.width + x) * img.channels + c]);
  const sc = scenes[0];
  const object = sc.labels.findIndex((v) => v !== 255), background = sc.labels.indexOf(255);
  const [ox, oy] = [object % S, Math.floor(object / S)], [bx, by] = [background % S, Math.floor(background / S)];
  t.same(at(4 + ox, 4 + S + oy), [...palette.slice((sc.labels[object] + 1) * 3, (sc.labels[object] + 2) * 3)], 'ground truth in its VOC colour');
  t.same(at(4 + ox, 4 + 2 * S + oy), [...palette.slice(4 * 3, 5 * 3)], 'the prediction (class 3 = VOC colour 4) on an object pixel');
  t.same(at(4 + bx, 4 + 2 * S + by), [0, 0, 0], 'background stays black in the prediction tile');
  t.end();
});
