/**
 * SPT-SEG as one module: the SPT image encoder (`backbone`, model/spt.ts) and the spectral guided
 * decode head (`decode_head`, model/decoder.ts), under the official state-dict prefixes; inference
 * as the official `semantic_inference` + mmseg's slide inference (method.md §2.5, §4.2, §8).
 *
 * Does:
 *   forward(images, text)     eval-or-train forward: last-layer mask logits [B, C, gh, gw] (before
 *                             upsampling), every layer's logits, dense map and global embedding
 *   predMasks(images, text)   the last-layer logits upsampled (bilinear, align_corners=False) to H x W
 *   predict(images, text, o)  no-grad inference: sigmoid(pred masks), minus `offset` (0.1) on the
 *                             seen classes, averaged over sliding crops when the image is larger
 *                             than the model's input; then the argmax label map
 *   trainableParameters(m)    the official freezing (+ the spectral filter, by default) and
 *                             freeze(m) which applies it (requiresGrad off everywhere else)
 *   VOC_VIT_B16               the VOC ViT-B/16 preset (T = 10, 11 deep sets, 512² input, 3 layers)
 * Text embeddings are used exactly as given (already L2-normalised by whoever made them, §9).
 * Does not: losses (train/), class text embeddings (text-embeddings.ts), loading (spt-weights.ts).
 *
 * Glossary: B batch, C classes, E embedding width, gh x gw patch grid, H x W image size.
 */
import { interpolate, noGrad, type Tensor } from '../engine/index.ts';
import { constantLike } from '../engine/functional/constant.ts';
import { Module, type Parameter } from '../engine/nn/index.ts';
import { DecodeHead, type DecoderOptions } from './decoder.ts';
import { SptVisionTransformer, type SptConfig } from './spt.ts';

/** The shape of an SPT-SEG model: the prompted encoder and the decoder (`VOC_VIT_B16` is the preset). */
export interface SptSegConfig {
  encoder: SptConfig;
  decoder: DecoderOptions;
}

/** ViT-B/16 SPT-SEG for PASCAL VOC (method.md §1.1, §1.3, §2.1): 12,888,640 trainable parameters. */
export const VOC_VIT_B16: SptSegConfig = {
  encoder: {
    vision: { imageSize: 512, patchSize: 16, width: 768, layers: 12, heads: 12, outputDim: 512 },
    numTokens: 10, deepLayers: 11, spectralGrid: [32, 32],
  },
  decoder: { embedDim: 512, width: 512, layers: 3, ffn: 2048 },
};

/**
 * PASCAL VOC 2012's 20 classes in train-id order (no background), ZegCLIP's names. Here rather than in
 * the dataset reader (train/data/voc.ts, which re-exports them) so that code without file access (the
 * page, a browser bundle) can name VOC's classes for the text tower.
 */
export const VOC_CLASSES: readonly string[] = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog',
  'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];
/** The VOC train ids held out for zero-shot evaluation (method.md §4.3): pottedplant, sheep, sofa, train, tvmonitor. */
export const VOC_UNSEEN_IDS: readonly number[] = [15, 16, 17, 18, 19];

/** `SptSeg.forward`'s outputs: mask logits (last and per layer) and the encoder's features. */
export interface SegmenterOutput {
  maskLogits: Tensor; // [B, C, gh, gw], last layer
  layerLogits: Tensor[]; // [B, C, gh, gw] per decoder layer
  dense: Tensor; // [B, E, gh, gw]
  global: Tensor; // [B, E]
}

/** Options of `SptSeg.predict`: the seen-class calibration and the sliding window. */
export interface PredictOptions {
  /** seen[c] = true for the classes seen in training: they get `offset` subtracted (inductive setting). */
  seenMask?: readonly boolean[] | null;
  /** Calibration subtracted from seen-class probabilities (0.1; 0 in self-training mode). */
  offset?: number;
  /** Sliding-window crop side (default: the model's input side, 512 for ViT-B/16). */
  crop?: number;
  /** Sliding-window stride (default: round(crop · 426 / 512), the official 512 / 426). */
  stride?: number;
}

/** `SptSeg.predict`'s result: class probabilities and the argmax labels at the input's size. */
export interface Prediction {
  probs: Tensor; // [B, C, H, W]
  labels: Tensor; // [B, H, W] int32, argmax over C
}

/**
 * The SPT-SEG segmenter (method.md §1): the prompted CLIP image encoder and the spectral guided decoder,
 * scoring each pixel against per-class text embeddings.
 *
 * @example
 * const model = await loadSptSeg('spt_voc.safetensors');
 * const text = await loadTextEmbeddings('voc-text.safetensors', VOC_CLASSES);   // [C, E]
 * const { labels } = noGrad(() => model.predict(images, text));   // [B, H, W]
 */
export class SptSeg extends Module {
  backbone: SptVisionTransformer;
  decode_head: DecodeHead;

  constructor(readonly config: SptSegConfig) {
    super();
    this.backbone = new SptVisionTransformer(config.encoder);
    this.decode_head = new DecodeHead(config.decoder);
  }

  /** The input side the model was built for: spectral grid (or stored grid) × patch. */
  get inputSize(): [number, number] {
    const { spectralGrid, vision } = this.config.encoder;
    const g = spectralGrid ?? [vision.imageSize / vision.patchSize, vision.imageSize / vision.patchSize];
    return [g[0] * vision.patchSize, g[1] * vision.patchSize];
  }

