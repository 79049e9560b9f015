/**
 * SPT-SEG's starting point for training: the image encoder takes CLIP's visual weights, the prompts,
 * the spectral filter and the decode head keep their fresh initialisation (method.md §1.1-1.3, §2.5).
 *
 * Does: copy every `visual.*` tensor of a CLIP model into `backbone.*` (same names, as the official
 *   VPTCLIPVisionTransformer loads `visual.` keys from the OpenAI checkpoint), except the positional
 *   embedding, whose patch grid is resized bilinearly (align_corners = False, no antialias: the
 *   official `init_weights` uses F.interpolate(mode='bilinear')) from CLIP's grid (14 × 14 at 224) to
 *   the model's stored grid (32 × 32 at 512). The CLS row is copied as it is.
 *   The decode head gets the official `init_weights` (method.md §2.5): every Linear's weight drawn from
 *   trunc_normal(std 0.02) (timm's, cut at ±2), its bias zero; LayerNorms stay at 1 / 0, and
 *   `hlfs.prompt` / `top_down_transform` keep their own initialisation.
 *   `orientGates` (a guard we add, not in the official code): each HiLo layer's gate direction
 *   `prompt` is a torch.randn draw, and a token whose cosine with it is ≤ 0 is shut with no gradient.
 *   When the decoder's features of a batch all point away from the draw, that layer's logits are 0
 *   and training never starts (observed on the world CLIP: layer 2 had 0% of tokens open, focal flat
 *   for 400 steps). −prompt is exactly as likely a randn draw as prompt, so choosing, per layer, the
 *   sign that opens more tokens on the first training batch keeps the official initial distribution
 *   up to that symmetric choice.
 *   The aligned, calibrated start of the decode head (our option, not the official init) is in
 *   decoder-start.ts.
 * Does not: touch the text tower (the segmenter takes text embeddings as input: text-embeddings.ts),
 *   or load an SPT-SEG checkpoint (spt-weights.ts).
 *
 * Glossary: D vision width, g CLIP's grid side, gh x gw the model's stored grid.
 */
import { noGrad, truncNormal, zeros, type Tensor } from '../engine/index.ts';
import { Linear, skipInit } from '../engine/nn/index.ts';
import type { CLIP } from './clip.ts';
import type { HiLo } from './hilo.ts';
import { SptSeg, type SptSegConfig } from './segmenter.ts';
import { resizePositionalEmbedding } from './vit.ts';

/**
 * A new SPT-SEG whose backbone starts from `clip.visual`. `config.encoder.vision` must have CLIP's
 * width, layers, heads, patch size and output width (its imageSize sets the stored grid).
 */
export function sptSegFromClip(clip: CLIP, config: SptSegConfig): SptSeg {
  const v = clip.config.vision, w = config.encoder.vision;
  for (const key of ['width', 'layers', 'heads', 'patchSize', 'outputDim'] as const) {
    if (v[key] !== w[key]) throw new Error(`sptSegFromClip: CLIP has vision ${key} ${v[key]}, the SPT-SEG config ${w[key]}`);
  }
  const model = new SptSeg(config);
  initDecodeHead(model);
  const own = new Map(model.namedParameters());
  const g = w.imageSize / w.patchSize;
  noGrad(() => {
    for (const [name, src] of clip.visual.namedParameters()) {
      const target = own.get(`backbone.${name}`);
      if (!target) throw new Error(`sptSegFromClip: the SPT-SEG backbone has no parameter for CLIP's visual.${name}`);
      const value = name === 'positional_embedding' ? resizePositionalEmbedding(src, g, g) : src;
      if (value.shape.some((s, i) => s !== target.shape[i]) || value.ndim !== target.ndim) {
        throw new Error(`sptSegFromClip: visual.${name} is [${value.shape}] but backbone.${name} is [${target.shape}]`);
      }
      target.assign(value.mul(1)); // a copy: the CLIP model keeps its own tensors
    }
  });
  return model;
}

