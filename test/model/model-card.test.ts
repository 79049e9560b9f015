// The model card (model/model-card.ts) travels with the weights: round trips safetensors -> .pt ->
// safetensors and -> mmseg .pth -> safetensors give the same model (bitwise-equal logits and
// probabilities on random images) and the same card, for (a) a tiny world-shaped SPT-SEG (conv stem,
// 2 vision heads where width / 64 says 1, the soft HiLo gate) carrying worldCard, and (b) a tiny
// VOC-shaped one (patch conv, clamp gate) carrying datasetCard with VOC's classes. A file without a
// card imports with each missing field named (and, for the world-shaped model, the wrong heads: the
// bug the card fixes); flags give them back. Older files' vision_heads / hilo_gate metadata still load.
// A bad card fails naming the file and the field; a card that contradicts the shapes names the field.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, normalize, rand, randn, type Tensor } from '../../engine/index.ts';
import { saveSafetensors } from '../../engine/io/files.ts';
import { parseSafetensors, serializeSafetensors } from '../../engine/io/safetensors.ts';
import { readTorchArchive } from '../../engine/io/torchscript.ts';
import { main } from '../../cli/spt-seg.ts';
import {
  cardMetadata, completeCard, ModelCardError, parseCard, readCard, withOverrides, type SptSegCard,
} from '../../model/model-card.ts';
import { SptSeg, VOC_CLASSES, VOC_UNSEEN_IDS, type SptSegConfig } from '../../model/segmenter.ts';
import { exportSptSeg, importSptSeg, officialStateDict } from '../../model/spt-interop.ts';
import { loadSptSeg, loadSptSegWithCard, SptWeightsError } from '../../model/spt-weights.ts';
import { datasetCard, worldCard } from '../../train/model-cards.ts';

