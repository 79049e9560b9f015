// SPT-SEG switches, inference and loader errors, on the tiny fixture model of sptseg.test.ts: every
// ablation runs and changes the output where it should; predict subtracts the seen-class offset and
// slides over larger images; freezing returns the official trainable set (12,888,640 parameters for the
// VOC ViT-B/16 preset); loader errors name the key and both shapes.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randn, tensor, type Tensor } from '../../engine/index.ts';
import { skipInit } from '../../engine/nn/index.ts';
import { parseSafetensors, toFloat32 } from '../../engine/io/safetensors.ts';
import {
  freeze, inferSptSegConfig, loadTextEmbeddings, saveTextEmbeddings, SptSeg, sptSegFromStateDict, trainableParameters,
  VOC_VIT_B16, type SptLoadOptions,
} from '../../model/index.ts';
import { relErr } from './fixtures.ts';

const DIR = fileURLToPath(new URL('../fixtures/sptseg/', import.meta.url));
const raw = parseSafetensors(readFileSync(DIR + 'grid8.safetensors'), 'grid8').tensors;
const all = new Map([...raw].map(([k, r]) => [k, tensor(toFloat32(r, k), r.shape)] as [string, Tensor]));
const weights = () => new Map([...all].filter(([k]) => k.startsWith('backbone.') || k.startsWith('decode_head.')));
const image = all.get('in.image')!;
const text = all.get('in.text')!;

const build = (opts: SptLoadOptions = {}, dict = weights()) => sptSegFromStateDict(dict, opts).model;
const logitsOf = (m: SptSeg) => m.forward(image, text).maskLogits;
const base = logitsOf(build());

t.test('every ablation switch runs and changes the output', (tt) => {
  const variants: [string, () => SptSeg][] = [
    ['clsQuirk: false (CLIP\'s CLS)', () => build({ clsQuirk: false })],
    ['p1FromResidual: false', () => build({ p1FromResidual: false })],
    ['spectralBlocks: 1 (P0 only)', () => build({ spectralBlocks: 1 })],
    ['no spectral prompts', () => {
      const d = weights();
      d.delete('backbone.complex_weight');
      return build({}, d);
    }],
    ['no deep prompts (VPT-shallow)', () => {
      const d = weights();
      d.delete('backbone.deep_prompt_embeddings');
      return build({}, d);
    }],
    ['HiLo window 2', () => build({ hiloWindow: 2 })],
  ];
  for (const [name, make] of variants) {
    const out = logitsOf(make());
    tt.same(out.shape, base.shape, `${name}: shape`);
    tt.ok(relErr(out, base) > 1e-3, `${name}: output changes (${relErr(out, base).toExponential(2)})`);
  }
  const d = weights();
  d.delete('backbone.complex_weight');
  tt.equal(build({}, d).backbone.complex_weight, null, 'no spectral prompts: no complex_weight parameter');
  tt.end();
});

t.test('dropout is active in training mode only', (tt) => {
  const m = build();
  tt.equal(relErr(logitsOf(m), base), 0, 'eval: deterministic');
  m.train();
  tt.ok(relErr(logitsOf(m), base) > 1e-3, 'train: prompt / decoder dropout changes the output');
  tt.end();
});

t.test('predict: sigmoid, seen-class offset, argmax; sliding window on larger images', (tt) => {
  const m = build();
  const { probs, labels } = m.predict(image, text);
  tt.same(probs.shape, [2, 5, 64, 64]);
  tt.same(labels.shape, [2, 64, 64]);
  const pred = m.predMasks(image, text).sigmoid();
  tt.ok(relErr(probs, pred) < 1e-6, 'no seen mask: plain sigmoid of the upsampled logits');
  const seen = [true, true, false, false, true];
  const shifted = m.predict(image, text, { seenMask: seen }).probs;
  const diff = pred.sub(shifted).data(); // [2, 5, 64, 64]
  for (let c = 0; c < 5; c++) {
    const v = diff[(1 * 5 + c) * 4096 + 17];
    tt.ok(Math.abs(v - (seen[c] ? 0.1 : 0)) < 1e-6, `class ${c}: offset ${seen[c] ? 0.1 : 0}`);
  }
  tt.throws(() => m.predict(image, text, { seenMask: [true] }), /seenMask has 1 entries for 5 classes/);
  const big = randn([1, 3, 80, 72]);
  const slid = m.predict(big, text, { stride: 16 });
  tt.same(slid.probs.shape, [1, 5, 80, 72]);
  // The crop at the top-left corner alone covers pixel (0, 0): its probabilities are that crop's.
  const corner = m.predict(big.slice(2, 0, 64).slice(3, 0, 64), text).probs.data();
  tt.ok(Math.abs(slid.probs.data()[0] - corner[0]) < 1e-6, 'the corner pixel comes from the first crop only');
  tt.throws(() => m.predict(randn([1, 3, 48, 64]), text), /smaller than the 64x64 crop/);
  tt.end();
});