/** The official decode-head initialisation: Linear weights ~ trunc_normal(0, 0.02), biases 0. */
export function initDecodeHead(model: SptSeg): void {
  noGrad(() => {
    for (const [, m] of model.decode_head.namedModules()) {
      if (!(m instanceof Linear)) continue;
      m.weight.assign(truncNormal(m.weight.shape, 0, 0.02, -2, 2));
      if (m.bias) m.bias.assign(zeros(m.bias.shape));
    }
  });
}

/** Per HiLo decoder layer: the share of tokens whose gate was open before and after `orientGates`. */
export interface GateReport {
  layer: number;
  openBefore: number;
  open: number;
  flipped: boolean;
}

/**
 * Flip the sign of each HiLo layer's gate direction `prompt` where fewer than half of the tokens of
 * `images` [B, 3, H, W] have an open gate (cos > 0); see the file header. Every layer reads the same
 * memory (the dense map), so the check runs the backbone once. A plain cross-attention decoder has
 * no gate: the report is then empty.
 */
export function orientGates(model: SptSeg, images: Tensor): GateReport[] {
  return inspect(model, () => {
    const layers = hiloLayers(model);
    if (layers.length === 0) return [];
    const { memory, gh, gw } = memoryOf(model, images);
    return layers.map(({ layer, hilo }) => {
      const before = openShare(hilo, memory, gh, gw);
      const flipped = before < 0.5;
      if (flipped) hilo.prompt.assign(hilo.prompt.neg());
      return { layer, openBefore: before, open: flipped ? openShare(hilo, memory, gh, gw) : before, flipped };
    });
  });
}

/**
 * Per HiLo layer, the share of the tokens of `images` whose gate is open (cos > 0), in eval mode and
 * without gradients. Every layer reads the same memory, as in orientGates; empty for a plain decoder.
 */
export function gateOpenShares(model: SptSeg, images: Tensor): number[] {
  return inspect(model, () => {
    const layers = hiloLayers(model);
    if (layers.length === 0) return [];
    const { memory, gh, gw } = memoryOf(model, images);
    return layers.map(({ hilo }) => openShare(hilo, memory, gh, gw));
  });
}

/** Run `fn` in eval mode (no dropout: the check draws no random numbers) without gradients; the mode is restored. */
function inspect<T>(model: SptSeg, fn: () => T): T {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    model.train(wasTraining);
  }
}

/** The decoder layers that have a HiLo module (all of them for SPT's decoder, none for the plain one). */
function hiloLayers(model: SptSeg): { layer: number; hilo: HiLo }[] {
  return [...model.decode_head.decoder_1.layers].flatMap((l, layer) => (l.hlfs ? [{ layer, hilo: l.hlfs }] : []));
}

/** The dense map of `images` as decoder memory: [B, N, E] and its grid. */
function memoryOf(model: SptSeg, images: Tensor): { memory: Tensor; gh: number; gw: number } {
  const { dense } = model.backbone.features(images); // [B, E, gh, gw]
  const [B, E, gh, gw] = dense.shape;
  return { memory: dense.reshape([B, E, gh * gw]).permute([0, 2, 1]), gh, gw }; // [B, N, E]
}

/** Share of tokens with cos(hl, prompt) > 0 (an open clamp gate) in one HiLo layer. */
function openShare(hilo: HiLo, memory: Tensor, gh: number, gw: number): number {
  const cos = hilo.hiLo(memory, gh, gw).cos.data(); // [B, N, 1]
  let open = 0;
  for (const c of cos) if (c > 0) open++;
  return open / cos.length;
}

/** Build the SPT-SEG structure without drawing random weights (for a checkpoint about to be loaded). */
export function emptySptSeg(config: SptSegConfig): SptSeg {
  return skipInit(() => new SptSeg(config));
}
