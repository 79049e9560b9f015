/**
 * The SPT-SEG training criterion (method.md §3; [SPT] `models/losses/criterion.py` `SegLossPlus` /
 * `SegPlusCriterion.loss_masks`, the target preparation of `atm_loss.py`):
 *
 *     total = 100 · focal + 1 · (1 − SSIM)          (+ an optional dice term, ZegCLIP's choice)
 *
 * Does:
 *   1. Upsamples the mask logits [B, C, h, w] bilinearly (align_corners = False) to the label size
 *      [H, W] when the two differ (engine/functional/interpolate.ts: two matmuls, constants on the
 *      logits' backend).
 *   2. Builds the one-hot targets [B, C, H, W] from the labels [B, H, W]: target[b, c] = (label == c);
 *      a pixel labelled `ignoreIndex` (255) gets the all-zero vector (method.md §3.1).
 *   3. num_masks = Σ over images of the number of distinct non-ignored labels in that image (two
 *      images that both contain class 3 count 2), at least 1.
 *   4. focal = sigmoidFocalLoss(logits, targets, num_masks) (focal.ts), ssim = 1 − SSIM(logits,
 *      targets) on the RAW logits (ssim.ts; `ssimInput: 'probabilities'` compares sigmoid(logits)
 *      instead, our option), dice = diceLoss(...) (dice.ts) when its weight is not 0.
 *
 * Ignored pixels, two modes:
 *   'reference' (default): exactly the official behaviour. Ignored pixels keep their all-zero target
 *     and are counted in every mean, so they act as negatives for every class: the model is pushed
 *     to predict "no class" on unseen-class pixels, VOC background and padding (method.md §3.1).
 *   'mask': a corrected mode. Ignored pixels are left out: the focal mean of each mask divides by
 *     the image's number of valid pixels, the SSIM mean runs over valid positions only, and dice sums
 *     over valid pixels only. The SSIM windows of valid pixels near an ignored region still see the
 *     logits there (the blur is not masked), so those logits still get a (small) gradient.
 * Does not: aux losses of the intermediate decoder layers (dead in the official code, method.md
 *   §2.5), the classification / contrastive terms, or all-reducing num_masks across processes.
 *
 * Glossary: B batch, C classes, h, w logit size, H, W label size.
 */
import { interpolate, Tensor } from '../../engine/index.ts';
import { diceLoss } from './dice.ts';
import { sigmoidFocalLoss } from './focal.ts';
import { ssim } from './ssim.ts';

/**
 * How `sptLoss` treats ignored pixels: 'reference' (default) exactly as the official code, 'mask' a corrected
 * mode that leaves them out (see the file header).
 */
export type IgnoreMode = 'reference' | 'mask';

/** Weights and settings of `sptLoss` (defaults: the SPT-SEG configs). */
export interface SPTLossOptions {
  /** Weight of the focal term (`mask_weight`, 100 in the ZegCLIP configs). */
  focalWeight?: number;
  /** Weight of the SSIM term 1 − SSIM (`dice_weight`, 1). */
  ssimWeight?: number;
  /** Weight of the dice term; 0 (default, as SPT) leaves it out. ZegCLIP uses 1 instead of SSIM. */
  diceWeight?: number;
  /** Focal loss α and γ. */
  alpha?: number;
  gamma?: number;
  /** SSIM window side and Gaussian σ. */
  windowSize?: number;
  sigma?: number;
  /** Label value that marks an ignored pixel. */
  ignoreIndex?: number;
  /** How ignored pixels enter the losses (see the file header). */
  ignoreMode?: IgnoreMode;
  /**
   * What SSIM compares with the one-hot targets: 'logits' (default, the official code: the raw,
   * unbounded logits, although SSIM's constants C1, C2 assume values in [0, 1]) or 'probabilities'
   * (sigmoid of the logits, our deviation; docs/world.md measures both).
   */
  ssimInput?: 'logits' | 'probabilities';
}

/** `sptLoss`'s result: each term before its weight, the total to backpropagate, and num_masks. */
export interface SPTLossTerms {
  /** The focal loss (before its weight). */
  focal: Tensor;
  /** The SSIM loss term 1 − SSIM (before its weight). */
  ssim: Tensor;
  /** The dice loss (before its weight), present when diceWeight is not 0. */
  dice?: Tensor;
  /** focalWeight · focal + ssimWeight · ssim (+ diceWeight · dice): the scalar to backpropagate. */
  total: Tensor;
  /** The normaliser of focal and dice (a plain number, at least 1). */
  numMasks: number;
}

