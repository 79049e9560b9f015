/**
 * Chapter 8 example: seen / unseen label maps, the zero-shot metrics on a worked example, then a
 * tiny SPT-SEG trained a few steps (paused and resumed) and evaluated zero-shot through the CLI's
 * `train` and `eval` commands. Run: `npx tsx examples/08-train-eval.ts`.
 *
 * Does: print `labelMap` (train/segmentation.ts) for the inductive and transductive settings of
 * VOC's split; compute IoU, mIoU(S), mIoU(U) and hIoU with `ConfusionMatrix` (train/metrics.ts) on
 * 8 hand-made pixels; write a 4-image VOC layout with generated pictures into a temp folder, a
 * randomly initialised tiny SPT-SEG and random class embeddings; run `spt-seg train` 4 steps,
 * stopping after 2 and resuming (the loop of train/loop.ts, the checkpoint of train/checkpoint.ts),
 * and `spt-seg eval` on the validation image; print the loss per step and the metric lines.
 * Does not: learn anything useful (4 steps, random CLIP weights and text embeddings: the metrics
 * only show the pipeline runs), use real CLIP weights, or the world of `npm start` (coming).
 *
 * Glossary: K dataset classes (20 for VOC), S / U seen / unseen classes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, randn, setBackend } from '../engine/index.ts';
import { saveSafetensors } from '../engine/io/files.ts';
import { encodeJpeg, encodeLabelPng } from '../engine/io/image.ts';
import { saveTextEmbeddings, SptSeg, VOC_CLASSES, type SptSegConfig } from '../model/index.ts';
import { ConfusionMatrix, VOC_UNSEEN_IDS } from '../train/index.ts';
import { labelMap } from '../train/segmentation.ts';
import { main } from '../cli/spt-seg.ts';

setBackend('cpu');

// 1. Label maps: VOC's 20 classes, 15..19 unseen. Which class index does each train id train as?
const unseenIds: readonly number[] = VOC_UNSEEN_IDS;
const K = VOC_CLASSES.length, seenIds = [...Array(K).keys()].filter((c) => !unseenIds.includes(c));
for (const setting of ['inductive', 'transductive'] as const) {
  const map = labelMap(K, seenIds, setting);
  console.log(`${setting}: train id 0 -> ${map[0]}, 14 -> ${map[14]}, 15 (unseen) -> ${map[15]}, 19 (unseen) -> ${map[19]}, 255 -> ${map[255]}`);
}

// 2. The metrics on 8 pixels, 4 classes, class 3 unseen. IoU_c = TP / (label area + pred area − TP).
const label = [0, 0, 1, 1, 2, 2, 3, 3];
const pred = [0, 0, 1, 2, 2, 2, 3, 0];
const m = new ConfusionMatrix(4).update(pred, label).compute({ seen: [0, 1, 2], unseen: [3] });
console.log(`worked example IoU per class: ${Array.from(m.iou, (v) => v.toFixed(4)).join(' ')}`);
console.log(`worked example mIoU(S) ${m.mIoUSeen.toFixed(4)} mIoU(U) ${m.mIoUUnseen.toFixed(4)} hIoU ${m.hIoU.toFixed(4)}`);

// 3. A tiny VOC layout: 32x40 pictures of two coloured shapes, palette masks with the class ids.
const dir = mkdtempSync(join(tmpdir(), 'spt-seg-08-'));
const voc = join(dir, 'VOC2012');
for (const d of ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']) mkdirSync(join(voc, d), { recursive: true });
const H = 32, W = 40;
const scenes: [string, number, number][] = [['2007_000001', 8, 15], ['2007_000002', 12, 3], ['2007_000003', 15, 8], ['2007_000004', 1, 17]];
scenes.forEach(([name, a, b], s) => {
  const px = new Uint8Array(H * W * 3), lab = new Uint8Array(H * W); // VOC ids: 0 background, class + 1
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const inA = Math.hypot(y - 12, x - 12 - 4 * s) < 8, inB = !inA && y > 20 && x > 22;
    lab[y * W + x] = inA ? a + 1 : inB ? b + 1 : 0;
    px.set(inA ? [220, 60 + 30 * s, 40] : inB ? [40, 90, 200] : [120 + 3 * y, 140, 110 + 2 * x], (y * W + x) * 3);
  }
  writeFileSync(join(voc, 'JPEGImages', `${name}.jpg`), encodeJpeg({ width: W, height: H, channels: 3, data: px }, 95));
  writeFileSync(join(voc, 'SegmentationClass', `${name}.png`), encodeLabelPng({ width: W, height: H, data: lab }));
});
writeFileSync(join(voc, 'ImageSets/Segmentation/train.txt'), '2007_000001\n2007_000002\n2007_000004\n');
writeFileSync(join(voc, 'ImageSets/Segmentation/val.txt'), '2007_000003\n');

// A tiny SPT-SEG (ViT of width 64, 2 blocks, 4x4 patch grid) and random class embeddings [K, 16].
const TINY: SptSegConfig = {
  encoder: { vision: { imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 1, outputDim: 16 }, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
  decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32 },
};
manualSeed(0);
const init = join(dir, 'init.safetensors'), emb = join(dir, 'voc-text.safetensors'), run = join(dir, 'run');
await saveSafetensors(init, new SptSeg(TINY).stateDict());
await saveTextEmbeddings(emb, randn([K, 16]).div(4), VOC_CLASSES);

/** Run one CLI command, keeping its printed lines; a failure stops the example with its messages. */
async function cli(argv: string[]): Promise<string[]> {
  const out: string[] = [], err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  if (code !== 0) throw new Error(`spt-seg ${argv[0]} exited with ${code}:\n${err.join('\n')}`);
  return [...out, ...err];
}
/** The per-step records of a run folder's log.jsonl. */
function readLog(folder: string): { step: number; loss: { total: number; focal: number; '1-ssim': number } }[] {
  return readFileSync(join(folder, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ReturnType<typeof readLog>[number]);
}
const dataset = (split: string) => JSON.stringify({ kind: 'voc', root: voc, split });
const train = ['train', '--init', init, '--out', run, '--device', 'cpu', '--steps', '4', '--set', `dataset=${dataset('train')}`,
  '--set', `model.textEmbeddings=${JSON.stringify(emb)}`, '--set', 'train.crop=32', '--set', 'train.batchSize=2',
  '--set', 'train.workers=0', '--set', 'train.warmupIters=1', '--set', 'train.checkpointEvery=2'];
try {
  const first = await cli([...train, '--stop-at', '2']);
  console.log(first.find((l) => /images, \d+ classes/.test(l))?.trim() ?? '(no dataset line)');
  console.log(first.find((l) => /paused at step/.test(l))?.trim() ?? '(not paused)');
  await cli([...train, '--resume']);
  const log = readLog(run);
  for (const r of log) console.log(`step ${r.step}: loss ${r.loss.total.toFixed(4)} = 100 * focal ${r.loss.focal.toFixed(5)} + (1 - ssim) ${r.loss['1-ssim'].toFixed(4)}`);
  // The same 4 steps without the pause: a resumed run repeats an uninterrupted one bit for bit.
  await cli(train.map((a) => (a === run ? join(dir, 'straight') : a)));
  const same = readLog(join(dir, 'straight')).every((r, i) => r.loss.total === log[i].loss.total);
  console.log(`paused + resumed run equals an uninterrupted one, bit for bit: ${same ? 'yes' : 'no'}`);

  const evalOut = await cli(['eval', '--weights', join(run, 'weights.safetensors'), '--text-embeddings', emb, '--device', 'cpu',
    '--set', `valDataset=${dataset('val')}`]);
  for (const l of evalOut) if (/^(mIoU\(S\)|mIoU\(U\)|hIoU|pAcc) /.test(l)) console.log(`eval: ${l}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
