// The command line's rough edges, each with the clear error that replaced it: a missing file names
// its option (not a raw ENOENT) and, when the package ships a file of that name, points at it; a
// folder given as an image says so (not EISDIR); `--out` into a missing folder fails before the model
// runs (not after, naming a temp file); `train --config` naming no file says what a config is; a text
// file given to `import` is "not a .pt / .pth or safetensors file" (not a 7.5e18-byte header); empty
// class names are refused (not dropped); an I64 value out of range names the file as well as the tensor.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../../cli/spt-seg.ts';
import { packagedAsset } from '../../cli/assets.ts';
import { inputFile, outputFile, PathError } from '../../cli/paths.ts';
import { normalize, randn } from '../../engine/index.ts';
import { saveSafetensors } from '../../engine/io/files.ts';
import { writePng } from '../../engine/io/image.ts';
import { serializeSafetensors } from '../../engine/io/safetensors.ts';
import { SptSeg } from '../../model/segmenter.ts';
import { officialStateDict } from '../../model/spt-interop.ts';

const dir = mkdtempSync(join(tmpdir(), 'spt-edges-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const model = new SptSeg({
  encoder: { vision: { imageSize: 32, patchSize: 8, width: 64, layers: 1, heads: 1, outputDim: 16 }, numTokens: 2, deepLayers: 0, spectralGrid: [4, 4] },
  decoder: { embedDim: 16, width: 16, layers: 1, ffn: 32 },
});
const weights = join(dir, 'w.safetensors'), text = join(dir, 'text.safetensors'), image = join(dir, 'img.png');
t.before(async () => {
  writeFileSync(weights, serializeSafetensors(officialStateDict(model)));
  await saveSafetensors(text, new Map([['text_embeddings', normalize(randn([3, 16]), { dim: -1 })]]), { classes: JSON.stringify(['circle', 'ring', 'star']) });
  await writePng(image, { width: 40, height: 32, channels: 3, data: new Uint8Array(40 * 32 * 3).fill(90) });
});
const segment = (...more: string[]) => ['segment', image, '--weights', weights, '--text-embeddings', text, '--classes', 'circle,ring', '--out', join(dir, 'm.png'), ...more];

t.test('a missing file names its option; an asset of that name is pointed at', async (tt) => {
  const nope = join(dir, 'nope.safetensors');
  for (const [argv, pattern] of [
    [['segment', image, '--weights', nope, '--text-embeddings', text, '--classes', 'circle', '--out', join(dir, 'm.png')], /--weights .*nope\.safetensors: no such file/],
    [['info', '--weights', nope], /--weights .*nope\.safetensors: no such file/],
    [['eval', '--weights', nope, '--data', dir], /--weights .*nope\.safetensors: no such file/],
    [['export', weights, join(dir, 'x.pt'), '--base', nope], /--base .*nope\.safetensors: no such file/],
    [['classify', image, '--weights', nope, '--labels', 'a,b'], /--weights .*nope\.safetensors: no such file/],
    [['train', '--clip', nope, '--out', join(dir, 'run')], /--clip .*nope\.safetensors: no such file/],
  ] as const) {
    const r = await run(...argv);
    tt.equal(r.code, 1, argv[0]);
    tt.match(r.err, pattern, `${argv[0]}: ${r.err}`);
    tt.notMatch(r.err, /ENOENT/);
  }
  const asset = packagedAsset('world-clip.safetensors');
  if (existsSync(asset)) {
    const r = await run(...segment('--clip', 'world-clip.safetensors').filter((a, i, all) => all[i - 1] !== '--text-embeddings' && a !== '--text-embeddings'));
    tt.equal(r.code, 1);
    tt.match(r.err, new RegExp(`--clip world-clip\\.safetensors: no such file; did you mean ${relative(process.cwd(), asset).replace(/\./g, '\\.')}, the one the package ships\\?`));
    tt.notMatch(r.err, /pretrain/, 'no hour of pretraining proposed');
  }
  tt.throws(() => inputFile(join(dir, 'none.pt'), '--clip', 'make one with `npx spt-seg pretrain`'), { name: 'PathError', message: /--clip .*none\.pt: no such file; make one with/ });
});

t.test('a folder given as an image, or as a weights file, says so', async (tt) => {
  const folder = join(dir, 'photos');
  mkdirSync(folder);
  const r = await run('segment', folder, '--weights', weights, '--text-embeddings', text, '--classes', 'circle', '--out', join(dir, 'm.png'));
  tt.equal(r.code, 1);
  tt.match(r.err, /<image> .*photos: a folder, not a file/);
  tt.notMatch(r.err, /EISDIR/);
  const c = await run('classify', folder, '--weights', weights, '--labels', 'a,b');
  tt.match(c.err, /<image> .*photos: a folder, not a file/);
  const w = await run('info', '--weights', folder);
  tt.match(w.err, /--weights .*photos: a folder, not a file/);
});