  forward(images: Tensor, text: Tensor): SegmenterOutput {
    if (images.ndim !== 4 || images.shape[1] !== 3) throw new Error(`SptSeg: expected images [B, 3, H, W], got [${images.shape.join(', ')}]`);
    const E = this.config.decoder.embedDim;
    if (text.ndim !== 2 || text.shape[1] !== E || text.shape[0] < 1) {
      throw new Error(`SptSeg: text embeddings must be [C, ${E}] with C ≥ 1, got [${text.shape.join(', ')}]`);
    }
    const { dense, global } = this.backbone.features(images); // [B, E, gh, gw], [B, E]
    const { layerLogits } = this.decode_head.forward(dense, global, text);
    return { maskLogits: layerLogits[layerLogits.length - 1], layerLogits, dense, global };
  }

  /** The last layer's logits upsampled to the image size: [B, C, H, W] (the official pred_masks). */
  predMasks(images: Tensor, text: Tensor): Tensor {
    const { maskLogits } = this.forward(images, text);
    return interpolate(maskLogits, [images.shape[2], images.shape[3]]); // [B, C, H, W]
  }

  /** Per-class probabilities of one model-sized input [B, 3, h, w], offset applied: [B, C, h, w]. */
  private cropProbs(images: Tensor, text: Tensor, shift: Tensor | null): Tensor {
    const p = this.predMasks(images, text).sigmoid(); // [B, C, h, w]
    return shift ? p.sub(shift) : p;
  }

  /** Inference in eval mode without gradients (the mode is restored afterwards). */
  predict(images: Tensor, text: Tensor, opts: PredictOptions = {}): Prediction {
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => this.slide(images, text, opts));
    } finally {
      this.train(wasTraining);
    }
  }

  private slide(images: Tensor, text: Tensor, opts: PredictOptions): Prediction {
    const [B, , H, W] = images.shape;
    const C = text.shape[0];
    const seen = opts.seenMask ?? null;
    if (seen && seen.length !== C) throw new Error(`SptSeg.predict: seenMask has ${seen.length} entries for ${C} classes`);
    const offset = opts.offset ?? 0.1;
    const shift = seen && offset !== 0
      ? constantLike(Float64Array.from(seen, (s) => (s ? offset : 0)), [1, C, 1, 1], images) // on the images' backend
      : null;
    const [ch, cw] = this.inputSize;
    if (H === ch && W === cw && opts.crop === undefined) return this.finish(this.cropProbs(images, text, shift));
    const crop = opts.crop ?? ch;
    if (this.config.encoder.spectralGrid && (crop !== ch || crop !== cw)) {
      throw new Error(`SptSeg.predict: the spectral filter fixes the input to ${ch}x${cw}, so sliding crops must be ${ch}x${cw} (square), got ${crop}`);
    }
    if (H < crop || W < crop) {
      throw new Error(`SptSeg.predict: image ${H}x${W} is smaller than the ${crop}x${crop} crop; resize it first (short side ${crop})`);
    }
    const stride = opts.stride ?? Math.round((crop * 426) / 512);
    // mmseg slide_inference: a grid of crops, the last one in each axis shifted back inside the image.
    const grids = (n: number) => Math.max(n - crop + stride - 1, 0) / stride | 0;
    const acc = new Float32Array(B * C * H * W), count = new Float32Array(H * W);
    for (let i = 0; i <= grids(H); i++) {
      for (let j = 0; j <= grids(W); j++) {
        const y2 = Math.min(i * stride + crop, H), x2 = Math.min(j * stride + crop, W);
        const y1 = Math.max(y2 - crop, 0), x1 = Math.max(x2 - crop, 0);
        const window = images.slice(2, y1, y2).slice(3, x1, x2); // [B, 3, crop, crop]
        const p = this.cropProbs(window, text, shift).data(); // [B, C, crop, crop]
        for (let bc = 0; bc < B * C; bc++) {
          for (let y = 0; y < crop; y++) {
            const src = (bc * crop + y) * crop, dst = (bc * H + y1 + y) * W + x1;
            for (let x = 0; x < crop; x++) acc[dst + x] += p[src + x];
          }
        }
        for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) count[y * W + x] += 1;
      }
    }
    for (let k = 0; k < acc.length; k++) acc[k] /= count[k % (H * W)];
    return this.finish(constantLike(Float64Array.from(acc), [B, C, H, W], images)); // [B, C, H, W]
  }

  private finish(probs: Tensor): Prediction {
    return { probs, labels: probs.argmax(1) }; // [B, C, H, W], [B, H, W]
  }
}

/** Options of `trainableParameters` and `freeze`. */
export interface FreezeOptions {
  /** Train the spectral filter complex_weight (default true; false = the literal ZegCLIP exclude_key='prompt'). */
  trainSpectral?: boolean;
}

/**
 * The official trainable set (method.md §1.3): backbone parameters whose name contains "prompt",
 * the spectral filter (unless trainSpectral = false), and the whole decode head. The text encoder
 * is not part of this module (its embeddings come in as constants).
 *
 * @example
 * trainableParameters(new SptSeg(VOC_VIT_B16)).length;   // the prompts, the spectral filter and the decoder
 */
export function trainableParameters(model: SptSeg, opts: FreezeOptions = {}): [string, Parameter][] {
  const spectral = opts.trainSpectral ?? true;
  return model.namedParameters().filter(([name]) => name.startsWith('decode_head.')
    || (name.startsWith('backbone.') && (name.includes('prompt') || (spectral && name === 'backbone.complex_weight'))));
}

/**
 * Freeze everything but `trainableParameters` (requiresGrad false); returns the trainable ones.
 *
 * @example
 * const params = freeze(model);   // then new AdamW(params, { lr: 2e-4 })
 */
export function freeze(model: SptSeg, opts: FreezeOptions = {}): Parameter[] {
  const keep = new Set(trainableParameters(model, opts).map(([n]) => n));
  for (const [name, p] of model.namedParameters()) p.requiresGrad = keep.has(name);
  return model.namedParameters().filter(([n]) => keep.has(n)).map(([, p]) => p);
}
