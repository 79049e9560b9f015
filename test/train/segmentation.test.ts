// Segmentation glue: label maps of the inductive / transductive settings, pseudo-labels, and the
// SPT-SEG start from CLIP weights (positional grid resized as F.interpolate does), the decoder gate guard.
import t from 'tap';
import { interpolate, manualSeed, noGrad, normalize, randn, tensor, type Tensor } from '../../engine/index.ts';
import { CLIP, type CLIPConfig } from '../../model/clip.ts';
import { alignDecoder, calibrateDecoder, principalDirections } from '../../model/decoder-start.ts';
import { orientGates, sptSegFromClip } from '../../model/spt-init.ts';
import { resizePositionalEmbedding } from '../../model/vit.ts';
import { labelMap, pseudoLabel, remapLabels } from '../../train/segmentation.ts';

/** A tiny CLIP config: 32 × 32 images, 8 × 8 patches, 2 vision blocks of this width, joint width 16. */
function tinyClip(width: number): CLIPConfig {
  return {
    embedDim: 16,
    vision: { imageSize: 32, patchSize: 8, width, layers: 2, heads: 1, outputDim: 16 },
    text: { contextLength: 77, vocabSize: 49408, width: 32, heads: 1, layers: 1, outputDim: 16 },
  };
}

t.test('inductive labels: seen ids to their index, unseen to 255; transductive keeps ids', async (t) => {
  const ind = labelMap(5, [0, 2, 4], 'inductive');
  t.same([0, 1, 2, 3, 4, 255].map((v) => ind[v]), [0, 255, 1, 255, 2, 255]);
  const tra = labelMap(5, [0, 2, 4], 'transductive');
  t.same([0, 1, 2, 3, 4, 255].map((v) => tra[v]), [0, 1, 2, 3, 4, 255]);
  const labels = tensor([[[0, 1], [4, 255]]], undefined, { dtype: 'int32' });
  t.same(remapLabels(labels, ind).toArray(), [0, 255, 2, 255]);
  t.throws(() => remapLabels(tensor([[[300]]], undefined, { dtype: 'int32' }), ind), /label value 300/);
});

t.test('pseudo-labels: unseen pixels take the argmax over the unseen classes only', async (t) => {
  // 4 classes, unseen {1, 3}; logits favour the seen class 0 everywhere, then 3 over 1 at pixel 0.
  const logits = tensor([[[[5, 5]], [[0, 2]], [[9, 9]], [[1, 0]]]]); // [1, 4, 1, 2]
  const labels = tensor([[[1, 3]]], undefined, { dtype: 'int32' }); // both pixels unseen in the ground truth
  t.same(pseudoLabel(logits, labels, [1, 3]).toArray(), [3, 1]);
  const seenPixels = tensor([[[0, 2]]], undefined, { dtype: 'int32' });
  t.same(pseudoLabel(logits, seenPixels, [1, 3]).toArray(), [0, 2], 'seen pixels keep their label');
});

