/**
 * Segmentation training and evaluation of SPT-SEG: the glue between the data (train/data), the
 * model (model/segmenter.ts), the criterion (train/losses) and the one loop (train/loop.ts).
 *
 * Does:
 *   segmentationTask  a TrainTask for runTraining: batches from a SegLoader, labels mapped to the
 *                     training classes, mask logits from the model, sptLoss; AdamW over the official
 *                     trainable set with mmcv's lr multiplier, poly + warmup (method.md §4.1).
 *     inductive     (method.md §4.4) only the seen classes' text embeddings; a pixel whose class is
 *                     unseen becomes 255 (ignored), as `_visiable_mask` does.
 *     transductive  every class's embedding; a pixel whose class is unseen is relabelled with the
 *                     argmax of the current prediction over the unseen classes only (the location
 *                     comes from the ground truth, the class from the model: `_visiable_mask_st`).
 *   evaluateSegmentation  the test pipeline, model/segment-image.ts `segmentImage` (the one inference
 *                     path `spt-seg segment`, the API and the web page take: keep-ratio resize, slide
 *                     inference with the seen-class offset, resize of the probabilities back to the
 *                     label size, argmax) without a background rule, into a confusion matrix;
 *                     mIoU(S), mIoU(U), hIoU, pAcc (train/metrics.ts).
 * Does not: parse flags or print (cli/), build the model from files (train/setup.ts).
 *
 * Glossary: B batch, C classes given to the model, K all classes of the dataset, H x W label size.
 */
import { defaultGenerator, interpolate, manualSeed, noGrad, tensor, type Tensor } from '../engine/index.ts';
import { AdamW, polyLr } from '../engine/optim/index.ts';
import { completeCard } from '../model/model-card.ts';
import { segmentImage } from '../model/segment-image.ts';
import { freeze, type SptSeg } from '../model/segmenter.ts';
import type { SegDataset } from './data/dataset.ts';
import type { SegBatch } from './data/loader.ts';
import { normalizationStats, type Normalization } from './data/augment.ts';
import { sptLoss, type IgnoreMode } from './losses/spt-loss.ts';
import { ConfusionMatrix, type SegMetrics } from './metrics.ts';
import type { DataStream, LossTerms, TrainTask } from './loop.ts';

/** What the task needs of a batch: normalised images [B, 3, H, W] and train-id labels [B, H, W] (255 = ignore). */
export type LabelledBatch = Pick<SegBatch, 'images' | 'labels'>;

export type Setting = 'inductive' | 'transductive';

export interface SegTaskOptions {
  setting: Setting;
  /** Text embeddings of every class of the dataset, [K, E], in train-id order. */
  text: Tensor;
  seenIds: readonly number[];
  unseenIds: readonly number[];
  steps: number;
  lr: number;
  /** mmcv custom_keys lr_mult of backbone.* and decode_head.* (10). */
  lrMult: number;
  weightDecay: number;
  warmupIters: number;
  power: number;
  minLr: number;
  loss: { focal: number; ssim: number; dice: number; ignoreMode: IgnoreMode; ssimInput?: 'logits' | 'probabilities' };
  trainSpectral: boolean;
  /** Seed of dropout's random stream. */
  seed: number;
}

/**
 * The lookup table from dataset train ids to the model's class indices: seen id n → its index in
 * `seenIds`, every other id → 255 (inductive); the identity for every id (transductive). 255 → 255.
 */
export function labelMap(numClasses: number, seenIds: readonly number[], setting: Setting): Int32Array {
  const map = new Int32Array(256).fill(255);
  if (setting === 'transductive') for (let c = 0; c < numClasses; c++) map[c] = c;
  else seenIds.forEach((id, i) => { map[id] = i; });
  return map;
}

/** Labels [B, H, W] int32 mapped through `map` (values outside 0..255 are an error naming them). */
export function remapLabels(labels: Tensor, map: Int32Array): Tensor {
  const src = labels.data();
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!(v >= 0 && v < 256)) throw new Error(`label value ${v} at flat index ${i} is outside 0..255`);
    out[i] = map[v];
  }
  return tensor(out, labels.shape, { dtype: 'int32', like: labels });
}

/**
 * Transductive pseudo-labels: where the ground truth is an unseen class, the argmax of the sigmoid of
 * the (upsampled) logits over the unseen classes only; other pixels keep their label. No gradient.
 */
export function pseudoLabel(logits: Tensor, labels: Tensor, unseenIds: readonly number[]): Tensor {
  const [B, , H, W] = [labels.shape[0], 0, labels.shape[1], labels.shape[2]];
  const probs = noGrad(() => interpolate(logits, [H, W]).sigmoid()).data(); // [B, K, H, W]
  const K = logits.shape[1];
  const unseen = new Set(unseenIds);
  const lab = labels.data();
  const out = new Int32Array(lab.length);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < H * W; p++) {
      const v = lab[b * H * W + p];
      if (!unseen.has(v)) { out[b * H * W + p] = v; continue; }
      let best = -1, bestP = -Infinity;
      for (const c of unseenIds) {
        const q = probs[(b * K + c) * H * W + p];
        if (q > bestP) { bestP = q; best = c; }
      }
      out[b * H * W + p] = best;
    }
  }
  return tensor(out, labels.shape, { dtype: 'int32', like: labels });
}

