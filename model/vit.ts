/**
 * CLIP's image encoder: a Vision Transformer (ViT), after OpenAI `clip/model.py` VisionTransformer
 * (Radford et al. 2021; Dosovitskiy et al. 2020), with ZegCLIP's dense output (method.md §1.1, §5.1).
 *
 * Does:
 *   image [B, 3, H, W] -> 16x16 patches -> conv1 (as a matmul; or the optional conv stem) -> [CLS, patches] + positional
 *   embedding (bilinearly resized when the grid differs from the checkpoint's) -> ln_pre ->
 *   L pre-LN blocks -> ln_post -> @ proj.
 *   `forward` is CLIP's pooled embedding (ln_post on the CLS token only); `forwardTokens` applies
 *   ln_post and proj to every token, as ZegCLIP does for its dense map.
 *   `embed` and `positionalEmbeddingFor` are public so that the SPT encoder can reuse them and run
 *   the blocks itself.
 * Does not: the ResNet image towers of CLIP, VPT / spectral prompts (model/spt), L2 normalisation
 *   (callers do it), or SPT's CLS quirk (method.md §1.3).
 *
 * Glossary: B batch, C colour channels (3), P patch side, gh x gw patch grid, N = gh·gw patches,
 *   D width, E output (joint embedding) width, g stored grid side.
 */
import { cat, conv2dChannelsLast, linear, resize2d, type Tensor } from '../engine/index.ts';
import { initNormal, initUniform, LayerNorm, Module, ModuleList, Parameter } from '../engine/nn/index.ts';
import { Transformer } from './blocks.ts';

/** The shape of a ViT image tower (`VIT_B_16` is the preset). */
export interface ViTConfig {
  /** Input side the positional table was trained for (224). Other sizes resize the table bilinearly. */
  imageSize: number;
  /** Side of a square patch: conv1's kernel size and stride (16 for ViT-B/16). */
  patchSize: number;
  /** Token width D (768). */
  width: number;
  /** Number of residual attention blocks (12). */
  layers: number;
  /** Attention heads; CLIP's build_model uses width / 64 (12). */
  heads: number;
  /** Width E of the joint image-text space that `proj` maps to (512). */
  outputDim: number;
  /**
   * How pixels become tokens (default 'patch'):
   *   'patch': CLIP's conv1, one stride-P P x P conv (PatchConv, checkpoint key `conv1.weight`);
   *   'conv':  a small convolutional stem (ConvStem): 3x3 stride-2 padding-1 convs with ReLU between
   *            them, widths `stemWidths` then D, so P must be 2^(stemWidths.length + 1). Overlapping,
   *            non-linear early features; a tiny CLIP trained from scratch needs them
   *            (docs/world.md, after Xiao et al. 2021 "Early convolutions help transformers see better").
   *            No official checkpoint has it: keys `conv1.convs.{i}.weight` / `.bias`.
   */
  stem?: 'patch' | 'conv';
  /** Hidden widths of the conv stem, one per conv before the last (e.g. [32, 64] for P = 8). */
  stemWidths?: readonly number[];
}

/** OpenAI CLIP ViT-B/16 (clip/model.py build_model on ViT-B-16.pt). */
export const VIT_B_16: ViTConfig = { imageSize: 224, patchSize: 16, width: 768, layers: 12, heads: 12, outputDim: 512 };

/**
 * conv1 of the checkpoint: Conv2d(3, D, kernel = stride = P, bias = False), weight [D, 3, P, P].
 *
 * With stride equal to the kernel the patches do not overlap, so each output "pixel" is one dot
 * product between a flattened P·P·3 patch and a flattened filter:
 *   out[b, o, i, j] = Σ_{c,u,v} W[o, c, u, v] · x[b, c, i·P + u, j·P + v]
 * Cutting the image into patches [B, N, 3·P·P] (flattened in the filter's c, u, v order) turns the
 * whole convolution into one `linear` with W seen as [D, 3·P·P]. No conv op is needed.
 *
 * @example
 * new PatchConv(3, 768, 16).forward(zeros([1, 3, 224, 224])).tokens.shape;   // [1, 196, 768]
 */
export class PatchConv extends Module {
  weight: Parameter; // [D, C, P, P]

  constructor(readonly inChannels: number, readonly width: number, readonly patchSize: number) {
    super();
    const bound = 1 / Math.sqrt(inChannels * patchSize * patchSize); // ≈ torch's Conv2d default scale
    this.weight = new Parameter(initNormal([width, inChannels, patchSize, patchSize], 0, bound / Math.sqrt(3)));
  }

