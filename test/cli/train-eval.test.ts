// `spt-seg train` and `spt-seg eval` end to end on a tiny VOC-layout dataset written by the test:
// JPEG images, palette PNG masks, ImageSets lists; a tiny SPT-SEG; a corrupt image reported by name.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, randn } from '../../engine/index.ts';
import { saveSafetensors } from '../../engine/io/files.ts';
import { SptSeg, VOC_CLASSES, saveTextEmbeddings, type SptSegConfig } from '../../model/index.ts';
import { main } from '../../cli/spt-seg.ts';
import { parseSafetensors } from '../../engine/io/safetensors.ts';
import { readCard } from '../../model/model-card.ts';
import { loadCheckpoint, child } from '../../train/checkpoint.ts';
import { tempDir, writeVOC } from '../train/data-fixtures.ts';

const TINY: SptSegConfig = {
  encoder: {
    vision: { imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 1, outputDim: 16 },
    numTokens: 2, deepLayers: 1, spectralGrid: [4, 4],
  },
  decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32 },
};

function capture() {
  const out: string[] = [], err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function setup(): Promise<{ dir: string; init: string; emb: string; voc: string }> {
  const dir = tempDir('train-eval');
  const voc = writeVOC(join(dir, 'VOC2012'), [32, 40]).root;
  manualSeed(0);
  const init = join(dir, 'init.safetensors');
  await saveSafetensors(init, new SptSeg(TINY).stateDict());
  const emb = join(dir, 'voc-text.safetensors');
  await saveTextEmbeddings(emb, randn([VOC_CLASSES.length, 16]).div(4), VOC_CLASSES);
  return { dir, init, emb, voc };
}

t.test('train, resume and eval through the CLI on a tiny VOC layout', async (t) => {
  const { dir, init, emb, voc } = await setup();
  const out = join(dir, 'run');
  const common = [
    '--init', init, '--out', out, '--set', `dataset=${JSON.stringify({ kind: 'voc', root: voc, split: 'train' })}`,
    '--set', `model.textEmbeddings="${emb}"`, '--set', 'train.crop=32', '--set', 'train.batchSize=2', '--set', 'train.workers=0',
    '--set', 'train.warmupIters=2', '--set', 'train.checkpointEvery=2', '--device', 'cpu',
  ];
  const a = capture();
  t.equal(await main(['train', ...common, '--steps', '5', '--stop-at', '3'], a.io), 0, a.err.join('\n'));
  t.match(a.out.join('\n'), /paused at step 3 of 5/);
  t.match(a.err.join('\n'), /train: 2 images, 20 classes \(5 unseen, inductive\)/);
  for (const f of ['checkpoint.safetensors', 'log.jsonl', 'loss.png', 'config.json']) t.ok(existsSync(join(out, f)), f);
  const log3 = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss: { total: number; focal: number; '1-ssim': number } });
  t.equal(log3.length, 3);
  t.ok(log3.every((r) => Number.isFinite(r.loss.total) && Number.isFinite(r.loss.focal) && Number.isFinite(r.loss['1-ssim'])), 'every term logged');

  // Resume to 5 steps; a fresh run to 5 steps must log the same losses.
  const b = capture();
  t.equal(await main(['train', ...common, '--steps', '5', '--resume'], b.io), 0, b.err.join('\n'));
  const resumed = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: { total: number } }).loss.total);
  const fresh = join(dir, 'fresh');
  const c = capture();
  t.equal(await main(['train', ...common.map((x) => (x === out ? fresh : x)), '--steps', '5'], c.io), 0, c.err.join('\n'));
  const straight = readFileSync(join(fresh, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: { total: number } }).loss.total);
  t.equal(resumed.length, 5);
  t.same(resumed.slice(3), straight.slice(3), 'the resumed steps 4-5 equal those of an uninterrupted 5-step run');
  t.equal(child(await loadCheckpoint(join(out, 'checkpoint.safetensors')), 'step'), 5);
  t.ok(existsSync(join(out, 'weights.safetensors')), 'the finished run wrote its weights');
  const card = readCard(parseSafetensors(readFileSync(join(out, 'weights.safetensors')), 'weights').metadata, 'weights');
  t.same(card?.classes?.unseen, [15, 16, 17, 18, 19], 'with its model card: the dataset\'s split');
  t.same([card?.inference.offset, card?.input.normalization.mean], [0.1, [123.675, 116.28, 103.53]], 'the inductive offset, ImageNet\'s normalisation');

  const e = capture();
  const samples = join(dir, 'samples');
  t.equal(await main(['eval', '--weights', join(out, 'weights.safetensors'), '--text-embeddings', emb, '--device', 'cpu',
    '--set', `valDataset=${JSON.stringify({ kind: 'voc', root: voc, split: 'val' })}`, '--samples', samples], e.io), 0, e.err.join('\n'));
  const text = e.out.join('\n');
  t.match(text, /^mIoU\(S\) (\d+\.\d|nan)$/m);
  t.match(text, /^mIoU\(U\) (\d+\.\d|nan)$/m);
  t.match(text, /^hIoU (\d+\.\d|nan)$/m);
  t.match(text, /pottedplant.*unseen/);
  for (const f of ['image', 'truth', 'pred']) t.ok(existsSync(join(samples, `2007_000003.${f}.png`)), `sample ${f}`);

  const j = capture();
  t.equal(await main(['eval', '--weights', join(out, 'weights.safetensors'), '--text-embeddings', emb, '--device', 'cpu', '--json',
    '--set', `valDataset=${JSON.stringify({ kind: 'voc', root: voc, split: 'val' })}`], j.io), 0);
  const parsed = JSON.parse(j.out.join('')) as { images: number; classes: { name: string; seen: boolean }[] };
  t.equal(parsed.images, 1);
  t.equal(parsed.classes.filter((c) => !c.seen).length, 5);
});

t.test('a corrupt image is reported by name: skipped and counted, or failing the run', async (t) => {
  const { dir, init, emb, voc } = await setup();
  writeFileSync(join(voc, 'JPEGImages', '2007_000002.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02]));
  const args = (out: string, mode: string) => [
    'train', '--init', init, '--out', join(dir, out), '--steps', '2', '--device', 'cpu',
    '--set', `dataset=${JSON.stringify({ kind: 'voc', root: voc, split: 'train' })}`, '--set', `model.textEmbeddings="${emb}"`,
    '--set', 'train.crop=32', '--set', 'train.batchSize=1', '--set', 'train.workers=0', '--set', `train.onBadSample="${mode}"`,
  ];
  const skip = capture();
  t.equal(await main(args('skip', 'skip'), skip.io), 0, skip.err.join('\n'));
  t.match(skip.err.join('\n'), /skipped \d+ bad sample\(s\):\n.*2007_000002\.jpg/);
  const fail = capture();
  t.equal(await main(args('fail', 'fail'), fail.io), 1);
  t.match(fail.err.join('\n'), /2007_000002\.jpg/);
});

t.test('train and eval refuse bad input clearly', async (t) => {
  const e1 = capture();
  t.equal(await main(['train', '--steps', '2'], e1.io), 1);
  t.match(e1.err.join('\n'), /no dataset/);
  const e2 = capture();
  t.equal(await main(['train', '--set', 'train.stepz=2'], e2.io), 1);
  t.match(e2.err.join('\n'), /unknown key "train\.stepz"/);
  const e3 = capture();
  t.equal(await main(['eval', '--data', '/nonexistent'], e3.io), 2);
  t.match(e3.err.join('\n'), /eval needs --weights/);
});