t.test('trainable parameters: the official freezing, spectral filter behind a flag', (tt) => {
  const m = build();
  const names = trainableParameters(m).map(([n]) => n);
  tt.ok(names.includes('backbone.complex_weight'));
  tt.ok(names.includes('backbone.prompt_proj.weight') && names.includes('backbone.prompt_norm.bias'));
  tt.notOk(names.some((n) => n.includes('resblocks') || n === 'backbone.proj' || n.includes('conv1')));
  tt.notOk(trainableParameters(m, { trainSpectral: false }).some(([n]) => n === 'backbone.complex_weight'));
  freeze(m, { trainSpectral: false });
  tt.notOk(m.backbone.complex_weight!.requiresGrad, 'freeze(trainSpectral: false) freezes the filter');
  tt.notOk(m.backbone.transformer.resblocks.at(0).attn.in_proj_weight.requiresGrad);
  tt.ok(m.decode_head.q_proj.weight.requiresGrad);
  const voc = skipInit(() => new SptSeg(VOC_VIT_B16));
  const count = trainableParameters(voc).reduce((n, [, p]) => n + p.size, 0);
  tt.equal(count, 12_888_640, 'VOC ViT-B/16, T = 10, filter trainable: 12,888,640 (method.md §1.3)');
  tt.end();
});

t.test('loader errors name the key and the shapes', (tt) => {
  const missing = weights();
  missing.delete('decode_head.decoder_1.layers.1.hlfs.l_q.weight');
  tt.throws(() => sptSegFromStateDict(missing), /missing key\(s\): decode_head\.decoder_1\.layers\.1\.hlfs\.l_q\.weight/);
  const extra = weights();
  extra.set('backbone.mystery', randn([3]));
  tt.throws(() => sptSegFromStateDict(extra), /unexpected key\(s\): backbone\.mystery/);
  const bad = weights();
  bad.set('decode_head.decoder_1.layers.0.hlfs.proj.weight', randn([32, 31]));
  tt.throws(() => sptSegFromStateDict(bad), /decode_head\.decoder_1\.layers\.0\.hlfs\.proj\.weight: expected shape \[32, 32\], got \[32, 31\]/);
  const noConv = weights();
  noConv.delete('backbone.conv1.weight');
  tt.throws(() => sptSegFromStateDict(noConv, {}, 'w.safetensors'), /w\.safetensors: missing key backbone\.conv1\.weight/);
  const official = weights();
  official.set('backbone.proj_fre.weight', randn([10, 64]));
  official.set('decode_head.decoder_1.layers.0.hlfs.h_proj.weight', randn([4, 4]));
  official.set('decode_head.decoder_1.layers.0.norm1.weight', randn([32]));
  const { ignoredKeys } = sptSegFromStateDict(official);
  tt.equal(ignoredKeys.length, 3, 'modules the official forward never calls are skipped and reported');
  tt.throws(() => build().forward(randn([1, 3, 56, 56]), text), /built for a 8x8 patch grid, but the image gives 7x7/);
  tt.throws(() => build().forward(image, randn([5, 16])), /text embeddings must be \[C, 32\]/);
  const shapes = new Map([...weights()].map(([k, v]) => [k, v.shape] as [string, readonly number[]]));
  tt.equal(inferSptSegConfig(shapes).encoder.vision.imageSize, 64);
  tt.end();
});

t.test('text-embedding cache: saved with names, loaded by name, rows as stored', async (tt) => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = `${mkdtempSync(`${tmpdir()}/spt-text-`)}/voc.safetensors`;
  const emb = randn([3, 4]); // deliberately not unit rows: they must come back untouched
  await saveTextEmbeddings(path, emb, ['cat', 'dog', 'bus']);
  const picked = await loadTextEmbeddings(path, ['bus', 'cat']);
  tt.same(Array.from(picked.data()), [...Array.from(emb.data()).slice(8, 12), ...Array.from(emb.data()).slice(0, 4)]);
  await tt.rejects(loadTextEmbeddings(path, ['car']), /no embedding for class "car"/);
  await tt.rejects(saveTextEmbeddings(path, emb, ['cat']), /expected \[1, E\] for 1 classes, got \[3, 4\]/);
  tt.end();
});
