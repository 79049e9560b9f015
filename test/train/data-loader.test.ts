/**
 * train/data/loader.ts: the same batches with 0, 1 and 2 worker threads, exact resume from a data
 * position, a corrupt JPEG reported by name in 'fail' and 'skip' modes, and no hanging process when a
 * loader with workers is never closed.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegLoader, VOCDataset, type LoaderOptions, type SegBatch } from '../../train/index.ts';
import type { DataStream } from '../../train/loop.ts';
import { tempDir, writeVOC } from './data-fixtures.ts';

const root = tempDir('loader');
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const voc = writeVOC(join(root, 'VOC2012'));
const dataset = new VOCDataset({ root: voc.root, split: 'trainaug' }); // 3 samples
const OPTS: LoaderOptions = { batchSize: 2, seed: 11, augment: { imgScale: [32, 24], cropSize: [16, 16] } };

interface Plain { images: number[]; labels: number[]; names: string[]; positions: string[] }
const plain = (b: SegBatch): Plain => ({
  images: Array.from(b.images.data()), labels: Array.from(b.labels.data()), names: b.names,
  positions: b.positions.map((p) => `${p.epoch}:${p.index}`),
});

async function take(loader: SegLoader, n: number): Promise<Plain[]> {
  const out: Plain[] = [];
  for (let i = 0; i < n; i++) out.push(plain(await loader.next()));
  return out;
}

t.test('batches: shapes, dtypes, epochs', async (t) => {
  const loader = new SegLoader(dataset, OPTS);
  const b = await loader.next();
  t.same([b.images.shape, b.images.dtype, b.labels.shape, b.labels.dtype], [[2, 3, 16, 16], 'float32', [2, 16, 16], 'int32']);
  t.ok(Array.from(b.labels.data()).every((v) => v === 255 || (v >= 0 && v < 20)), 'labels are train ids or 255');
  const rest = await take(loader, 2);
  t.same(rest.map((r) => r.positions), [['0:2', '1:0'], ['1:1', '1:2']], 'a batch may span two epochs');
  const epoch0 = [...b.names, rest[0].names[0]].sort();
  t.same(epoch0, ['2007_000001', '2007_000002', '2008_000004'], 'an epoch visits every sample once');
  t.same(loader.position, { epoch: 2, index: 0 });
  t.same((await loader.close()).batches, 3);
  const stream: DataStream<SegBatch> = loader; // what the training loop consumes
  t.ok(stream);
});

t.test('test mode: keep-ratio resize (short side 512), labels at the original size, in order', async (t) => {
  const loader = new SegLoader(new VOCDataset({ root: voc.root, split: 'val' }), { batchSize: 1, mode: 'test', shuffle: false });
  const b = await loader.next();
  t.same([b.images.shape, b.labels.shape, b.names], [[1, 3, 512, 683], [1, 24, 32], ['2007_000003']]);
  t.same(Array.from(b.labels.data()), Array.from(voc.raw['2007_000003'], (v) => (v === 0 || v === 255 ? 255 : v - 1)));
  await loader.close();
  t.throws(() => new SegLoader(dataset, { batchSize: 2, mode: 'test' }), /batchSize must be 1/);
});

t.test('the same batches with 0 and 2 worker threads (1 worker: see the resume test)', async (t) => {
  const runs: Plain[][] = [];
  for (const workers of [0, 2]) {
    const loader = new SegLoader(dataset, { ...OPTS, workers, prefetch: workers + 1 });
    runs.push(await take(loader, 4));
    await loader.close();
  }
  t.same(runs[1], runs[0], '2 workers = main thread');
  const other = new SegLoader(dataset, { ...OPTS, seed: 12 });
  t.notSame(await take(other, 1), runs[0].slice(0, 1), 'another seed, other batches');
  await other.close();
});

t.test('resume from a saved data position gives exactly the same batches', async (t) => {
  const full = new SegLoader(dataset, OPTS);
  const want = await take(full, 5);
  await full.close();
  const first = new SegLoader(dataset, { ...OPTS, workers: 1 });
  t.same(await take(first, 2), want.slice(0, 2), '1 worker: the same batches as the main thread');
  const state = JSON.parse(JSON.stringify(first.stateDict()));
  t.same(state, { epoch: 1, index: 1, seed: 11 });
  await take(first, 1); // run on past the checkpoint, then "crash"
  await first.close();
  const resumed = new SegLoader(dataset, OPTS); // another worker count than `first`, too
  resumed.loadStateDict(state);
  t.same(await take(resumed, 3), want.slice(2), 'batches 3-5');
  resumed.loadStateDict({ epoch: 0, index: 0, seed: 11 });
  t.same(await take(resumed, 1), want.slice(0, 1), 'rewinding the same loader drops what it fetched ahead');
  await resumed.close();
  t.throws(() => resumed.loadStateDict({ epoch: 0, index: 3 }), /index < 3/);
  t.throws(() => new SegLoader(dataset, OPTS).loadStateDict({ epoch: 0, index: 0, seed: 1 }), /saved with seed 1/);
});

t.test('a corrupt JPEG is named: fail mode throws, skip mode counts and reports', async (t) => {
  const dir = join(root, 'bad');
  writeVOC(dir);
  const bad = join(dir, 'JPEGImages', '2007_000002.jpg');
  writeFileSync(bad, Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]));
  const ds = new VOCDataset({ root: dir, split: 'trainaug' });
  for (const workers of [0, 1]) {
    const failing = new SegLoader(ds, { ...OPTS, shuffle: false, workers });
    await t.rejects(failing.next(), { message: new RegExp(`^${bad}: cannot decode jpeg image.*epoch 0, index 1; use onBadSample 'skip'`) }, `fail, ${workers} workers`);
    await failing.close();
    const skipping = new SegLoader(ds, { ...OPTS, shuffle: false, workers, onBadSample: 'skip' });
    const batches = await take(skipping, 2);
    t.same(batches.map((b) => b.names), [['2007_000001', '2008_000004'], ['2007_000001', '2008_000004']], `skip, ${workers} workers: batches stay full`);
    const report = await skipping.close();
    t.same(report.skipped.map((s) => [s.file, s.position]), [[bad, { epoch: 0, index: 1 }], [bad, { epoch: 1, index: 1 }]]);
    t.match(report.skipped[0].message, bad);
    t.same([report.batches, report.samples], [2, 4]);
  }
  const longer = new SegLoader(ds, { ...OPTS, onBadSample: 'skip' });
  await take(longer, 6); // 6 epochs with one bad sample in each: never "every sample is bad"
  const skipped = (await longer.close()).skipped;
  t.ok(skipped.length >= 5 && skipped.every((k) => k.file === bad), `${skipped.length} skips over 6 epochs, all of ${bad}`);
  t.same(new Set(skipped.map((k) => k.position.epoch)).size, skipped.length, 'one per epoch');
  for (const n of ['2007_000001', '2008_000004']) writeFileSync(join(dir, 'JPEGImages', `${n}.jpg`), 'not an image');
  const allBad = new SegLoader(ds, { ...OPTS, onBadSample: 'skip' });
  await t.rejects(allBad.next(), /every sample is bad \(3 in a row/);
  await allBad.close();
});

t.test('an unclosed loader with workers does not keep the process alive', (t) => {
  const script = `
    import { SegLoader, VOCDataset } from './train/index.ts';
    const loader = new SegLoader(new VOCDataset({ root: ${JSON.stringify(voc.root)} }), { batchSize: 1, workers: 1, augment: { imgScale: [32, 24], cropSize: [16, 16] } });
    const b = await loader.next();
    console.log('batch', b.images.shape.join('x'));`;
  const file = join(root, 'unclosed.mts');
  writeFileSync(file, script.replace('./train/index.ts', join(process.cwd(), 'train/index.ts')));
  const run = spawnSync(process.execPath, ['--import=tsx', file], { encoding: 'utf8', timeout: 60_000 });
  t.equal(run.signal, null, 'exited by itself (not killed by the 60 s guard)');
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, 'batch 1x3x16x16');
  t.end();
});