/** What sptLoss derives from the labels: one-hot targets, the valid-pixel mask and num_masks. */
export interface PreparedTargets {
  /** [B, C, H, W] 0/1, all zero at ignored pixels, in the logits' dtype and backend. */
  targets: Tensor;
  /** [B, 1, H, W] 1 where the label is not ignored. */
  valid: Tensor;
  numMasks: number;
}

/**
 * The official `prepare_targets` + `num_masks`: labels [B, H, W] (integers in [0, C) or ignoreIndex)
 * to one-hot targets on `like`'s backend and dtype. Any other label value is an error naming it.
 *
 * @example
 * const targets = prepareTargets(batch.labels, 20, out.maskLogits);
 */
export function prepareTargets(labels: Tensor, numClasses: number, like: Tensor, ignoreIndex = 255): PreparedTargets {
  if (labels.ndim !== 3) throw new Error(`sptLoss: labels must be [B, H, W], got [${labels.shape}]`);
  const [B, H, W] = labels.shape;
  const P = H * W;
  const values = labels.data();
  const onehot = new Float64Array(B * numClasses * P);
  const valid = new Float64Array(B * P);
  const seen = new Uint8Array(numClasses);
  let numMasks = 0;
  for (let b = 0; b < B; b++) {
    seen.fill(0);
    for (let i = 0; i < P; i++) {
      const v = values[b * P + i];
      if (v === ignoreIndex) continue;
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        const y = Math.floor(i / W), x = i % W;
        throw new RangeError(`sptLoss: label ${v} at [${b}, ${y}, ${x}] is outside [0, ${numClasses}) and is not the ignore index ${ignoreIndex}`);
      }
      onehot[(b * numClasses + v) * P + i] = 1;
      valid[b * P + i] = 1;
      if (!seen[v]) {
        seen[v] = 1;
        numMasks++;
      }
    }
  }
  const backend = like.storage.backend;
  return {
    targets: new Tensor(backend.fromArray(onehot, like.dtype), [B, numClasses, H, W]),
    valid: new Tensor(backend.fromArray(valid, like.dtype), [B, 1, H, W]),
    numMasks: Math.max(numMasks, 1),
  };
}

/**
 * The SPT-SEG loss of mask logits [B, C, h, w] against integer labels [B, H, W] (255 = ignore).
 *
 *   const { total, focal, ssim } = sptLoss(logits, labels);   // total = 100·focal + ssim
 *   total.backward();
 */
export function sptLoss(logits: Tensor, labels: Tensor, opts: SPTLossOptions = {}): SPTLossTerms {
  const {
    focalWeight = 100, ssimWeight = 1, diceWeight = 0, alpha = 0.25, gamma = 2,
    windowSize = 11, sigma = 1.5, ignoreIndex = 255, ignoreMode = 'reference', ssimInput = 'logits',
  } = opts;
  if (logits.ndim !== 4) throw new Error(`sptLoss: logits must be [B, C, h, w], got [${logits.shape}]`);
  if (labels.ndim !== 3 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`sptLoss: labels must be [B, H, W] with B = ${logits.shape[0]} (the logits are [${logits.shape}]), got [${labels.shape}]`);
  }
  if (ignoreMode !== 'reference' && ignoreMode !== 'mask') throw new Error(`sptLoss: ignoreMode must be 'reference' or 'mask', got '${String(ignoreMode)}'`);
  if (ssimInput !== 'logits' && ssimInput !== 'probabilities') throw new Error(`sptLoss: ssimInput must be 'logits' or 'probabilities', got '${String(ssimInput)}'`);
  const [, C] = logits.shape;
  const [, H, W] = labels.shape;
  const { targets, valid, numMasks } = prepareTargets(labels, C, logits, ignoreIndex); // [B, C, H, W], [B, 1, H, W]
  const x = H === logits.shape[2] && W === logits.shape[3] ? logits : interpolate(logits, [H, W]); // [B, C, H, W]
  const weight = ignoreMode === 'mask' ? valid : undefined;
  const focal = sigmoidFocalLoss(x, targets, numMasks, { alpha, gamma, weight });
  const ssimTerm = ssim(ssimInput === 'logits' ? x : x.sigmoid(), targets, { windowSize, sigma, weight }).neg().add(1);
  let total = focal.mul(focalWeight).add(ssimTerm.mul(ssimWeight));
  let dice: Tensor | undefined;
  if (diceWeight !== 0) {
    dice = diceLoss(x, targets, numMasks, { weight });
    total = total.add(dice.mul(diceWeight));
  }
  return { focal, ssim: ssimTerm, ...(dice ? { dice } : {}), total, numMasks };
}
