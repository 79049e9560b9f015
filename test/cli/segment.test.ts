// `spt-seg segment` and `spt-seg info` in-process, on the tiny SPT-SEG of test/fixtures/sptseg (input
// 64x64, embed 32): the mask, overlay and legend are written with the image's size; info prints the
// parameter table and the VOC ViT-B/16 count; errors name what is wrong.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/spt-seg.ts';
import { normalize, randn, tensor, type Tensor } from '../../engine/index.ts';
import { saveSafetensors } from '../../engine/io/files.ts';
import { readLabelPng, readImage, writePng } from '../../engine/io/image.ts';
import { parseSafetensors, toFloat32 } from '../../engine/io/safetensors.ts';

const FIX = fileURLToPath(new URL('../fixtures/sptseg/grid8.safetensors', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'spt-segment-'));
const weights = join(dir, 'spt.safetensors');
const embeddings = join(dir, 'text.safetensors');
const image = join(dir, 'scene.png');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.before(async () => {
  const raw = parseSafetensors(readFileSync(FIX), 'grid8').tensors;
  const dict = new Map<string, Tensor>();
  for (const [k, r] of raw) if (k.startsWith('backbone.') || k.startsWith('decode_head.')) dict.set(k, tensor(toFloat32(r, k), r.shape));
  await saveSafetensors(weights, dict);
  await saveSafetensors(embeddings, new Map([['text_embeddings', normalize(randn([3, 32]), { dim: -1 })]]),
    { classes: JSON.stringify(['sky', 'tree', 'road']) });
  const px = new Uint8Array(80 * 64 * 3).map((_, i) => (i * 37) % 256);
  await writePng(image, { width: 80, height: 64, channels: 3, data: px });
});

t.test('segment writes a mask, an overlay and a legend', async (tt) => {
  const out = join(dir, 'mask.png');
  const r = await run(['segment', image, '--weights', weights, '--classes', 'road,sky', '--text-embeddings', embeddings,
    '--seen', 'sky', '--out', out]);
  tt.equal(r.code, 0, r.err);
  const mask = await readLabelPng(out);
  tt.same([mask.width, mask.height], [80, 64]);
  tt.ok(mask.data.every((v) => v < 2), 'labels index the two classes');
  const overlay = await readImage(join(dir, 'mask.overlay.png'));
  tt.same([overlay.width, overlay.height], [80, 64]);
  const legend = readFileSync(join(dir, 'mask.legend.txt'), 'utf8').trim().split('\n');
  tt.equal(legend.length, 2);
  tt.match(legend[0], /^0\troad\trgb\(\d+,\d+,\d+\)\t[\d.]+%$/);
  tt.match(legend[1], /^1\tsky\t/);
  tt.end();
});

