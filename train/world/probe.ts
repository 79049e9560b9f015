/**
 * The gate of the world's CLIP (zero-shot accuracy) and its patch probe (reported, not a gate), measured
 * on fresh held-out scenes (docs/world.md):
 *
 *   zeroShotAccuracy  single centred objects, 20 per class, classified by cosine similarity of the
 *                     image embedding with "a photo of a {shape}" for all 12 shapes (chance 8.3%);
 *   patchProbe        a multinomial logistic regression on frozen patch features -> the patch's
 *                     majority class. Train scenes and test scenes are disjoint; patches whose
 *                     majority is background are left out (the probe asks which shape, not whether
 *                     there is one). Two feature sets are probed: the usual dense output
 *                     ln_post(x_L) @ proj, and MaskCLIP's value path of the last block (Zhou et al.
 *                     2022: q-k attention dropped, v -> out_proj, + residual, + MLP, ln_post, proj).
 *
 * Does not: train the CLIP (train/pretrain.ts). Glossary: B scenes, N patches, E embedding width,
 *   F features, K = 12 classes, M probed patches.
 */
import { crossEntropy, linear, noGrad, tensor, tidy, zeros, type Tensor } from '../../engine/index.ts';
import { Parameter } from '../../engine/nn/index.ts';
import { AdamW } from '../../engine/optim/index.ts';
import { l2normalize, type CLIP } from '../../model/clip.ts';
import { BACKGROUND, WORLD_CLASS_NAMES } from './classes.ts';
import { imagesOf, patchLabels } from './batch.ts';

export { patchLabels };
import { drawWorldScene, sceneGenerator, type WorldScene, type WorldSettings } from './scenes.ts';

/** The zero-shot prompt of the gate. */
export const ZERO_SHOT_TEMPLATE = 'a photo of a {}';

/** Zero-shot accuracy on `perClass` single centred objects of each class; scenes from `seed`. */
export function zeroShotAccuracy(clip: CLIP, world: WorldSettings, seed: number, perClass = 20): { accuracy: number; perClass: number[] } {
  const K = WORLD_CLASS_NAMES.length;
  const correct = new Array<number>(K).fill(0);
  noGrad(() => tidy(() => {
    const text = clip.encodeTextPrompts(WORLD_CLASS_NAMES, [ZERO_SHOT_TEMPLATE]); // [K, E], unit rows
    for (let start = 0; start < K * perClass; start += 60) {
      const n = Math.min(60, K * perClass - start);
      const scenes = Array.from({ length: n }, (_, i) =>
        drawWorldScene(sceneGenerator(seed, start + i), world, { objects: 1, centred: true, cls: (start + i) % K }));
      tidy(() => {
        const img = l2normalize(clip.encodeImage(imagesOf(scenes))); // [B, E]
        const pred = img.matmul(text.t()).argmax(1).toArray(); // [B]
        scenes.forEach((sc, i) => { if (pred[i] === sc.objects[0].cls) correct[sc.objects[0].cls]++; });
      });
    }
  }));
  return { accuracy: correct.reduce((a, b) => a + b, 0) / (K * perClass), perClass: correct.map((c) => c / perClass) };
}

/** Patch features of both kinds, [B, N, E] each, without gradients. */
export function denseFeatures(clip: CLIP, images: Tensor): { output: Tensor; value: Tensor } {
  return noGrad(() => {
    const vis = clip.visual;
    const blocks = [...vis.transformer.resblocks];
    let x = vis.embed(images).tokens; // [B, 1 + N, D]
    for (const blk of blocks.slice(0, -1)) x = blk.forward(x);
    const last = blocks[blocks.length - 1];
    const out = last.forward(x); // [B, 1 + N, D]
    const D = x.shape[2];
    // MaskCLIP: the last block's attention replaced by its value projection (each token attends to itself).
    const wv = last.attn.in_proj_weight.slice(0, 2 * D, 3 * D); // [D, D]
    const bv = last.attn.in_proj_bias.slice(0, 2 * D, 3 * D); // [D]
    let v = last.attn.out_proj.forward(linear(last.ln_1.forward(x), wv, bv)).add(x); // [B, 1 + N, D]
    v = v.add(last.mlp.forward(last.ln_2.forward(v))); // [B, 1 + N, D]
    const project = (t: Tensor) => vis.ln_post.forward(t.slice(1, 1)).matmul(vis.proj); // [B, N, E]
    return { output: project(out), value: project(v) };
  });
}

