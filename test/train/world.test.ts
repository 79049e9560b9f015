/**
 * The zero-shot shapes world (train/world/): scenes are deterministic by seed, labels / instances /
 * objects agree, captions name every object and the hard negative swaps exactly one shape, the
 * region weights pool each object's patches, caption mentions are read from the words, the folder
 * export reads back, and scoring by logits breaks no tie toward a class id.
 */
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, readLabelPng, readImage } from '../../engine/io/image.ts';
import { classColour } from '../../model/palette.ts';
import { BACKGROUND, DEFAULT_SPLIT, WORLD_CLASS_NAMES, WORLD_SHAPES } from '../../train/world/classes.ts';
import { captionMentions, mentionsOf, regionWeightsOf, worldBatch } from '../../train/world/batch.ts';
import { argmaxWithOffset } from '../../train/world/segment.ts';
import { GRID_ROWS, sceneRgb, worldGrid, worldGridLayout, writeWorldFolder } from '../../train/world/export.ts';
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
  // With every class "seen" (a test split), the per-patch targets of a batch are exactly its
  // non-background patch labels, flattened b·N + n.
  const all = { seen: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], unseen: [] };
  const batch = worldBatch(2, 0, 3, 0, 8, WORLD_DEFAULTS, all);
  const want = batch.scenes.flatMap((sc, b) => patchLabels(sc, 8).flatMap((l, n) => (l === BACKGROUND ? [] : [[b * N + n, l]])));
  t.same(Array.from(batch.dense!.patchIndex.toArray()), want.map(([i]) => i), 'patch indices');
  t.same(Array.from(batch.dense!.patchClasses.toArray()), want.map(([, l]) => l), 'patch classes');
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

t.test('worldGrid: image, ground truth and (with predictions) the prediction on the scored pixels, labelled, with a legend', (t) => {
  const scenes = drawWorldScenes(5, 2, WORLD_DEFAULTS);
  const S = WORLD_DEFAULTS.size;
  const preds = scenes.map(() => new Uint8Array(S * S).fill(3)); // "cross" everywhere
  const legend = { classNames: WORLD_CLASS_NAMES, unseenIds: DEFAULT_SPLIT.unseen };
  const img = decodeImage(worldGrid(scenes, 2, 1, preds));
  const L = worldGridLayout(2, 2, S, 1, 3, legend);
  t.same([img.width, img.height], [L.width, L.height]);
  t.ok(L.labelW > 0 && L.legendTop >= 3 * S + 8, 'a label column on the left, the legend below the pictures');
  t.same([decodeImage(worldGrid(scenes, 2, 1)).height], [worldGridLayout(2, 2, S, 1, 2, legend).height], 'without predictions, 2 tiles');
  const at = (x: number, y: number) => [0, 1, 2].map((c) => img.data[(y * img.width + x) * img.channels + c]);
  const sc = scenes[0];
  const object = sc.labels.findIndex((v) => v !== 255), background = sc.labels.indexOf(255);
  const [ox, oy] = [object % S, Math.floor(object / S)], [bx, by] = [background % S, Math.floor(background / S)];
  const tile = (k: number, tl: number, x: number, y: number) => { const [tx, ty] = L.tile(k, tl); return at(tx + x, ty + y); };
  t.same(tile(0, 0, ox, oy), [...sceneRgb(sc).slice(object * 3, object * 3 + 3)], 'the image tile');
  t.same(tile(0, 1, ox, oy), [...classColour(sc.labels[object])], 'ground truth in its class colour (model/palette.ts)');
  t.same(tile(0, 2, ox, oy), [...classColour(3)], 'the prediction (class 3) in its class colour');
  t.same(tile(0, 2, bx, by), [0, 0, 0], 'background stays black in the prediction tile');
  // Row labels: ink in the label column beside each tile row; the legend: each class colour's swatch.
  for (let tl = 0; tl < 3; tl++) {
    const [, ty] = L.tile(0, tl);
    let ink = 0;
    for (let y = ty; y < ty + S; y++) for (let x = 0; x < L.labelW; x++) if (at(x, y)[0] === 40) ink++;
    t.ok(ink > 20, `row ${tl} (${GRID_ROWS[tl]}) is labelled`);
  }
  t.equal(L.items.length, 13, 'a legend item per class, and background');
  t.match(L.items.map((i) => i.text).join(','), /ring\*,star\*,arrow\*,background$/, 'unseen classes starred');
  for (const [c, it] of L.items.slice(0, 12).entries()) {
    t.same(at(it.x + Math.floor(L.lineH / 2), L.legendTop + it.row * L.legendRowH + Math.floor(L.lineH / 2)), [...classColour(c)], `swatch of ${WORLD_CLASS_NAMES[c]}`);
  }
  t.end();
});