t.test('segment errors', async (tt) => {
  const base = ['--classes', 'sky', '--text-embeddings', embeddings, '--out', join(dir, 'e.png')];
  const missing = await run(['segment', image, '--weights', join(dir, 'nope.safetensors'), ...base]);
  tt.equal(missing.code, 1);
  tt.match(missing.err, /nope\.safetensors/);
  const bad = join(dir, 'bad.png');
  writeFileSync(bad, 'not an image');
  const unreadable = await run(['segment', bad, '--weights', weights, ...base]);
  tt.equal(unreadable.code, 1);
  tt.match(unreadable.err, /bad\.png: not a PNG or JPEG/);
  const empty = await run(['segment', image, '--weights', weights, '--classes', ' , ', '--text-embeddings', embeddings, '--out', join(dir, 'e.png')]);
  tt.equal(empty.code, 2);
  tt.match(empty.err, /--classes needs at least one class name/);
  const wide = join(dir, 'wide.safetensors');
  await saveSafetensors(wide, new Map([['text_embeddings', randn([1, 16])]]), { classes: JSON.stringify(['sky']) });
  const mismatch = await run(['segment', image, '--weights', weights, '--classes', 'sky', '--text-embeddings', wide, '--out', join(dir, 'e.png')]);
  tt.equal(mismatch.code, 1);
  tt.match(mismatch.err, /text embeddings are 16-d, but the model's image embeddings are 32-d/);
  const unknownClass = await run(['segment', image, '--weights', weights, '--classes', 'car', '--text-embeddings', embeddings, '--out', join(dir, 'e.png')]);
  tt.match(unknownClass.err, /no embedding for class "car"/);
  const both = await run(['segment', image, '--weights', weights, '--classes', 'sky', '--out', join(dir, 'e.png')]);
  tt.equal(both.code, 2);
  tt.match(both.err, /exactly one of --clip and --text-embeddings/);
  tt.notOk(existsSync(join(dir, 'e.png')), 'nothing written on error');
  tt.end();
});

t.test('info prints the parameter table', async (tt) => {
  const preset = await run(['info', '--preset', 'voc-vit-b16']);
  tt.equal(preset.code, 0, preset.err);
  tt.match(preset.out, /trainable parameters: 12888640\n/);
  tt.match(preset.out, /spectral filter \(complex_weight\)\s+835,584\s+0/);
  const frozen = await run(['info', '--preset', 'voc-vit-b16', '--freeze-spectral']);
  tt.match(frozen.out, /trainable parameters: 12053056\n/);
  const file = await run(['info', '--weights', weights]);
  tt.equal(file.code, 0, file.err);
  tt.match(file.out, /ViT width 64, 2 blocks/);
  tt.match(file.out, /trainable parameters: \d+/);
  const none = await run(['info']);
  tt.equal(none.code, 2);
  tt.match(none.err, /exactly one of --weights and --preset/);
  const missing = await run(['info', '--weights', join(dir, 'nope.safetensors')]);
  tt.equal(missing.code, 1);
  tt.end();
});

t.test('segment takes its defaults from the model card; the options override it', async (tt) => {
  const { SptSeg } = await import('../../model/segmenter.ts');
  const { cardMetadata } = await import('../../model/model-card.ts');
  const { worldCard } = await import('../../train/model-cards.ts');
  const { WORLD_CLASS_NAMES } = await import('../../train/world/classes.ts');
  const model = new SptSeg({
    encoder: { vision: { imageSize: 32, patchSize: 8, width: 32, layers: 1, heads: 2, outputDim: 16, stem: 'conv', stemWidths: [8, 16] }, numTokens: 2, deepLayers: 0, spectralGrid: [4, 4] },
    decoder: { embedDim: 16, width: 16, layers: 1, ffn: 32, hilo: { gate: 'soft' } },
  });
  const carded = join(dir, 'world-like.safetensors');
  await saveSafetensors(carded, model.stateDict(), cardMetadata(worldCard(model, { offset: 0.05 })));
  const worldText = join(dir, 'world-text.safetensors');
  await saveSafetensors(worldText, new Map([['text_embeddings', normalize(randn([12, 16]), { dim: -1 })]]), { classes: JSON.stringify(WORLD_CLASS_NAMES) });
  const out = join(dir, 'card.png');
  const r = await run(['segment', image, '--weights', carded, '--text-embeddings', worldText, '--out', out]);
  tt.equal(r.code, 0, r.err);
  tt.match(r.err, /normalised \(x − 127\.5\) \/ 63\.75 \(= \(x\/255 − 0\.5\) \/ 0\.25\); seen-class offset 0\.05 on circle, square, .*L-shape; background where no class reaches 0\.2/);
  tt.notMatch(r.err, /warning/);
  const legend = readFileSync(join(dir, 'card.legend.txt'), 'utf8').trim().split('\n');
  tt.equal(legend.length, 13, 'the card\'s 12 classes, then background');
  tt.match(legend[12], /^255\tbackground\trgb\(0,0,0\)\t[\d.]+%$/);
  const mask = await readLabelPng(out);
  tt.ok(mask.data.every((v) => v < 12 || v === 255), 'class ids, or 255 for background');
  const flags = await run(['segment', image, '--weights', carded, '--text-embeddings', worldText, '--classes', 'ring,star', '--background', 'none',
    '--offset', '0', '--normalization', 'imagenet', '--out', join(dir, 'flags.png')]);
  tt.equal(flags.code, 0, flags.err);
  tt.match(flags.err, /normalised with ImageNet mean\/std; seen-class offset 0 on no class; background none/);
  tt.equal(readFileSync(join(dir, 'flags.legend.txt'), 'utf8').trim().split('\n').length, 2, 'no background line');
  const help = await run(['segment', '--help']);
  tt.match(help.out, /pixels where\s+no class reaches p are background: label 255/, '--help says how background is decided');
  // Weights without a card: the official defaults, each named.
  const bare = await run(['segment', image, '--weights', weights, '--classes', 'sky', '--text-embeddings', embeddings, '--out', join(dir, 'bare.png')]);
  tt.equal(bare.code, 0, bare.err);
  tt.match(bare.err, /has no model card: normalisation unknown, assumed ImageNet mean\/std .*; pass --normalization to set it/);
});