  /** images [B, C, H, W] -> patch tokens [B, gh·gw, D] in row-major grid order, like conv1(x).flatten(2). */
  forward(images: Tensor): { tokens: Tensor; gridH: number; gridW: number } {
    const [B, C, H, W] = images.shape;
    const P = this.patchSize;
    if (images.ndim !== 4 || C !== this.inChannels) {
      throw new Error(`PatchConv: expected images [B, ${this.inChannels}, H, W], got [${images.shape}]`);
    }
    const gh = Math.floor(H / P), gw = Math.floor(W / P);
    if (gh < 1 || gw < 1) throw new Error(`PatchConv: image ${H}x${W} is smaller than one ${P}x${P} patch`);
    // A strided conv without padding ignores the pixels past the last whole patch; so do we.
    const x = images.slice(2, 0, gh * P).slice(3, 0, gw * P); // [B, C, gh·P, gw·P]
    const patches = x
      .reshape([B, C, gh, P, gw, P])
      .permute([0, 2, 4, 1, 3, 5]) // [B, gh, gw, C, P, P]
      .reshape([B, gh * gw, C * P * P]); // [B, N, C·P·P]
    const w = this.weight.reshape([this.width, C * P * P]); // [D, C·P·P]
    return { tokens: linear(patches, w), gridH: gh, gridW: gw }; // [B, N, D]
  }
}

/**
 * One conv layer's parameters under torch.nn.Conv2d's names.
 *
 * @example
 * new Conv2d(3, 64, 3).weight.shape;   // [64, 3, 3, 3]
 */
export class Conv2d extends Module {
  weight: Parameter; // [O, C, 3, 3]
  bias: Parameter; // [O]

  constructor(inChannels: number, outChannels: number, kernel: number) {
    super();
    const bound = 1 / Math.sqrt(inChannels * kernel * kernel); // torch's default: U(-bound, bound)
    this.weight = new Parameter(initUniform([outChannels, inChannels, kernel, kernel], -bound, bound));
    this.bias = new Parameter(initUniform([outChannels], -bound, bound));
  }
}

/**
 * The conv stem (ViTConfig.stem = 'conv'): k 3x3 stride-2 padding-1 convs, ReLU between them, the
 * last one to width D; each halves the side, so 64x64 -> 8x8 tokens with k = 3. Replaces conv1.
 *
 * @example
 * new ConvStem(3, 768, [64, 128]).patchSize;   // 8: three stride-2 convs
 */
export class ConvStem extends Module {
  convs: ModuleList<Conv2d>;

  constructor(readonly inChannels: number, readonly width: number, readonly widths: readonly number[]) {
    super();
    const chans = [inChannels, ...widths, width];
    this.convs = new ModuleList(chans.slice(1).map((o, i) => new Conv2d(chans[i], o, 3)));
  }

  /** Total stride: 2^(number of convs). */
  get patchSize(): number {
    return 2 ** this.convs.length;
  }

  /** images [B, C, H, W] -> tokens [B, gh·gw, D], gh = ceil(H / 2) applied once per conv. */
  forward(images: Tensor): { tokens: Tensor; gridH: number; gridW: number } {
    if (images.ndim !== 4 || images.shape[1] !== this.inChannels) {
      throw new Error(`ConvStem: expected images [B, ${this.inChannels}, H, W], got [${images.shape}]`);
    }
    // Channels-last from the first conv on: the tokens are channels-last too, so there is one permute in all.
    let x = images.permute([0, 2, 3, 1]); // [B, H, W, C]
    for (const [i, conv] of [...this.convs].entries()) {
      x = conv2dChannelsLast(x, conv.weight, conv.bias, { stride: 2, padding: 1 }); // [B, ⌈H/2^i⌉, ⌈W/2^i⌉, C_i]
      if (i < this.convs.length - 1) x = x.relu();
    }
    const [B, gh, gw, D] = x.shape;
    return { tokens: x.reshape([B, gh * gw, D]), gridH: gh, gridW: gw }; // [B, N, D]
  }
}

/**
 * A positional table [1 + g·g, D] (row 0 the CLS token's, then a g x g grid) for a gh x gw grid:
 * [1 + gh·gw, D]. The CLS row is kept; the grid of rows is resized with torch-style bilinear
 * interpolation (align_corners=False, no antialias), as ZegCLIP's `F.interpolate(..., mode='bilinear')`
 * does (method.md §1.3). Returns `pos` itself when the grid matches. Used on every forward at another
 * input size, and once to resize CLIP's table into SPT-SEG's (model/spt-init.ts).
 *
 * @example
 * resizePositionalEmbedding(randn([1 + 14 * 14, 768]), 32, 32).shape;   // [1025, 768]
 */