interface ProbeData { features: { output: number[][]; value: number[][] }; labels: number[] }

function collect(clip: CLIP, world: WorldSettings, seed: number, count: number, patch: number): ProbeData {
  const data: ProbeData = { features: { output: [], value: [] }, labels: [] };
  for (let start = 0; start < count; start += 50) {
    const scenes = Array.from({ length: Math.min(50, count - start) }, (_, i) => drawWorldScene(sceneGenerator(seed, start + i), world));
    tidy(() => {
      const f = denseFeatures(clip, imagesOf(scenes));
      const [B, N, E] = f.output.shape;
      const out = f.output.toArray(), val = f.value.toArray();
      for (let b = 0; b < B; b++) {
        patchLabels(scenes[b], patch).forEach((l, n) => {
          if (l === BACKGROUND) return;
          const at = (b * N + n) * E;
          data.features.output.push(Array.from(out.slice(at, at + E)));
          data.features.value.push(Array.from(val.slice(at, at + E)));
          data.labels.push(l);
        });
      }
    });
  }
  return data;
}

/** Softmax regression on standardised features (AdamW, full batch, `iters` steps); test accuracy. */
function logisticProbe(train: number[][], trainY: number[], test: number[][], testY: number[], iters: number): number {
  const F = train[0].length, K = WORLD_CLASS_NAMES.length;
  const mean = new Array<number>(F).fill(0), std = new Array<number>(F).fill(0);
  for (const r of train) r.forEach((v, j) => { mean[j] += v / train.length; });
  for (const r of train) r.forEach((v, j) => { std[j] += (v - mean[j]) ** 2 / train.length; });
  const scale = (rows: number[][]) => tensor(rows.flatMap((r) => r.map((v, j) => (v - mean[j]) / Math.sqrt(std[j] + 1e-8))), [rows.length, F]);
  const x = scale(train), xt = scale(test); // [M, F]
  const y = tensor(trainY, [trainY.length], { dtype: 'int32' });
  const w = new Parameter(zeros([K, F])), b = new Parameter(zeros([K]));
  const opt = new AdamW([w, b], { lr: 0.05, weightDecay: 1e-3 });
  for (let it = 0; it < iters; it++) {
    tidy(() => {
      opt.zeroGrad();
      crossEntropy(linear(x, w, b), y).backward();
      opt.step();
    }, () => [w, b, ...opt.stateTensors()]); // the new weights and moments outlive the step
  }
  const pred = noGrad(() => linear(xt, w, b).argmax(1).toArray()); // [M]
  return testY.filter((l, i) => pred[i] === l).length / Math.max(1, testY.length);
}

export interface ProbeResult {
  /** Test accuracy of the probe on the usual dense output and on the value path. */
  output: number;
  value: number;
  trainPatches: number;
  testPatches: number;
}

/** The per-patch probe: `trainScenes` scenes from seed, `testScenes` from seed + 1. */
export function patchProbe(clip: CLIP, world: WorldSettings, seed: number, trainScenes = 150, testScenes = 100, iters = 150): ProbeResult {
  const patch = clip.config.vision.patchSize;
  const tr = collect(clip, world, seed, trainScenes, patch);
  const te = collect(clip, world, seed + 1, testScenes, patch);
  return {
    output: logisticProbe(tr.features.output, tr.labels, te.features.output, te.labels, iters),
    value: logisticProbe(tr.features.value, tr.labels, te.features.value, te.labels, iters),
    trainPatches: tr.labels.length, testPatches: te.labels.length,
  };
}
