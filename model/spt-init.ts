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
 * Does not: touch the text tower (the segmenter takes text embeddings as input: text-embeddings.ts),
 *   or load an SPT-SEG checkpoint (spt-weights.ts).
 *
 * Glossary: D vision width, g CLIP's grid side, gh x gw the model's stored grid.
 */
import { cat, interpolate, noGrad, truncNormal, zeros, type Tensor } from '../engine/index.ts';
import { Linear, skipInit } from '../engine/nn/index.ts';
import type { CLIP } from './clip.ts';
import { SptSeg, type SptSegConfig } from './segmenter.ts';

/** The positional table [1 + g·g, D] with its grid resized to gh × gw: [1 + gh·gw, D]. */
export function resizePositionalEmbedding(pos: Tensor, gh: number, gw: number): Tensor {
  const [rows, D] = pos.shape;
  const g = Math.round(Math.sqrt(rows - 1));
  if (g * g !== rows - 1) throw new Error(`positional embedding [${pos.shape}] is not 1 + a square grid`);
  if (g === gh && g === gw) return pos;
  const grid = pos.slice(0, 1, rows).reshape([1, g, g, D]).permute([0, 3, 1, 2]); // [1, D, g, g]
  const resized = interpolate(grid, [gh, gw]).permute([0, 2, 3, 1]).reshape([gh * gw, D]); // [gh·gw, D]
  return cat([pos.slice(0, 0, 1), resized], 0); // [1 + gh·gw, D]
}

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

/** Build the SPT-SEG structure without drawing random weights (for a checkpoint about to be loaded). */
export function emptySptSeg(config: SptSegConfig): SptSeg {
  return skipInit(() => new SptSeg(config));
}