t.test('scoring by the logits: saturated probabilities do not tie, the offset acts on probabilities', (t) => {
  // One pixel, three classes. Logits 18 and 20 both give float32 sigmoid exactly 1.0; the larger logit must win.
  const seen = new Set([0, 1]);
  t.equal(Math.fround(1 / (1 + Math.exp(-18))), 1, 'float32 sigmoid saturates at 18 (the hazard)');
  t.same([...argmaxWithOffset(Float32Array.from([18, 20, -3]), 1, 3, 1, seen, 0, 'logits')], [1], 'offset 0 = argmax of the logits');
  t.same([...argmaxWithOffset(Float32Array.from([40, 50, -3]), 1, 3, 1, seen, 0, 'logits')], [1], 'ties of float64 sigmoid go to the larger logit');
  // The offset is subtracted from the probabilities of the seen classes only.
  t.same([...argmaxWithOffset(Float32Array.from([2, -5, 1.2]), 1, 3, 1, seen, 0.1, 'logits')], [0], 'σ(2) − 0.1 = 0.781 beats σ(1.2) = 0.769');
  t.same([...argmaxWithOffset(Float32Array.from([2, -5, 1.2]), 1, 3, 1, seen, 0.2, 'logits')], [2], 'σ(2) − 0.2 = 0.681 loses to the unseen σ(1.2)');
  // Cosine scores are compared as they are (no sigmoid).
  t.same([...argmaxWithOffset(Float32Array.from([0.5, 0.3, 0.45]), 1, 3, 1, seen, 0.02, 'scores')], [0]);
  t.same([...argmaxWithOffset(Float32Array.from([0.5, 0.3, 0.45]), 1, 3, 1, seen, 0.1, 'scores')], [2]);
  // Layout [B, K, pixels]: two scenes, two pixels.
  const two = Float32Array.from([/* b0 c0 */ 1, -1, /* b0 c1 */ 0, 2, /* b0 c2 */ -9, -9, /* b1 c0 */ -9, -9, /* b1 c1 */ -9, -9, /* b1 c2 */ 3, 3]);
  t.same([...argmaxWithOffset(two, 2, 3, 2, seen, 0, 'logits')], [0, 1, 2, 2]);
  t.end();
});

t.test('caption mentions: the shape names of a caption, read from its words alone', (t) => {
  t.same(captionMentions('a L-shape below a large orange heart and a large circle'), [8, 5, 0]);
  t.same(captionMentions('a photo of a star'), [10]);
  t.same(captionMentions('a ring left of a ring'), [9], 'a name mentioned twice is one mention');
  const m = mentionsOf(['a photo of a star', 'a ring left of a square']);
  t.same([...m.scene.toArray()], [0, 1, 1]);
  t.same([...m.cls.toArray()], [10, 9, 1]);
  const others = m.others.toArray();
  t.equal(others[1 * 12 + 1], -1e4, 'the caption\'s other name (square) is not a negative of ring');
  t.equal(others[2 * 12 + 9], -1e4, 'nor ring of square');
  t.equal(others[0 * 12 + 9], 0, 'ring is a negative of the star-only caption');
  // Over a batch, the mentions are exactly the shapes each caption names (every object is named).
  const batch = worldBatch(3, 0, 16, 0.4, 8, WORLD_DEFAULTS);
  batch.scenes.forEach((s, b) => t.same(captionMentions(s.caption), [...new Set(s.objects.map((o) => o.cls))], `scene ${b}`));
  t.end();
});
