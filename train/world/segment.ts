/**
 * SPT-SEG on the zero-shot shapes world: train on the seen classes only, then segment every class,
 * the unseen ones from their names alone (what `spt-seg world` and `npm start` run).
 *
 * Does:
 *   WorldSegStream   an endless stream of labelled batches (batch k depends only on (seed, k)); in the
 *                    inductive setting the loss sees seen classes only (train/segmentation.ts maps the
 *                    unseen pixels to 255, as the official `_visiable_mask`).
 *   worldClassText   the class-name embeddings from the world CLIP's text tower ("a photo of a {}").
 *   sptLogits / clipScores   per-class scores [B, K, S, S]: SPT-SEG's upsampled mask logits, and
 *                    the frozen-CLIP baseline's cosine of the dense CLIP features with each class
 *                    embedding, upsampled (no training; the last block's output tokens, or MaskCLIP's
 *                    value path).
 *   argmaxWithOffset the predicted class per pixel. SPT-SEG's offset is subtracted from its sigmoid
 *                    probabilities, as the paper does, but the sigmoid is taken in float64 from the
 *                    logits and ties go to the larger logit: in float32 every logit above 16.6 gives
 *                    exactly 1.0, and those ties would go to the lowest class id.
 *   metricsAt        a confusion matrix over scenes for a given seen-class offset; `tuneOffset` picks
 *                    the offset with the best hIoU on validation scenes (never the test scenes).
 * Does not: print, write files (cli/commands/world.ts), or pretrain the CLIP (train/pretrain.ts).
 *
 * Glossary: B scenes, K classes (12), S image side, E embedding width.
 */
import { interpolate, noGrad, normalize, tensor, tidy, type Tensor } from '../../engine/index.ts';
import type { CLIP } from '../../model/clip.ts';
import type { SptSeg } from '../../model/segmenter.ts';
import { classTextEmbeddings } from '../../model/text-embeddings.ts';
import { asNumber, asObject, type StateTree } from '../../engine/optim/state.ts';
import { ConfusionMatrix, type SegMetrics } from '../metrics.ts';
import type { DataStream } from '../loop.ts';
import { imagesOf } from './batch.ts';
import { denseFeatures, ZERO_SHOT_TEMPLATE } from './probe.ts';
import { drawWorldScene, sceneGenerator, type WorldScene, type WorldSettings } from './scenes.ts';

export interface WorldLabelledBatch {
  images: Tensor; // [B, 3, S, S]
  labels: Tensor; // [B, S, S] int32, 255 = background
  scenes: WorldScene[];
}

/** Labels [B, S, S] int32 of scenes (class index, 255 = background). */
export function labelsOf(scenes: readonly WorldScene[]): Tensor {
  const S = scenes[0].size;
  const out = new Int32Array(scenes.length * S * S);
  scenes.forEach((sc, b) => out.set(sc.labels, b * S * S));
  return tensor(out, [scenes.length, S, S], { dtype: 'int32' });
}

/** Scenes [start, start + n) of the stream with this seed. */
export function worldScenes(seed: number, start: number, n: number, world: WorldSettings): WorldScene[] {
  return Array.from({ length: n }, (_, i) => drawWorldScene(sceneGenerator(seed, start + i), world));
}

/** An endless stream of labelled world batches; its state is the index of the next batch. */
export class WorldSegStream implements DataStream<WorldLabelledBatch> {
  private k = 0;
  constructor(readonly seed: number, readonly batchSize: number, readonly world: WorldSettings) {}

  next(): WorldLabelledBatch {
    const scenes = worldScenes(this.seed, this.k++ * this.batchSize, this.batchSize, this.world);
    return { images: imagesOf(scenes), labels: labelsOf(scenes), scenes };
  }

  stateDict(): { next: number } {
    return { next: this.k };
  }

  loadStateDict(state: StateTree): void {
    this.k = asNumber(asObject(state, 'WorldSegStream state').next, 'WorldSegStream state: "next"');
  }
}

/** The class embeddings [K, E] from the world CLIP's text tower, one template (VOC's, no period). */
export function worldClassText(clip: CLIP, classNames: readonly string[]): Tensor {
  return classTextEmbeddings(clip, classNames, [ZERO_SHOT_TEMPLATE]);
}

/** SPT-SEG's mask logits upsampled to the image, [B, K, S, S] (eval mode, no gradient). */
export function sptLogits(model: SptSeg, images: Tensor, text: Tensor): Float32Array {
  const wasTraining = model.training;
  model.eval();
  try {
    return Float32Array.from(noGrad(() => model.predMasks(images, text)).data()); // [B, K, S, S]
  } finally {
    model.train(wasTraining);
  }
}