t.test('SPT-SEG from CLIP: the visual weights are copied, the positional grid resized', async (t) => {
  manualSeed(1);
  const cfg = tinyClip(64);
  const clip = new CLIP(cfg);
  const model = sptSegFromClip(clip, {
    encoder: { vision: { ...cfg.vision, imageSize: 48 }, numTokens: 2, deepLayers: 1, spectralGrid: [6, 6] },
    decoder: { embedDim: 16, width: 16, layers: 1, ffn: 32 },
  });
  const mine = model.stateDict(), theirs = clip.visual.stateDict();
  for (const key of ['conv1.weight', 'transformer.resblocks.1.attn.in_proj_weight', 'ln_post.bias', 'proj']) {
    t.same(mine.get(`backbone.${key}`)!.toArray(), theirs.get(key)!.toArray(), `${key} copied`);
  }
  const pos = model.backbone.positional_embedding;
  t.same(pos.shape, [37, 64], '1 + 6·6 rows');
  const src = clip.visual.positional_embedding; // [17, 64]
  t.same(pos.toArray().slice(0, 64), src.toArray().slice(0, 64), 'the CLS row is kept');
  const grid = src.slice(0, 1, 17).reshape([4, 4, 64]).permute([2, 0, 1]); // [64, 4, 4]
  const want = interpolate(grid, [6, 6]).permute([1, 2, 0]).reshape([36 * 64]).toArray();
  t.same(pos.toArray().slice(64), want, 'the grid is F.interpolate(bilinear) of the CLIP grid');
  t.equal(resizePositionalEmbedding(src, 4, 4), src, 'the same grid is returned as is');
  const q = mine.get('decode_head.q_proj.weight')!.toArray();
  const std = Math.sqrt(q.reduce((a, v) => a + v * v, 0) / q.length);
  t.ok(std > 0.015 && std < 0.025 && Math.max(...q.map(Math.abs)) <= 2, `decode head Linear weights ~ trunc_normal(0.02): std ${std.toFixed(4)}`);
  t.same([...new Set(mine.get('decode_head.q_proj.bias')!.toArray())], [0], 'biases zero');
  t.throws(() => sptSegFromClip(clip, {
    encoder: { vision: { ...cfg.vision, width: 128 }, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
    decoder: { embedDim: 16, width: 16, layers: 1, ffn: 32 },
  }), /CLIP has vision width 64, the SPT-SEG config 128/);
});

t.test('orientGates: a decoder layer whose gate is shut on every token gets its prompt sign flipped', async (t) => {
  manualSeed(3);
  const cfg = tinyClip(32);
  const model = sptSegFromClip(new CLIP(cfg), {
    encoder: { vision: cfg.vision, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
    decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32, attention: 'hilo' },
  });
  const images = randn([2, 3, 32, 32]);
  const text = randn([3, 16]);
  const [l0, l1] = [...model.decode_head.decoder_1.layers].map((l) => l.hlfs!);
  // Mostly shut layer 1: its direction becomes minus the mean HiLo feature direction; open layer 0 the same way.
  // The features as orientGates sees them: eval mode (no prompt dropout).
  model.eval();
  const { dense } = noGrad(() => model.backbone.features(images)); // [2, 16, 4, 4]
  model.train();
  const memory = dense.reshape([2, 16, 16]).permute([0, 2, 1]); // [2, 16, 16]
  noGrad(() => {
    l1.prompt.assign(normalize(l1.hiLo(memory, 4, 4).hl, { dim: -1 }).sum(0).sum(0).neg()); // [16]
    l0.prompt.assign(normalize(l0.hiLo(memory, 4, 4).hl, { dim: -1 }).sum(0).sum(0)); // [16]
  });
  const before = l1.prompt.toArray();
  const report = orientGates(model, images);
  t.equal(report.length, 2);
  t.same([report[0].flipped, report[1].flipped], [false, true], 'only the mostly shut layer is flipped');
  t.ok(report[0].openBefore >= 0.5 && report[1].openBefore < 0.5, `open before: ${report.map((r) => r.openBefore)}`);
  t.equal(report[1].open, 1 - report[1].openBefore, 'the flip opens exactly the tokens that were shut');
  t.same(l1.prompt.toArray(), before.map((v) => -v), 'the flip is an exact sign change');
  t.ok(model.training, 'the training mode is restored');
  const cross = sptSegFromClip(new CLIP(cfg), {
    encoder: { vision: cfg.vision, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
    decoder: { embedDim: 16, width: 16, layers: 1, ffn: 32, attention: 'cross' },
  });
  t.same(orientGates(cross, images), [], 'a cross-attention decoder has no gate');
});

t.test('alignDecoder: the first layer\'s logits are the frozen-CLIP cosine scores, scaled', async (t) => {
  manualSeed(4);
  const cfg = tinyClip(32);
  const build = (attention: 'cross' | 'hilo') => sptSegFromClip(new CLIP(cfg), {
    encoder: { vision: cfg.vision, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
    decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32, attention, crossHeads: 4 },
  });
  const model = build('cross');
  alignDecoder(model, { textScale: 2, qkScale: 3 });
  const images = randn([2, 3, 32, 32]);
  const text = normalize(randn([5, 16]), { dim: 1 });
  const { layerLogits, dense } = noGrad(() => model.eval().forward(images, text));
  // Expected: a · b² · (t · x) / (H · √d) with a = 2, b = 3, H = 4 heads of d = 4.
  const cos = noGrad(() => text.matmul(dense.reshape([2, 16, 16]))).toArray(); // [2, 5, 16]
  const got = layerLogits[0].toArray(); // [2, 5, 4, 4]
  const scale = (2 * 9) / (4 * 2);
  t.ok(got.every((v, i) => Math.abs(v - scale * cos[i]) < 1e-5), 'layer 0 logits = a·b²/(H·√d) · t·x');
  t.throws(() => alignDecoder(build('hilo')), /the HiLo decoder needs the seen classes' embeddings \(seenText\) and a batch \(images\)/);
});

t.test('principalDirections: orthonormal, the span of the centred rows, largest spread first', async (t) => {
  // Rows spread 3 along e0 and 1 along e2 around (1, 1, 1, 1): the directions are ±e0 then ±e2.
  const x = tensor([[4, 1, 1, 1], [-2, 1, 1, 1], [1, 1, 2, 1], [1, 1, 0, 1]]);
  const dirs = principalDirections(x, 3);
  t.equal(dirs.length, 2, 'the centred rows span 2 dimensions: no third direction');
  const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(Math.abs(v) - Math.abs(b[i])) < 1e-9);
  t.ok(near([...dirs[0]], [1, 0, 0, 0]) && near([...dirs[1]], [0, 0, 1, 0]), `directions ${dirs.map((d) => [...d].map((v) => v.toFixed(3)))}`);
  t.equal(principalDirections(x, 1).length, 1, 'at most r');
});

t.test('alignDecoder (HiLo): the final logits rank the seen classes as the frozen CLIP does; calibrateDecoder fits them', async (t) => {
  manualSeed(6);
  const cfg = tinyClip(32);
  const model = sptSegFromClip(new CLIP(cfg), {
    encoder: { vision: cfg.vision, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
    decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32, attention: 'hilo', hilo: { heads: 4, alpha: 0.5 } }, // Hi-Fi 2 heads × 4 = 8 channels
  });
  const images = randn([2, 3, 32, 32]);
  const seenText = normalize(randn([5, 16]), { dim: 1 }); // 5 seen classes: their centred span (4) fits the 8 Hi-Fi channels
  const aligned = alignDecoder(model, { seenText, images });
  t.ok(aligned.shiftChannel !== null && aligned.shiftChannel >= 0 && aligned.shiftChannel < 16, `shift channel ${aligned.shiftChannel}`);
  const { maskLogits, dense } = noGrad(() => model.eval().forward(images, seenText)); // [2, 5, 4, 4]
  const clipScores = noGrad(() => seenText.matmul(dense.reshape([2, 16, 16]))).toArray(); // [2, 5, 16] t·x
  const got = maskLogits.toArray();
  let same = 0;
  for (let b = 0; b < 2; b++) {
    for (let p = 0; p < 16; p++) {
      const best = (v: number[]) => [0, 1, 2, 3, 4].reduce((m, c) => (v[(b * 5 + c) * 16 + p] > v[(b * 5 + m) * 16 + p] ? c : m), 0);
      if (best(got) === best(clipScores)) same++;
    }
  }
  t.ok(same / 32 >= 0.6, `(chance: 20%) the aligned HiLo picks the frozen-CLIP class on ${same} of 32 tokens`);
  // Calibration is exact up to the readout's near-constant channel: the least loss is at ×4 − 3.
  let target: number[] | null = null;
  const report = calibrateDecoder(model.train(), images, seenText, (logits) => {
    const a = logits.toArray();
    target ??= a.map((v) => 4 * v - 3);
    return a.reduce((acc, v, i) => acc + (v - target![i]) ** 2, 0);
  }, aligned);
  t.same([report.scale, report.shift, report.channel], [4, -3, aligned.shiftChannel], 'HiLo: ×4 − 3 on the aligned shift channel');
  const after = noGrad(() => model.eval().forward(images, seenText).maskLogits).toArray();
  t.ok(after.every((v, i) => Math.abs(v - target![i]) < 0.05 * (1 + Math.abs(v))), 'the final logits are 4 · before − 3 (within the readout\'s 1% spread)');
  t.throws(() => calibrateDecoder(model, images, seenText, () => 0), /a HiLo decoder must be aligned first/);
});

t.test('calibrateDecoder: final logits become s · before + c for the (s, c) of least loss', async (t) => {
  manualSeed(5);
  const cfg = tinyClip(32);
  for (const layers of [1, 2]) {
    const model = sptSegFromClip(new CLIP(cfg), {
      encoder: { vision: cfg.vision, numTokens: 2, deepLayers: 1, spectralGrid: [4, 4] },
      decoder: { embedDim: 16, width: 16, layers, ffn: 32, attention: 'cross', crossHeads: 4 },
    });
    alignDecoder(model);
    const images = randn([2, 3, 32, 32]);
    const text = normalize(randn([5, 16]), { dim: 1 });
    // A loss with a known best: squared distance to 4 · (the first logits it sees) − 3.
    let base: number[] | null = null, target: number[] = [];
    const lossOf = (logits: Tensor): number => {
      const a = logits.toArray();
      if (!base) { base = a; target = a.map((v) => 4 * v - 3); }
      return a.reduce((acc, v, i) => acc + (v - target[i]) ** 2, 0);
    };
    const report = calibrateDecoder(model.train(), images, text, lossOf);
    t.same([report.scale, report.shift], [4, -3], `${layers} layer(s): the least loss is at ×4 − 3`);
    t.ok(report.loss < 1e-6 && report.lossBefore > 1, `loss ${report.lossBefore.toFixed(3)} → ${report.loss.toExponential(1)}`);
    t.ok(model.training, 'the training mode is restored');
    const attn = [...model.decode_head.decoder_1.layers][layers - 1].multihead_attn!;
    const row = (w: Tensor) => w.toArray().slice(report.channel * 16, (report.channel + 1) * 16);
    t.ok([...row(attn.q.weight), ...row(attn.k.weight)].every((v) => v === 0), 'channel j reads nothing');
    const after = noGrad(() => model.eval().forward(images, text).maskLogits).toArray();
    t.ok(after.every((v, i) => Math.abs(v - target[i]) < 1e-4 * (1 + Math.abs(v))), 'the model\'s final logits are 4 · before − 3');
  }
});
