/**
 * Contrastive image-text pretraining of the world's tiny CLIP (model/clip.ts with a conv stem),
 * on procedural scenes and their captions (train/world/), run by the one training loop (loop.ts).
 *
 * By default the CLIP learns from images and their captions only, as CLIP does, with term 1 alone: no
 * mask, patch label or region label of any class reaches it. The loss of one batch of B scenes
 * (docs/world.md measures every option):
 *   1. InfoNCE, both directions (Radford et al. 2021): logits = exp(logit_scale) · cos(image_i, text_j).
 *      Image -> text contrasts each image with the B captions and B hard negatives (its own caption
 *      with one shape swapped); text -> image with the B images. Other scenes with the very same
 *      caption ("a photo of a star") are not negatives: their logits are masked out.
 *   2. Caption mentions (`mentionWeight`, off by default), a multiple-instance term read from the caption's words:
 *      for each shape name a caption contains, the image's best-matching patch token (max over the
 *      N patches of cos(patch, "a photo of a {shape}")) is contrasted with the K name prompts
 *      (cross-entropy; the caption's other names are not negatives). The target is image-level, as
 *      a caption is; which patch shows the shape is never said. This is how a CLIP trained on
 *      captions alone comes to score its patch tokens against names (FILIP's token-wise max).
 *   Options, off by default, that read masks of the **seen** classes only (`denseSplit.seen`; the
 *   batch builder refuses any other class, train/world/batch.ts):
 *   3. Region-text (`regionWeight`): each seen object's patch tokens (the dense output ln_post(x) @ proj),
 *      averaged with weights = the object's share of each patch, classified against the seen prompts.
 *   4. Per patch (`patchWeight`): each patch whose majority is a seen object, classified the same way.
 *   total = (i2t + t2i) / 2 + mentionWeight · mention + regionWeight · region + patchWeight · patch.
 * logit_scale is learnable (init log(1/0.07)) and clamped to log(100) in the forward, as CLIP does.
 * AdamW with the poly + warmup schedule; every batch depends only on (seed, step), the initial weights
 * only on the seed, so a run is deterministic bit for bit on one backend.
 *
 * Does not: evaluate (world/probe.ts), parse flags (cli/commands/pretrain.ts).
 * Glossary: B scenes, T = 2B texts, K classes (12), K' seen classes, R caption mentions, O pooled
 * objects, M object patches, N patches, E embedding width.
 */
import { clamp, crossEntropy, manualSeed, tensor, type Tensor } from '../engine/index.ts';
import { AdamW, polyLr } from '../engine/optim/index.ts';
import { CLIP, l2normalize, type CLIPConfig } from '../model/clip.ts';
import { tokenize } from '../model/tokenizer.ts';
import { runTraining, type LossTerms, type LoopResult, type StepRecord } from './loop.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from './world/classes.ts';
import { WorldStream, type DenseSplit, type WorldBatch } from './world/batch.ts';
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
  /** Weight of the caption-mention term (read from captions only; see the header; 0: off). */
  mentionWeight: number;
  /** Weight of the region-text term (0: off). On, it reads the masks of `denseSplit.seen` only. */
  regionWeight: number;
  /** Weight of the per-patch term (0: off). On, it reads the masks of `denseSplit.seen` only. */
  patchWeight: number;
  /** The classes whose masks the optional dense terms may read (the world's seen split). */
  denseSplit: DenseSplit;
  /** Let the name prompts' terms train the text tower (true; false: detached). */
  trainPrompts: boolean;
  /** Append the hard negatives to the image -> text contrast (true). */
  hardNegatives: boolean;
  seed: number;
}

export const PRETRAIN_DEFAULTS: PretrainConfig = {
  clip: WORLD_CLIP, world: WORLD_DEFAULTS, steps: 8000, batchSize: 32, single: 0.4,
  lr: 2e-3, warmup: 50, weightDecay: 0.05, mentionWeight: 0, regionWeight: 0, patchWeight: 0, denseSplit: DEFAULT_SPLIT,
  trainPrompts: true, hardNegatives: true, seed: 0,
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
  mention: Tensor | null;
  region: Tensor | null;
  patch: Tensor | null;
}

type LossConfig = Pick<PretrainConfig, 'mentionWeight' | 'regionWeight' | 'patchWeight' | 'denseSplit' | 'trainPrompts' | 'hardNegatives'>;

