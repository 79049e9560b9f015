/**
 * Contrastive image-text pretraining of the world's tiny CLIP (model/clip.ts with a conv stem),
 * on procedural scenes and their captions (train/world/), run by the one training loop (loop.ts).
 *
 * The loss of one batch of B scenes (docs/world.md):
 *   1. InfoNCE, both directions (Radford et al. 2021): logits = exp(logit_scale) · cos(image_i, text_j).
 *      Image -> text contrasts each image with the B captions and B hard negatives (its own caption
 *      with one shape swapped); text -> image with the B images. Other scenes with the very same
 *      caption ("a photo of a star") are not negatives: their logits are masked out.
 *   2. Region-text: for each visible object, its patch tokens (the dense output ln_post(x) @ proj)
 *      averaged with weights = the object's share of each patch, contrasted with the K class prompts
 *      "a photo of a {shape}" (cross-entropy over the K classes). This is what teaches the patches
 *      (docs/world-study.md: without it a per-patch probe stays near 21%).
 *   3. Per patch: each patch token whose patch is mostly one object, classified the same way against
 *      the K prompts (its majority class). Region-text alone left a per-patch probe near 24%: the
 *      pooled feature can be right while single patches are not; this term asks each patch.
 *   total = (i2t + t2i) / 2 + regionWeight · region + patchWeight · patch.
 * logit_scale is learnable (init log(1/0.07)) and clamped to log(100) in the forward, as CLIP does.
 * AdamW with the poly + warmup schedule; every batch depends only on (seed, step), the initial weights
 * only on the seed, so a run is deterministic bit for bit on one backend.
 *
 * Does not: evaluate (world/probe.ts), parse flags (cli/commands/pretrain.ts).
 * Glossary: B scenes, T = 2B texts, K classes (12), O pooled objects, M object patches, N patches, E embedding width.
 */
import { clamp, crossEntropy, manualSeed, tensor, type Tensor } from '../engine/index.ts';
import { AdamW, polyLr } from '../engine/optim/index.ts';
import { CLIP, l2normalize, type CLIPConfig } from '../model/clip.ts';
import { tokenize } from '../model/tokenizer.ts';
import { runTraining, type LoopResult, type StepRecord } from './loop.ts';
import { WORLD_CLASS_NAMES } from './world/classes.ts';
import { WorldStream, type WorldBatch } from './world/batch.ts';
import { ZERO_SHOT_TEMPLATE } from './world/probe.ts';
import { WORLD_DEFAULTS, type WorldSettings } from './world/scenes.ts';

/** The world's CLIP: a ViT with a 3-conv stem (64x64 -> 8x8 tokens) and a small text tower. */
export const WORLD_CLIP: CLIPConfig = {
  embedDim: 64,
  vision: { imageSize: 64, patchSize: 8, width: 64, layers: 4, heads: 2, outputDim: 64, stem: 'conv', stemWidths: [32, 64] },
  // The real BPE vocabulary (49,408 rows) at width 32 is 6.3 MB of the checkpoint's 10 MB budget.
  text: { contextLength: 24, vocabSize: 49408, width: 32, layers: 2, heads: 2, outputDim: 64 },
};

export interface PretrainConfig {
  clip: CLIPConfig;
  world: WorldSettings;
  steps: number;
  batchSize: number;
  /** Fraction of each batch that are single-object scenes (0.4). */
  single: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  /** Weight of the region-text term (1). */
  regionWeight: number;
  /** Weight of the per-patch term (1): each object patch classified against the K prompts. */
  patchWeight: number;
  /** Let the dense terms (region, patch) train the text tower through the class prompts (true; false: detached). */
  trainPrompts: boolean;
  /** Append the hard negatives to the image -> text contrast (true). */
  hardNegatives: boolean;
  seed: number;
}

export const PRETRAIN_DEFAULTS: PretrainConfig = {
  clip: WORLD_CLIP, world: WORLD_DEFAULTS, steps: 4000, batchSize: 32, single: 0.4,
  lr: 2e-3, warmup: 50, weightDecay: 0.05, regionWeight: 1, patchWeight: 1, trainPrompts: true, hardNegatives: true, seed: 0,
};

/** Token ids of texts, cached (the captions of the world repeat a lot). */
const tokenCache = new Map<string, number[]>();
function tokens(texts: readonly string[], contextLength: number): number[][] {
  const missing = [...new Set(texts.filter((t) => !tokenCache.has(t)))];
  if (missing.length > 0) tokenize(missing, contextLength).forEach((ids, i) => tokenCache.set(`${contextLength}:${missing[i]}`, ids));
  missing.forEach((t) => tokenCache.set(t, tokenCache.get(`${contextLength}:${t}`)!));
  return texts.map((t) => tokenCache.get(t)!);
}

/** Additive mask [R, C]: -1e4 where row text i and column text j are equal but i ≠ j (not negatives). */
function duplicateMask(rows: readonly string[], cols: readonly string[], like: Tensor): Tensor {
  const m = new Float32Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => { if (i !== j && r === c) m[i * cols.length + j] = -1e4; }));
  return tensor(m, [rows.length, cols.length], { dtype: like.dtype, like });
}

export interface PretrainTerms {
  total: Tensor;
  i2t: Tensor;
  t2i: Tensor;
  region: Tensor;
  patch: Tensor;
}

