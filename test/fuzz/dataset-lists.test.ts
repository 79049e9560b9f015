// Fuzz the dataset list files and class-name files (train/data): a folder dataset's classes.txt,
// list file and splits.json, and VOC's ImageSets lists, mutated byte-wise (bit flips, cuts, NUL and
// control bytes, CRLF, huge lines) and semantically (ids that are not classes, wrong JSON types).
// Opening the dataset and building every sample's paths must either work or fail as a DatasetError
// whose message names the file's folder; the samples' own decoding is fuzzed by image.test.ts.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError } from '../../train/data/dataset.ts';
import { FolderDataset } from '../../train/data/folder.ts';
import { VOCDataset } from '../../train/data/voc.ts';
import { caseCount, fuzz } from './harness.ts';
import { INTERESTING_JSON, Rng, mutateBytes, mutateJson } from './mutate.ts';

const base = mkdtempSync(join(tmpdir(), 'spt-fuzz-lists-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const enc = new TextEncoder();

const CLASSES = 'circle\nsquare\ntriangle\nring\r\nstar\n';
const LIST = 'a\nb\n\n  c  \n';
const SPLITS = { seen_ids: [0, 1, 2], unseen_ids: [3, 4] };

interface ListInput { classes: Uint8Array; list: Uint8Array; splits: Uint8Array }

function mutateText(text: string, rng: Rng): Uint8Array {
  let bytes: Uint8Array = enc.encode(text);
  for (let k = 1 + rng.int(3); k > 0; k--) bytes = mutateBytes(bytes, rng);
  if (rng.chance(0.05)) bytes = enc.encode('x'.repeat(1 + rng.int(200_000))); // one huge line
  return bytes;
}

function generate(rng: Rng): ListInput {
  const splits = rng.chance(0.5)
    ? enc.encode(JSON.stringify(mutateJson(SPLITS, rng)))
    : rng.chance(0.5) ? enc.encode(JSON.stringify({ unseen_ids: [rng.pick(INTERESTING_JSON)] })) : mutateText(JSON.stringify(SPLITS), rng);
  return {
    classes: rng.chance(0.7) ? mutateText(CLASSES, rng) : enc.encode(CLASSES),
    list: rng.chance(0.7) ? mutateText(LIST, rng) : enc.encode(LIST),
    splits,
  };
}

function folderCase(input: ListInput, source: string): unknown {
  const root = join(base, source);
  mkdirSync(join(root, 'images'), { recursive: true });
  writeFileSync(join(root, 'classes.txt'), input.classes);
  writeFileSync(join(root, 'list.txt'), input.list);
  writeFileSync(join(root, 'splits.json'), input.splits);
  try {
    const ds = new FolderDataset({ root, list: 'list.txt' });
    for (let i = 0; i < ds.length; i++) ds.paths(i);
    return ds.length;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function vocCase(input: ListInput, source: string): unknown {
  const root = join(base, source);
  mkdirSync(join(root, 'ImageSets', 'Segmentation'), { recursive: true });
  writeFileSync(join(root, 'ImageSets', 'Segmentation', 'train.txt'), input.list);
  try {
    const ds = new VOCDataset({ root, split: 'train' });
    for (let i = 0; i < ds.length; i++) ds.paths(i);
    return ds.length;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

t.test('folder datasets: mutated classes.txt, list and splits.json fail as DatasetError naming the folder', async (t) => {
  const stats = fuzz<ListInput>(t, { name: 'folder-lists', generate, parse: folderCase, errors: [DatasetError] }, 11, caseCount(10000));
  t.ok(stats.accepted > 0 && stats.rejected.size > 0, 'both outcomes happen');
});

t.test('VOC ImageSets lists: mutated lists open or fail as DatasetError naming the folder', async (t) => {
  const stats = fuzz<ListInput>(t, { name: 'voc-lists', generate, parse: vocCase, errors: [DatasetError] }, 12, caseCount(10000));
  t.ok(stats.accepted > 0, 'mutated lists still open');
});