/** What a score array holds: mask logits (SPT-SEG) or scores compared as they are (cosines). */
export type ScoreKind = 'logits' | 'scores';

/**
 * The frozen-CLIP baseline's scores [B, K, S, S]: cosine similarity of each patch's dense CLIP feature
 * with each class embedding, upsampled bilinearly. `path` picks the feature: 'output' the last block's
 * patch tokens (what SPT-SEG's encoder reads), 'value' the last block's value path (MaskCLIP).
 */
export function clipScores(clip: CLIP, images: Tensor, text: Tensor, path: 'output' | 'value' = 'output'): Float32Array {
  return noGrad(() => {
    const features = denseFeatures(clip, images)[path]; // [B, N, E]
    const [B, N] = features.shape;
    const g = Math.round(Math.sqrt(N));
    const sim = normalize(features, { dim: -1 }).matmul(text.transpose(0, 1)); // [B, N, K]
    const maps = sim.permute([0, 2, 1]).reshape([B, text.shape[0], g, g]); // [B, K, g, g]
    return Float32Array.from(interpolate(maps, [images.shape[2], images.shape[3]]).data()); // [B, K, S, S]
  });
}

/**
 * The class per pixel, [B, S·S], from scores [B, K, S·S]. `offset` is subtracted from the seen
 * classes' probabilities: for 'logits' the probability is the float64 sigmoid of the logit and a tie
 * goes to the larger logit (so offset 0 is exactly the argmax of the logits); 'scores' are compared as
 * they are. Remaining ties go to the lowest class id.
 */
export function argmaxWithOffset(
  scores: Float32Array, B: number, K: number, pixels: number, seen: ReadonlySet<number>, offset: number, kind: ScoreKind,
): Uint8Array {
  const out = new Uint8Array(B * pixels);
  const shift = Float64Array.from({ length: K }, (_, c) => (seen.has(c) ? offset : 0));
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < pixels; p++) {
      let best = 0, bestV = -Infinity, bestRaw = -Infinity;
      for (let c = 0; c < K; c++) {
        const raw = scores[(b * K + c) * pixels + p];
        const v = (kind === 'logits' ? 1 / (1 + Math.exp(-raw)) : raw) - shift[c];
        if (v > bestV || (v === bestV && raw > bestRaw)) { bestV = v; bestRaw = raw; best = c; }
      }
      out[b * pixels + p] = best;
    }
  }
  return out;
}

export interface ScoredScenes {
  /** Scores of every batch, kept so offsets can be compared without running the model again. */
  batches: { scores: Float32Array; labels: Uint8Array; n: number }[];
  kind: ScoreKind;
  K: number;
  pixels: number;
}

/** Run `probabilities` over `scenes` in batches (the model runs once; offsets are applied after). */
export function scoreScenes(
  scenes: readonly WorldScene[], K: number, batchSize: number, kind: ScoreKind, scoresOf: (images: Tensor) => Float32Array,
  onBatch?: (scenesDone: number) => void,
): ScoredScenes {
  const batches: ScoredScenes['batches'] = [];
  for (let i = 0; i < scenes.length; i += batchSize) {
    const chunk = scenes.slice(i, i + batchSize);
    const labels = new Uint8Array(chunk.length * chunk[0].labels.length);
    chunk.forEach((sc, b) => labels.set(sc.labels, b * sc.labels.length));
    // A scope per batch: its intermediates' arrays are reused by the next batch (kernels/cpu/pool.ts).
    batches.push({ scores: tidy(() => scoresOf(imagesOf(chunk))), labels, n: chunk.length });
    onBatch?.(i + chunk.length);
  }
  return { batches, kind, K, pixels: scenes[0].size * scenes[0].size };
}

/** Metrics of scored scenes at one seen-class offset. */
export function metricsAt(scored: ScoredScenes, seenIds: readonly number[], unseenIds: readonly number[], offset: number): SegMetrics {
  const cm = new ConfusionMatrix(scored.K);
  const seen = new Set(seenIds);
  for (const b of scored.batches) cm.update(argmaxWithOffset(b.scores, b.n, scored.K, scored.pixels, seen, offset, scored.kind), b.labels);
  return cm.compute({ seen: seenIds, unseen: unseenIds });
}

/** The offset among `candidates` with the best hIoU on the (validation) scores; ties go to the smaller. */
export function tuneOffset(scored: ScoredScenes, seenIds: readonly number[], unseenIds: readonly number[], candidates: readonly number[]): { offset: number; hIoU: number } {
  let best = { offset: candidates[0], hIoU: -Infinity };
  for (const offset of candidates) {
    const h = metricsAt(scored, seenIds, unseenIds, offset).hIoU;
    const v = Number.isNaN(h) ? -1 : h;
    if (v > best.hIoU) best = { offset, hIoU: v };
  }
  return best;
}