export function resizePositionalEmbedding(pos: Tensor, gh: number, gw: number): Tensor {
  const [rows, D] = pos.shape;
  const g = Math.round(Math.sqrt(rows - 1));
  if (g * g !== rows - 1) throw new Error(`positional embedding [${pos.shape}] is not 1 + a square grid`);
  if (g === gh && g === gw) return pos;
  const cls = pos.slice(0, 0, 1); // [1, D]
  const grid = pos.slice(0, 1).reshape([g, g, D]).permute([2, 0, 1]); // [D, g, g]
  const resized = resize2d(grid, gh, gw); // [D, gh, gw]
  return cat([cls, resized.permute([1, 2, 0]).reshape([gh * gw, D])], 0); // [1 + gh·gw, D]
}

/**
 * CLIP's ViT image tower: patch embedding, class token, positional table (resized bilinearly to other
 * grids), pre-norm transformer, ln_post and the projection to the joint embedding.
 *
 * @example
 * const vit = new VisionTransformer(VIT_B_16);
 * vit.forward(zeros([1, 3, 224, 224])).shape;   // [1, 512]
 */
export class VisionTransformer extends Module {
  /** The stem: CLIP's PatchConv, or the ConvStem option (same key prefix `conv1.`). */
  conv1: PatchConv | ConvStem;
  class_embedding: Parameter; // [D]
  positional_embedding: Parameter; // [1 + g·g, D]; row 0 belongs to the CLS token
  ln_pre: LayerNorm;
  transformer: Transformer;
  ln_post: LayerNorm;
  proj: Parameter; // [D, E], used as x @ proj (no bias)

  constructor(readonly config: ViTConfig) {
    super();
    const { imageSize, patchSize, width, layers, heads, outputDim } = config;
    const g = imageSize / patchSize;
    if (!Number.isInteger(g)) throw new Error(`ViT: imageSize ${imageSize} is not a multiple of patchSize ${patchSize}`);
    const scale = width ** -0.5; // clip/model.py: scale = width ** -0.5 for the three tables below
    if ((config.stem ?? 'patch') === 'conv') {
      const widths = config.stemWidths ?? [];
      if (2 ** (widths.length + 1) !== patchSize) {
        throw new Error(`ViT: a conv stem with ${widths.length + 1} stride-2 convs has total stride ${2 ** (widths.length + 1)}, not patchSize ${patchSize}`);
      }
      this.conv1 = new ConvStem(3, width, widths);
    } else {
      this.conv1 = new PatchConv(3, width, patchSize);
    }
    this.class_embedding = new Parameter(initNormal([width], 0, scale));
    this.positional_embedding = new Parameter(initNormal([g * g + 1, width], 0, scale));
    this.ln_pre = new LayerNorm(width);
    this.transformer = new Transformer(width, layers, heads);
    this.ln_post = new LayerNorm(width);
    this.proj = new Parameter(initNormal([width, outputDim], 0, scale));
  }

  /** The positional table for a gh x gw grid: [1 + gh·gw, D] (`resizePositionalEmbedding`). */
  positionalEmbeddingFor(gh: number, gw: number): Tensor {
    return resizePositionalEmbedding(this.positional_embedding, gh, gw);
  }

  /** Token sequence entering the first block: ln_pre([CLS, patches] + pos). */
  embed(images: Tensor): { tokens: Tensor; gridH: number; gridW: number } {
    const { tokens: patches, gridH, gridW } = this.conv1.forward(images); // [B, N, D]
    const [B, , D] = patches.shape;
    const cls = this.class_embedding.reshape([1, 1, D]).expand([B, 1, D]); // [B, 1, D]
    const x = cat([cls, patches], 1).add(this.positionalEmbeddingFor(gridH, gridW)); // [B, 1 + N, D]
    return { tokens: this.ln_pre.forward(x), gridH, gridW }; // [B, 1 + N, D]
  }

  /** All tokens after the last block, before ln_post: [B, 1 + N, D]. */
  encode(images: Tensor): Tensor {
    return this.transformer.forward(this.embed(images).tokens); // [B, 1 + N, D]
  }

  /**
   * Every token mapped into the joint space, as ZegCLIP does: ln_post(x) @ proj for all tokens.
   * Returns [B, 1 + N, E]; token 0 is the CLS (global) token, tokens 1.. the gh x gw grid in
   * row-major order, gh = floor(H / P), gw = floor(W / P).
   */
  forwardTokens(images: Tensor): Tensor {
    return this.ln_post.forward(this.encode(images)).matmul(this.proj); // [B, 1 + N, E]
  }

  /** CLIP's image embedding: ln_post(CLS) @ proj, [B, E] (not normalised). */
  forward(images: Tensor): Tensor {
    const x = this.encode(images); // [B, 1 + N, D]
    const cls = x.slice(1, 0, 1).squeeze(1); // [B, D]
    return this.ln_post.forward(cls).matmul(this.proj); // [B, E]
  }
}
