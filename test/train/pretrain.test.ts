/**
 * Pretraining of the world's CLIP (train/pretrain.ts) at a tiny size: a short run is deterministic
 * bit for bit (losses and weights), the loss falls when the model fits a fixed batch, the conv stem
 * gives the expected token grid and rejects a wrong patch size, both gate measurements run, and no
 * dense target of an unseen class is ever built.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/spt-seg.ts';
import { tempDir } from './data-fixtures.ts';
import { noGrad, tidy } from '../../engine/index.ts';
import { AdamW } from '../../engine/optim/index.ts';
import type { CLIPConfig } from '../../model/clip.ts';
import { VisionTransformer } from '../../model/vit.ts';
import { createWorldClip, PRETRAIN_DEFAULTS, pretrain, pretrainLoss, usesDenseTerms, type PretrainConfig } from '../../train/pretrain.ts';
import { assertSeenTargets, worldBatch, WorldStream } from '../../train/world/batch.ts';
import { DEFAULT_SPLIT } from '../../train/world/classes.ts';
import { patchProbe, zeroShotAccuracy } from '../../train/world/probe.ts';
import { WORLD_DEFAULTS, type WorldSettings } from '../../train/world/scenes.ts';

const TINY_CLIP: CLIPConfig = {
  embedDim: 16,
  vision: { imageSize: 32, patchSize: 8, width: 16, layers: 1, heads: 2, outputDim: 16, stem: 'conv', stemWidths: [4, 8] },
  text: { contextLength: 24, vocabSize: 49408, width: 8, layers: 1, heads: 2, outputDim: 16 },
};
const TINY_WORLD: WorldSettings = { ...WORLD_DEFAULTS, size: 32, minRadius: 6, maxRadius: 10 };
const TINY: PretrainConfig = { ...PRETRAIN_DEFAULTS, clip: TINY_CLIP, world: TINY_WORLD, steps: 3, batchSize: 6, warmup: 1, lr: 3e-3 };

t.test('conv stem: 3 stride-2 convs, 32x32 -> 4x4 tokens, keys conv1.convs.*', (t) => {
  const vit = new VisionTransformer(TINY_CLIP.vision);
  const keys = [...vit.stateDict().keys()].filter((k) => k.startsWith('conv1.'));
  t.same(keys, ['conv1.convs.0.weight', 'conv1.convs.0.bias', 'conv1.convs.1.weight', 'conv1.convs.1.bias', 'conv1.convs.2.weight', 'conv1.convs.2.bias']);
  const batch = worldBatch(0, 0, 2, 0.5, 8, TINY_WORLD);
  const { gridH, gridW, tokens } = noGrad(() => vit.embed(batch.images));
  t.same([gridH, gridW, ...tokens.shape], [4, 4, 2, 17, 16]);
  t.throws(() => new VisionTransformer({ ...TINY_CLIP.vision, patchSize: 16 }), /total stride 8, not patchSize 16/);
  t.end();
});

t.test('a short run is deterministic bit for bit', async (t) => {
  const a = await pretrain(TINY, { label: null });
  const b = await pretrain(TINY, { label: null });
  t.equal(a.result.records.length, 3);
  t.same(a.result.records.map((r) => r.loss), b.result.records.map((r) => r.loss), 'same losses');
  const sa = a.clip.stateDict(), sb = b.clip.stateDict();
  const same = [...sa].every(([k, v]) => {
    const x = v.data(), y = sb.get(k)!.data();
    return x.length === y.length && x.every((xi, i) => Object.is(xi, y[i]));
  });
  t.ok(same, 'same weights, every bit');
  const c = await pretrain({ ...TINY, seed: 1 }, { label: null });
  t.notSame(a.result.records.map((r) => r.loss), c.result.records.map((r) => r.loss), 'another seed, another run');
});

t.test('the contrastive, mention, region and patch losses fall on a fixed batch', (t) => {
  const clip = createWorldClip(TINY_CLIP, 0);
  const cfg = { ...TINY, mentionWeight: 1, regionWeight: 1, patchWeight: 1 };
  const batch = worldBatch(5, 0, 8, 0.5, 8, TINY_WORLD, cfg.denseSplit);
  const opt = new AdamW(clip.parameters(), { lr: 1e-2 });
  const losses: { i2t: number; t2i: number; mention: number; region: number; patch: number }[] = [];
  // The image tower starts near-collapsed (every image embeds alike, t2i ≈ log B); it takes ~45 steps to split.
  for (let it = 0; it < 70; it++) {
    tidy(() => {
      opt.zeroGrad();
      const l = pretrainLoss(clip, batch, cfg);
      losses.push({ i2t: l.i2t.item(), t2i: l.t2i.item(), mention: l.mention!.item(), region: l.region!.item(), patch: l.patch!.item() });
      l.total.backward();
      opt.step();
    }, () => [...clip.parameters(), ...opt.stateTensors()]); // the new weights and moments outlive the step
  }
  const first = losses[0], last = losses[losses.length - 1];
  t.ok(last.i2t < first.i2t - 0.1, `image->text InfoNCE ${first.i2t.toFixed(3)} -> ${last.i2t.toFixed(3)}`);
  t.ok(last.t2i < first.t2i - 0.1, `text->image InfoNCE ${first.t2i.toFixed(3)} -> ${last.t2i.toFixed(3)}`);
  t.ok(last.mention < first.mention - 0.1, `caption mentions ${first.mention.toFixed(3)} -> ${last.mention.toFixed(3)}`);
  t.ok(last.region < first.region - 0.1, `region-text ${first.region.toFixed(3)} -> ${last.region.toFixed(3)}`);
  t.ok(last.patch < first.patch - 0.1, `per-patch ${first.patch.toFixed(3)} -> ${last.patch.toFixed(3)}`);
  t.end();
});

t.test('the gates are measured on held-out scenes', (t) => {
  const clip = createWorldClip(TINY_CLIP, 0);
  const zs = zeroShotAccuracy(clip, TINY_WORLD, 123, 2);
  t.equal(zs.perClass.length, 12);
  t.ok(zs.accuracy >= 0 && zs.accuracy <= 1);
  t.equal(zs.accuracy, zs.perClass.reduce((a, b) => a + b, 0) / 12, 'mean of the per-class accuracies (balanced)');
  const p = patchProbe(clip, TINY_WORLD, 321, 10, 6, 20);
  t.ok(p.trainPatches > 0 && p.testPatches > 0, `${p.trainPatches} / ${p.testPatches} patches`);
  t.ok(p.output >= 0 && p.output <= 1 && p.value >= 0 && p.value <= 1);
  t.end();
});

t.test('spt-seg pretrain --eval reads a run\'s loop checkpoint mid-run, and names a file it cannot read', async (t) => {
  const dir = tempDir('pretrain-eval');
  const run = join(dir, 'run');
  const { clip } = await pretrain({ ...TINY, steps: 2 }, { outDir: run, label: null, checkpointEvery: 1 });
  const out: string[] = [], err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const code = await main(['pretrain', '--eval', join(run, 'checkpoint.safetensors')], io);
  t.equal(code, 1, 'a 2-step model does not pass (exit 1)');
  t.match(out.join('\n'), /^zero-shot shape accuracy \d+\.\d%$/m);
  t.match(out.join('\n'), /^patch probe \d+\.\d%/m);
  t.match(out.join('\n'), /gate: NOT passed/);
  // The checkpoint's model is the run's model (the gates read the same weights).
  const zs = zeroShotAccuracy(clip, TINY_WORLD, 1_000_001);
  t.match(out.join('\n'), new RegExp(`zero-shot shape accuracy ${(100 * zs.accuracy).toFixed(1)}%`));
  const bad = join(dir, 'not-a-model.safetensors');
  writeFileSync(bad, 'hello');
  t.not(await main(['pretrain', '--eval', bad], io), 0);
  t.match(err.join('\n'), /not-a-model\.safetensors/, 'the error names the file');
});

t.test('no dense target of an unseen class is ever built', (t) => {
  // The default recipe reads captions only: its batches carry no dense target at all.
  t.equal(usesDenseTerms(PRETRAIN_DEFAULTS), false, 'the default recipe has no mask-derived term');
  t.equal(new WorldStream(1, 8, 0.4, 8, WORLD_DEFAULTS).next().dense, null, 'no dense targets by default');
  // Switched on, the dense terms see seen classes only, though unseen shapes fill the scenes.
  const stream = new WorldStream(1, 32, 0.4, 8, WORLD_DEFAULTS, DEFAULT_SPLIT);
  let unseenObjects = 0, targets = 0;
  for (let k = 0; k < 12; k++) {
    const b = stream.next();
    unseenObjects += b.scenes.flatMap((s) => s.objects).filter((o) => DEFAULT_SPLIT.unseen.includes(o.cls as 9)).length;
    const ids = [...b.dense!.regionClasses.toArray(), ...b.dense!.patchClasses.toArray()];
    targets += ids.length;
    t.ok(ids.every((c) => DEFAULT_SPLIT.seen.includes(c as 0)), `batch ${k}: every target is a seen class`);
  }
  t.ok(unseenObjects > 50 && targets > 1000, `${unseenObjects} unseen objects drawn, ${targets} targets built, none unseen`);
  // The builder refuses a split that lets an unseen class in, and the guard names the class.
  t.throws(() => worldBatch(0, 0, 4, 0, 8, WORLD_DEFAULTS, { seen: [...DEFAULT_SPLIT.seen, 10], unseen: DEFAULT_SPLIT.unseen }), /class 10 is listed as both seen and unseen/);
  t.throws(() => assertSeenTargets([3, 10], DEFAULT_SPLIT, 'patch targets'), /patch targets: target class 10 is not a seen class/);
  // A dense term switched on without targets is an error, not a silent skip.
  const clip = createWorldClip(TINY_CLIP, 0);
  t.throws(() => pretrainLoss(clip, worldBatch(0, 0, 4, 0, 8, TINY_WORLD), { ...TINY, patchWeight: 1 }), /no dense targets/);
  t.end();
});