/** Whether `cfg` switches on a term that reads masks (of seen classes only). */
export function usesDenseTerms(cfg: Pick<PretrainConfig, 'regionWeight' | 'patchWeight'>): boolean {
  return cfg.regionWeight > 0 || cfg.patchWeight > 0;
}

/** Class ids mapped to their position in `seen` (the dense terms classify among the seen prompts). */
function seenPositions(classes: Tensor, seen: readonly number[], like: Tensor): Tensor {
  const pos = Array.from(classes.toArray(), (c) => seen.indexOf(c));
  return tensor(pos, [pos.length], { dtype: 'int32', like });
}

/** The loss of one batch (see the header). */
export function pretrainLoss(clip: CLIP, batch: WorldBatch, cfg: LossConfig): PretrainTerms {
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
  let total = i2t.add(t2i).mul(0.5);
  const dense = usesDenseTerms(cfg);
  if (cfg.mentionWeight <= 0 && !dense) return { total, i2t, t2i, mention: null, region: null, patch: null };

  // The K name prompts. trainPrompts: these terms also move the prompt embeddings (apart); detached,
  // only InfoNCE trains them.
  const prompts = WORLD_CLASS_NAMES.map((c) => ZERO_SHOT_TEMPLATE.replace('{}', c));
  const prompted = l2normalize(clip.encodeText(tokens(prompts, ctx))); // [K, E]
  const classText = cfg.trainPrompts ? prompted : prompted.detach(); // [K, E]
  const [, N, E] = patches.shape;
  let mention: Tensor | null = null, region: Tensor | null = null, patch: Tensor | null = null;
  if (cfg.mentionWeight > 0) {
    // Each image's best patch per name, then one K-way contrast per name its caption mentions.
    const best = l2normalize(patches).matmul(classText.t()).max(1); // [B, K]
    const m = batch.mentions;
    const rows = best.indexSelect(0, m.scene).mul(scale).add(m.others); // [R, K]
    mention = crossEntropy(rows, m.cls);
    total = total.add(mention.mul(cfg.mentionWeight));
  }
  if (dense) {
    if (batch.dense === null) throw new Error('pretrainLoss: a dense term is on but the batch has no dense targets (build it with the split)');
    const seen = cfg.denseSplit.seen;
    const seenText = classText.indexSelect(0, tensor(seen, [seen.length], { dtype: 'int32', like: img })); // [K', E]
    const d = batch.dense;
    // Region-text: pool each seen object's patches, classify against the seen prompts.
    const pooled = l2normalize(d.regionWeights.matmul(patches.reshape([B * N, E]))); // [O, E]
    region = crossEntropy(pooled.matmul(seenText.t()).mul(scale), seenPositions(d.regionClasses, seen, img)); // []
    // Per patch: every patch whose majority is a seen object.
    const tok = l2normalize(patches.reshape([B * N, E]).indexSelect(0, d.patchIndex)); // [M, E]
    patch = crossEntropy(tok.matmul(seenText.t()).mul(scale), seenPositions(d.patchClasses, seen, img)); // []
    total = total.add(region.mul(cfg.regionWeight)).add(patch.mul(cfg.patchWeight));
  }
  return { total, i2t, t2i, mention, region, patch };
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
  const data = new WorldStream(cfg.seed + 1, cfg.batchSize, cfg.single, cfg.clip.vision.patchSize, cfg.world,
    usesDenseTerms(cfg) ? cfg.denseSplit : null);
  const result = await runTraining<WorldBatch>({
    model: clip, optimizer, schedule, data,
    loss: (batch) => {
      const t = pretrainLoss(clip, batch, cfg);
      const terms: LossTerms = { total: t.total, i2t: t.i2t, t2i: t.t2i };
      if (t.mention !== null) terms.mention = t.mention;
      if (t.region !== null) terms.region = t.region;
      if (t.patch !== null) terms.patch = t.patch;
      return terms;
    },
  }, {
    steps: cfg.steps, clipNorm: 1, outDir: opts.outDir ?? null, label: opts.label === undefined ? 'pretrain' : opts.label,
    onStep: opts.onStep, checkpointEvery: opts.checkpointEvery ?? 100, resume: opts.resume ?? null,
    config: JSON.stringify({ ...cfg, clip: cfg.clip }),
  });
  return { clip, result };
}