const dir = mkdtempSync(join(tmpdir(), 'spt-card-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** World-shaped: conv stem (P = 8 from two hidden convs), width 32 with 2 heads (width / 64 = 1), soft gate. */
const WORLDISH: SptSegConfig = {
  encoder: {
    vision: { imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 2, outputDim: 16, stem: 'conv', stemWidths: [8, 16] },
    numTokens: 2, deepLayers: 1, spectralGrid: [4, 4],
  },
  decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32, attention: 'hilo', hilo: { gate: 'soft' } },
};
/** VOC-shaped: CLIP's patch conv, heads = width / 64, the official clamp gate. */
const VOCISH: SptSegConfig = {
  encoder: { vision: { imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 1, outputDim: 16 }, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
  decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32 },
};

/** A model with every weight drawn again (so no gate or layer is degenerate), in eval mode. */
function randomModel(config: SptSegConfig, seed: number): SptSeg {
  manualSeed(seed);
  const model = new SptSeg(config);
  noGrad(() => { for (const p of model.parameters()) p.assign(randn(p.shape).mul(0.3)); });
  return model.eval();
}

interface Probe { images: Tensor; text: Tensor; seen: boolean[] }
function probe(card: SptSegCard, seed: number): Probe {
  manualSeed(seed);
  const C = card.classes!.names.length;
  return {
    images: rand([3, 3, ...card.input.size]).mul(255).sub(127.5).div(63.75), // [3, 3, h, w]
    text: normalize(randn([C, card.config.decoder.embedDim]), { dim: -1 }), // [C, E]
    seen: card.classes!.names.map((_, c) => card.classes!.seen.includes(c)),
  };
}
/** Mask logits and the card's probabilities (offset on the seen classes), as plain arrays. */
function outputs(model: SptSeg, card: SptSegCard, p: Probe): { logits: number[]; probs: number[] } {
  const logits = Array.from(model.forward(p.images, p.text).maskLogits.data()); // [3, C, gh, gw]
  const probs = Array.from(model.predict(p.images, p.text, { seenMask: p.seen, offset: card.inference.offset }).probs.data()); // [3, C, h, w]
  return { logits, probs };
}
function bitwiseEqual(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

// Seeds whose random weights leave some HiLo gates open (a shut clamp gate everywhere makes constant logits).
const cases: { name: string; config: SptSegConfig; seed: number; card: (m: SptSeg) => SptSegCard }[] = [
  { name: 'world-shaped', config: WORLDISH, seed: 10, card: (m) => worldCard(m, { offset: 0.05 }) },
  {
    name: 'VOC-shaped', config: VOCISH, seed: 12,
    card: (m) => datasetCard(m, { classNames: VOC_CLASSES, seenIds: VOC_CLASSES.map((_, c) => c).filter((c) => !VOC_UNSEEN_IDS.includes(c)), unseenIds: VOC_UNSEEN_IDS }, { setting: 'inductive', templates: ['a photo of a {}'] }),
  },
];

for (const [k, c] of cases.entries()) {
  t.test(`${c.name}: safetensors -> .pt / mmseg -> safetensors keeps the predictions and the card`, async (tt) => {
    const model = randomModel(c.config, c.seed);
    const card = c.card(model);
    const src = join(dir, `${c.name}.safetensors`);
    await saveSafetensors(src, model.stateDict(), cardMetadata(card)); // as cli/commands/world.ts and train.ts write
    const p = probe(card, 20 + k);
    const want = outputs(model, card, p);
    const spread = Math.max(...want.logits) - Math.min(...want.logits);
    tt.ok(spread > 0.1, `the logits are not degenerate (spread ${spread.toFixed(3)})`);

    const loaded = await loadSptSegWithCard(src);
    tt.same(loaded.card, card, 'the card reads back as written');
    tt.same(loaded.gaps, [], 'nothing assumed');
    tt.ok(bitwiseEqual(outputs(loaded.model, loaded.card, p).logits, want.logits), 'loaded: the same logits');

    for (const [kind, file, opts] of [['pt', 'x.pt', { format: 'pt' as const }], ['mmseg', 'x.pth', { format: 'pt' as const, mmseg: true }]] as const) {
      const pt = join(dir, `${c.name}.${file}`), back = join(dir, `${c.name}.${kind}.back.safetensors`);
      const exported = await exportSptSeg(src, pt, opts);
      tt.same(exported.gaps, [], `${kind}: export assumed nothing`);
      const strings = readTorchArchive(readFileSync(pt), pt).strings;
      const at = kind === 'mmseg' ? 'meta.spt_seg' : '_metadata..spt_seg';
      tt.same(JSON.parse(strings.get(at) as string), card, `${kind}: the card is in ${at}`);
      if (kind === 'mmseg') tt.same(strings.get('meta.CLASSES'), card.classes!.names, 'mmseg: meta.CLASSES names the classes');
      const imported = await importSptSeg(pt, back);
      tt.same(imported.gaps, [], `${kind}: import recovered everything`);
      const again = await loadSptSegWithCard(back);
      tt.same(again.card, card, `${kind}: the card survives the round trip`);
      const got = outputs(again.model, again.card, p);
      tt.ok(bitwiseEqual(got.logits, want.logits), `${kind}: bitwise-equal logits`);
      tt.ok(bitwiseEqual(got.probs, want.probs), `${kind}: bitwise-equal probabilities (offset ${card.inference.offset} on the seen classes)`);
      tt.same(parseSafetensors(readFileSync(back), back).tensors.get('backbone.prompt_embeddings')!.data,
        officialStateDict(model).get('backbone.prompt_embeddings')!.data, `${kind}: tensors byte-identical`);
    }
  });
}

t.test('a file without a card: import names each missing field; the flags give them back', async (tt) => {
  const model = randomModel(WORLDISH, 30);
  const card = worldCard(model, { offset: 0.05 });
  const bare = join(dir, 'bare.safetensors');
  writeFileSync(bare, serializeSafetensors(officialStateDict(model))); // weights only, as an official checkpoint
  const pt = join(dir, 'bare.pt');
  const r = await run('export', bare, pt);
  tt.equal(r.code, 0, r.err);
  for (const [what, flag] of [['vision heads', '--vision-heads'], ['HiLo gate', '--hilo-gate'], ['normalisation', '--normalization'],
    ['class names and seen / unseen split', '--classes and --seen'], ['seen-class offset', '--offset'], ['background rule', '--background']]) {
    tt.match(r.err, new RegExp(`warning: .*bare\\.safetensors has no model card: ${what} unknown, (assumed|left out).*pass ${flag}`), `warns: ${what}`);
  }
  tt.match(r.err, /vision heads unknown, assumed width \/ 64 = 1/, 'says what it assumed');
  // The assumed heads change the model: what the round trip did silently.
  const p = probe(card, 31);
  const back = join(dir, 'bare.back.safetensors');
  tt.equal((await run('import', pt, back)).code, 0);
  const guessed = await loadSptSegWithCard(back);
  tt.equal(guessed.model.config.encoder.vision.heads, 1);
  tt.notOk(bitwiseEqual(outputs(guessed.model, card, p).logits, outputs(model, card, p).logits), 'with 1 head the logits differ');
  // Saying it on the command line gives the model and the card back.
  const fixed = join(dir, 'bare.fixed.safetensors');
  const told = await run('import', bare, fixed, '--vision-heads', '2', '--hilo-gate', 'soft', '--normalization', 'world', '--offset', '0.05',
    '--background', '0.2', '--classes', card.classes!.names.join(','), '--seen', card.classes!.seen.map((i) => card.classes!.names[i]).join(','), '--templates', 'voc');
  tt.equal(told.code, 0, told.err);
  tt.notMatch(told.err, /warning/, 'nothing left to warn about');
  const full = await loadSptSegWithCard(fixed);
  tt.same({ ...full.card, config: null }, { ...card, config: null }, 'the flags rebuild the world card');
  tt.same([full.card.config.encoder.vision.heads, full.card.config.decoder.hilo?.gate], [2, 'soft'], 'with the config (its defaults now explicit)');
  tt.ok(bitwiseEqual(outputs(full.model, full.card, p).logits, outputs(model, card, p).logits), 'and the model');
});

t.test('an official mmseg checkpoint: class names come from meta.CLASSES, the split is asked for', async (tt) => {
  const file = new URL('../fixtures/interop/torch_mmseg.pth', import.meta.url).pathname;
  const out = join(dir, 'mmseg.safetensors');
  const r = await run('import', file, out);
  tt.equal(r.code, 0, r.err);
  tt.match(r.err, /torch_mmseg\.pth has no model card: seen \/ unseen split unknown \(the file names the classes aeroplane, bicycle, bird\); pass --seen/);
  const r2 = await run('import', file, out, '--seen', 'aeroplane,bird');
  tt.equal(r2.code, 0, r2.err);
  tt.same((await loadSptSegWithCard(out)).card.classes, { names: ['aeroplane', 'bicycle', 'bird'], seen: [0, 2], unseen: [1] });
});

t.test('older files: vision_heads / hilo_gate metadata still load', async (tt) => {
  const model = randomModel(WORLDISH, 40);
  const old = join(dir, 'old.safetensors');
  await saveSafetensors(old, model.stateDict(), { vision_heads: '2', hilo_gate: 'soft' });
  const { model: m, card, gaps } = await loadSptSegWithCard(old);
  tt.equal(m.config.encoder.vision.heads, 2);
  tt.equal(m.config.decoder.hilo?.gate, 'soft');
  tt.same(gaps.map((g) => g.field), ['input.normalization', 'inference.offset', 'inference.background', 'classes'], 'heads and gate known');
  tt.same(card.input.normalization.mean, [123.675, 116.28, 103.53], 'assumed: ImageNet');
  tt.equal((await loadSptSeg(old)).config.encoder.vision.heads, 2, 'loadSptSeg keeps its signature');
  tt.equal((await loadSptSeg(old, { visionHeads: 1 })).config.encoder.vision.heads, 1, 'options override');
});

t.test('a bad card fails naming the file and the field', async (tt) => {
  const model = randomModel(VOCISH, 50);
  const { card } = completeCard(model.config, {});
  const bad = (edit: (c: Record<string, any>) => void): Record<string, string> => {
    const c = JSON.parse(JSON.stringify(card));
    edit(c);
    return { spt_seg: JSON.stringify(c) };
  };
  tt.throws(() => readCard({ spt_seg: '{not json' }, 'w.safetensors'), /w\.safetensors: __metadata__\.spt_seg: not valid JSON/);
  tt.throws(() => readCard(bad((c) => { c.format = 'spt-seg/9'; }), 'w.safetensors'), /w\.safetensors: __metadata__\.spt_seg: field format must be 'spt-seg\/1'/);
  tt.throws(() => readCard(bad((c) => { c.input.normalization.std[1] = 0; }), 'w.safetensors'), /field input\.normalization\.std\[1\] must be a number in \[0\.000001, 255\], got 0/);
  tt.throws(() => readCard(bad((c) => { c.input.size = [64, 64]; }), 'w.safetensors'), /field input\.size must be \[32, 32\] \(the input the config builds\)/);
  tt.throws(() => readCard(bad((c) => { c.config.decoder.hilo = { gate: 'open' }; }), 'w.safetensors'), /field config\.decoder\.hilo\.gate must be 'clamp' or 'soft', got "open"/);
  tt.throws(() => readCard(bad((c) => { c.classes = { names: ['a', 'b'], seen: [0], unseen: [0] }; }), 'w.safetensors'), /field classes\.seen \/ classes\.unseen must be disjoint ids/);
  tt.throws(() => readCard(bad((c) => { c.inference.background = { rule: 'threshold', below: 2 }; }), 'w.safetensors'), /inference\.background\.below must be a number in \[0, 1\], got 2/);
  tt.throws(() => parseCard('[]', 'x.pth: meta[\'spt_seg\']'), ModelCardError);
  tt.throws(() => withOverrides(card, { seen: ['sky'] }, 'w.safetensors'), /the seen classes are given but the file names no classes/);
  // A card that contradicts the shapes names the field.
  const liar = join(dir, 'liar.safetensors');
  const wide = { ...card, config: { ...card.config, decoder: { ...card.config.decoder, ffn: 64 } } };
  await saveSafetensors(liar, model.stateDict(), cardMetadata(wide));
  await tt.rejects(loadSptSeg(liar), { name: 'SptWeightsError', message: /liar\.safetensors: the model card says config\.decoder\.ffn = 64, the weights' shapes say 32/ });
  tt.ok(SptWeightsError);
});

t.test('--card-from: a checkpoint trained on in PyTorch (mmseg writes its own meta) gets its card back', async (tt) => {
  const model = randomModel(WORLDISH, 60);
  const card = worldCard(model, { offset: 0.05 });
  const exported = join(dir, 'exported.safetensors');
  await saveSafetensors(exported, model.stateDict(), cardMetadata(card));
  const trained = join(dir, 'trained.safetensors'); // what comes back: the weights, no card
  writeFileSync(trained, serializeSafetensors(officialStateDict(model)));
  const back = join(dir, 'trained.back.safetensors');
  const r = await run('import', trained, back, '--card-from', exported);
  tt.equal(r.code, 0, r.err);
  tt.notMatch(r.err, /warning/);
  tt.same((await loadSptSegWithCard(back)).card, card);
  const cardJson = join(dir, 'card.json');
  writeFileSync(cardJson, JSON.stringify(card));
  tt.equal((await run('import', trained, back, '--card-from', cardJson, '--offset', '0.2')).code, 0);
  tt.equal((await loadSptSegWithCard(back)).card.inference.offset, 0.2, 'options override the card');
  const other = randomModel(VOCISH, 61);
  const vocCard = join(dir, 'voc-card.json');
  writeFileSync(vocCard, JSON.stringify(completeCard(other.config, {}).card));
  const clash = await run('import', trained, back, '--card-from', vocCard);
  tt.equal(clash.code, 1);
  tt.match(clash.err, /the model card says config\.encoder\.vision\.width = 64, the weights' shapes say 32|vision\.stem/);
  const none = await run('import', trained, back, '--card-from', trained);
  tt.match(none.err, /trained\.safetensors has no model card/);
});