/** A TrainTask over `loader`'s batches (a SegLoader, or any stream of labelled batches) for runTraining. */
export function segmentationTask<B extends LabelledBatch>(model: SptSeg, loader: DataStream<B>, opts: SegTaskOptions): TrainTask<B> {
  const K = opts.text.shape[0];
  const map = labelMap(K, opts.seenIds, opts.setting);
  // Inductive training sees only the seen classes' embeddings, in seenIds order.
  const text = opts.setting === 'inductive'
    ? opts.text.indexSelect(0, tensor(opts.seenIds as number[], [opts.seenIds.length], { dtype: 'int32', like: opts.text })) // [S, E]
    : opts.text; // [K, E]
  const params = freeze(model, { trainSpectral: opts.trainSpectral });
  // mmcv: every backbone.* and decode_head.* parameter matches a custom key with lr_mult 10, and the
  // first match wins, so the norms' decay_mult 0 never applies (method.md §4.1).
  const optimizer = new AdamW([{ params, lrMult: opts.lrMult, name: 'backbone+decode_head' }], { lr: opts.lr, weightDecay: opts.weightDecay });
  const schedule = polyLr({
    baseLr: opts.lr, maxIters: opts.steps, power: opts.power, minLr: opts.minLr / opts.lrMult, warmupIters: opts.warmupIters,
  });
  model.train();
  manualSeed(opts.seed); // dropout's stream (prompt dropout, decoder dropouts) starts from the run's seed
  return {
    model,
    optimizer,
    schedule,
    data: loader,
    generators: { default: defaultGenerator }, // dropout draws from it: saved, so a resumed run draws the same masks
    modelState: () => new Map(model.namedParameters().filter(([, p]) => p.requiresGrad)),
    loadModelState: (tensors) => noGrad(() => { model.loadStateDict(tensors, { strict: false }); }),
    loss(batch: B): LossTerms {
      const { maskLogits } = model.forward(batch.images, text); // [B, C, gh, gw]
      let labels = remapLabels(batch.labels, map); // [B, H, W]
      if (opts.setting === 'transductive') labels = pseudoLabel(maskLogits, labels, opts.unseenIds);
      const terms = sptLoss(maskLogits, labels, {
        focalWeight: opts.loss.focal, ssimWeight: opts.loss.ssim, diceWeight: opts.loss.dice, ignoreMode: opts.loss.ignoreMode,
        ssimInput: opts.loss.ssimInput,
      });
      // The SSIM term is logged as what it is, 1 − SSIM.
      const out: LossTerms = { total: terms.total, focal: terms.focal, '1-ssim': terms.ssim };
      if (terms.dice) out.dice = terms.dice;
      return out;
    },
  };
}

export interface EvalOptions {
  text: Tensor;
  seenIds: readonly number[];
  unseenIds: readonly number[];
  /** Seen-class offset subtracted from the seen probabilities (0.1 inductive, 0 transductive). */
  offset: number;
  /** Test-time short side; the model's input side (512 for ViT-B/16), the only one allowed, is the default. */
  crop?: number;
  stride?: number;
  normalization?: Normalization;
  /** Evaluate at most this many images (default all). */
  limit?: number;
  /** Called after each image (a progress bar; a sample picture). */
  onImage?: (i: number, n: number, pred: Uint8Array, sample: { image: Uint8Array; label: Uint8Array; height: number; width: number; name: string }) => void | Promise<void>;
}

export interface EvalResult {
  metrics: SegMetrics;
  confusion: ConfusionMatrix;
  images: number;
}

/** Evaluate `model` on `dataset` with every class (zero-shot: the unseen ones too). */
export async function evaluateSegmentation(model: SptSeg, dataset: SegDataset, opts: EvalOptions): Promise<EvalResult> {
  const K = dataset.classNames.length;
  if (opts.text.shape[0] !== K) throw new Error(`evaluate: ${opts.text.shape[0]} text embeddings for ${K} classes`);
  const seen = new Set(opts.seenIds);
  const seenMask = Array.from({ length: K }, (_, c) => seen.has(c));
  const side = Math.min(...model.inputSize);
  if (opts.crop !== undefined && opts.crop !== side) throw new Error(`evaluate: crop ${opts.crop} is not the model's input side ${side} (the test pipeline resizes the short side to it)`);
  // The card segmentImage reads: this run's normalisation and offset, and no background rule (every
  // labelled pixel is scored with a class).
  const { card } = completeCard(model.config, {
    normalization: normalizationStats(opts.normalization ?? 'imagenet'), offset: opts.offset, background: { rule: 'none' },
  });
  const cm = new ConfusionMatrix(K);
  const n = Math.min(dataset.length, opts.limit ?? Infinity);
  for (let i = 0; i < n; i++) {
    const sample = await dataset.get(i);
    const rgb = { width: sample.width, height: sample.height, channels: 3, data: sample.image };
    const r = await segmentImage(model, card, opts.text, rgb, { classes: dataset.classNames, seen: seenMask, background: false, stride: opts.stride });
    const pred = Uint8Array.from(r.labels); // [H, W], a class everywhere (no background rule)
    cm.update(pred, sample.label);
    await opts.onImage?.(i, n, pred, sample);
  }
  return { metrics: cm.compute({ seen: opts.seenIds, unseen: opts.unseenIds }), confusion: cm, images: n };
}