/** The loss of one batch (see the header). */
export function pretrainLoss(clip: CLIP, batch: WorldBatch, cfg: Pick<PretrainConfig, 'regionWeight' | 'patchWeight' | 'trainPrompts' | 'hardNegatives'>): PretrainTerms {
  const ctx = clip.config.text.contextLength;
  const B = batch.captions.length;
  const vis = clip.visual;
  const x = vis.ln_post.forward(vis.encode(batch.images)).matmul(vis.proj); // [B, 1 + N, E]
  const img = l2normalize(x.slice(1, 0, 1).squeeze(1)); // [B, E]
  const patches = x.slice(1, 1); // [B, N, E]
  const texts = cfg.hardNegatives ? [...batch.captions, ...batch.negatives] : batch.captions;
  const txt = l2normalize(clip.encodeText(tokens(texts, ctx))); // [T, E]
  const scale = clamp(clip.logit_scale, null, Math.log(100)).exp(); // []
  const targets = tensor(Array.from({ length: B }, (_, i) => i), [B], { dtype: 'int32', like: img });
  const i2tLogits = img.matmul(txt.t()).mul(scale).add(duplicateMask(batch.captions, texts, img)); // [B, T]
  const t2iLogits = txt.slice(0, 0, B).matmul(img.t()).mul(scale).add(duplicateMask(batch.captions, batch.captions, img)); // [B, B]
  const i2t = crossEntropy(i2tLogits, targets);
  const t2i = crossEntropy(t2iLogits, targets);
  // Region-text: pool each object's patches, classify against the K class prompts.
  const [, N, E] = patches.shape;
  const pooled = l2normalize(batch.regionWeights.matmul(patches.reshape([B * N, E]))); // [O, E]
  const prompts = WORLD_CLASS_NAMES.map((c) => ZERO_SHOT_TEMPLATE.replace('{}', c));
  // trainPrompts: the dense terms also move the K prompt embeddings (apart). Detached, only InfoNCE
  // trains them, and they stay nearly alike for hundreds of steps (docs/world.md measures both).
  const prompted = l2normalize(clip.encodeText(tokens(prompts, ctx))); // [K, E]
  const classText = cfg.trainPrompts ? prompted : prompted.detach(); // [K, E]
  const region = crossEntropy(pooled.matmul(classText.t()).mul(scale), batch.regionClasses); // []
  // Per patch: every patch whose majority is an object, classified against the same K prompts.
  const dense = l2normalize(patches.reshape([B * N, E]).indexSelect(0, batch.patchIndex)); // [M, E]
  const patch = crossEntropy(dense.matmul(classText.t()).mul(scale), batch.patchClasses); // []
  const total = i2t.add(t2i).mul(0.5).add(region.mul(cfg.regionWeight)).add(patch.mul(cfg.patchWeight));
  return { total, i2t, t2i, region, patch };
}

/** A freshly initialised world CLIP; the weights depend only on the seed. */
export function createWorldClip(config: CLIPConfig, seed: number): CLIP {
  manualSeed(seed);
  return new CLIP(config);
}

export interface PretrainRun {
  clip: CLIP;
  result: LoopResult;
}

/** Train a world CLIP with `cfg`; `outDir` gets the loop's checkpoint and log (null: nothing on disk). */
export async function pretrain(
  cfg: PretrainConfig,
  opts: { outDir?: string | null; label?: string | null; onStep?: (r: StepRecord) => void; checkpointEvery?: number; resume?: string | null } = {},
): Promise<PretrainRun> {
  const clip = createWorldClip(cfg.clip, cfg.seed);
  // No weight decay on gains, biases, embeddings' tables of positions, or the temperature (CLIP's practice).
  const named = clip.namedParameters();
  const decay = named.filter(([n, p]) => p.ndim >= 2 && !n.includes('positional_embedding')).map(([, p]) => p);
  const rest = named.filter(([n, p]) => !(p.ndim >= 2 && !n.includes('positional_embedding'))).map(([, p]) => p);
  const optimizer = new AdamW([{ params: decay }, { params: rest, decayMult: 0 }], { lr: cfg.lr, weightDecay: cfg.weightDecay, betas: [0.9, 0.98], eps: 1e-6 });
  const schedule = polyLr({ baseLr: cfg.lr, maxIters: cfg.steps, power: 1, minLr: cfg.lr * 0.01, warmupIters: cfg.warmup, warmupRatio: 0.01 });
  const data = new WorldStream(cfg.seed + 1, cfg.batchSize, cfg.single, cfg.clip.vision.patchSize, cfg.world);
  const result = await runTraining<WorldBatch>({
    model: clip, optimizer, schedule, data,
    loss: (batch) => {
      const t = pretrainLoss(clip, batch, cfg);
      return { total: t.total, i2t: t.i2t, t2i: t.t2i, region: t.region, patch: t.patch };
    },
  }, {
    steps: cfg.steps, clipNorm: 1, outDir: opts.outDir ?? null, label: opts.label === undefined ? 'pretrain' : opts.label,
    onStep: opts.onStep, checkpointEvery: opts.checkpointEvery ?? 100, resume: opts.resume ?? null,
    config: JSON.stringify({ ...cfg, clip: cfg.clip }),
  });
  return { clip, result };
}