t.test('--out into a missing folder fails before the model runs', async (tt) => {
  const out = join(dir, 'missing', 'mask.png');
  const r = await run(...segment().map((a) => (a === join(dir, 'm.png') ? out : a)));
  tt.equal(r.code, 1);
  tt.match(r.err, /--out .*missing\/mask\.png: the folder .*missing does not exist \(create it first\)/);
  tt.notMatch(r.err, /\.tmp/, 'no temp file named');
  tt.notMatch(r.err, /^model /m, 'the model never loaded');
  const e = await run('export', weights, join(dir, 'missing', 'x.pt'));
  tt.match(e.err, /<out> .*missing\/x\.pt: the folder .*missing does not exist/);
  const i = await run('import', weights, join(dir, 'missing', 'x.safetensors'));
  tt.match(i.err, /<out\.safetensors> .*missing\/x\.safetensors: the folder .*missing does not exist/);
  tt.throws(() => outputFile(dir, '--out'), PathError, 'a folder is not an output file');
});

t.test('train --config naming no file says what a run config is', async (tt) => {
  const r = await run('train', '--config', join(dir, 'run.json'));
  tt.equal(r.code, 1);
  tt.match(r.err, /--config .*run\.json: no such file; a run config is a JSON object of train\/config\.ts's fields, e\.g\. \{"dataset"/);
  tt.match(r.err, /without --config the defaults .* apply/);
  const e = await run('eval', '--config', join(dir, 'run.json'));
  tt.match(e.err, /--config .*run\.json: no such file/);
});

t.test('import of a text file: not a .pt / .pth or safetensors file', async (tt) => {
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'hello, these are my notes about the model\n');
  const r = await run('import', txt, join(dir, 'x.safetensors'));
  tt.equal(r.code, 1);
  tt.match(r.err, /notes\.txt: not a \.pt \/ \.pth or safetensors file \(it starts with the text "hello, these are my note"\)/);
  tt.notMatch(r.err, /header length/);
  const pickle = join(dir, 'old.pth');
  writeFileSync(pickle, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]));
  const p = await run('import', pickle, join(dir, 'x.safetensors'));
  tt.match(p.err, /old\.pth: not a \.pt \/ \.pth or safetensors file \(a bare pickle: the legacy \(pre-1\.6\) torch\.save format\?/);
  const empty = join(dir, 'empty.safetensors');
  writeFileSync(empty, '');
  tt.match((await run('import', empty, join(dir, 'x.safetensors'))).err, /empty\.safetensors: not a \.pt \/ \.pth or safetensors file \(it is empty\)/);
});

t.test('empty class names are refused, not dropped', async (tt) => {
  const r = await run(...segment().map((a) => (a === 'circle,ring' ? 'circle,,ring' : a)));
  tt.equal(r.code, 2);
  tt.match(r.err, /--classes has an empty class name \(item 2 of "circle,,ring"\): remove the extra comma/);
  const trailing = await run(...segment('--seen', 'circle,'));
  tt.match(trailing.err, /--seen has an empty class name \(item 2 of "circle,"\)/);
  const labels = await run('classify', image, '--weights', weights, '--labels', 'cat,,dog');
  tt.match(labels.err, /--labels has an empty class name/);
  const dup = await run(...segment().map((a) => (a === 'circle,ring' ? 'ring,circle,ring' : a)));
  tt.match(dup.err, /--classes names "ring" twice/);
});

t.test('an I64 value out of range names the file and the tensor', async (tt) => {
  const tensors = new Map(officialStateDict(model));
  tensors.set('backbone.position_ids', { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n ** 60n + 1n]) });
  const fuzzed = join(dir, 'fuzzed.safetensors');
  writeFileSync(fuzzed, serializeSafetensors(tensors));
  for (const argv of [['import', fuzzed, join(dir, 'x.safetensors')], ['export', fuzzed, join(dir, 'x.pt')], ['info', '--weights', fuzzed]]) {
    const r = await run(...argv);
    tt.equal(r.code, 1, argv[0]);
    tt.match(r.err, /fuzzed\.safetensors: backbone\.position_ids: I64 value 1152921504606846977 at index 1 does not fit exactly in a double/, argv[0]);
  }
});
