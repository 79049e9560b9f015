/**
 * The SPT image encoder: CLIP's ViT with VPT prompts (shallow + deep) and SPT's spectral prompt,
 * after [SPT] models/backbone/img_encoder.py `VPTCLIPVisionTransformer` (method.md §1, §8 steps 2-7).
 *
 * Does:
 *   image [B, 3, H, W] -> conv1 patches -> [CLS, patches] + positional embedding (the stored grid
 *   resized bilinearly to the image's grid) -> ln_pre.
 *   Before block 0:  x = [CLS, drop(prompt_proj(prompt_embeddings)), patches + P0]
 *   Before block i ≥ 1 (deep prompts): the T prompt outputs of block i−1 are REPLACED by
 *     drop(prompt_proj(deep_prompt_embeddings[i−1]))  (one prompt_proj shared by every block);
 *     blocks past the last deep set run without prompts, as the official code does.
 *   Spectral prompt at the inputs of blocks i < spectralBlocks (2):
 *     P = irfft2(rfft2(patches ⊙ CLS, ortho) ⊙ complex_weight, ortho), added to the patch tokens.
 *     P1 (block 1) comes from block 0's RAW residual stream (not LayerNorm'd), as in the official code.
 *   After the last block: prompt_norm -> ln_post -> @ proj; global = token 0, dense = the patch
 *   tokens as a map [B, E, gh, gw]; both L2-normalised (the dense map over channels).
 * Quirks of the official forward are the defaults, each behind a switch (SptConfig):
 *   clsQuirk        CLS = 2·class_embedding + pos[0] (official) instead of CLIP's class_embedding + pos[0]
 *   p1FromResidual  P1 from the raw residual stream (official) or from block 1's ln_1 output
 * Ablations: spectral = false (no complex_weight, no spectral prompt), deepLayers = 0 (VPT-shallow:
 *   the shallow prompts stay in the sequence through every block).
 * Does not: DropPath (declared but never applied officially, method.md §1.3), the dead `proj_fre`,
 *   multi-stage outputs (out_indices has one entry). The norms and proj run on the CLS and patch
 *   tokens only: they are per-token, so dropping the prompt tokens first gives the same numbers.
 *   Non-square grids work (the official code assumes a square one: a = b = √N).
 *
 * Glossary: B batch, T prompt tokens, N = gh·gw patch tokens, gh x gw patch grid, D width,
 *   E joint embedding width, Wf = gw/2 + 1 half-spectrum width, L blocks.
 */
import { cat, complexMul, irfft2, normalize, rfft2, type Tensor } from '../engine/index.ts';
import { Dropout, initNormal, initUniform, LayerNorm, Linear, Parameter } from '../engine/nn/index.ts';
import { VisionTransformer, type ViTConfig } from './vit.ts';

/** The SPT-SEG image encoder: the CLIP ViT it builds on plus the deep and spectral prompts. */
export interface SptConfig {
  /** The CLIP ViT it builds on. `imageSize / patchSize` is the STORED positional grid. */
  vision: ViTConfig;
  /** Prompt tokens T per block (10 for VOC, 100 for COCO-Stuff). */
  numTokens: number;
  /** Deep prompt sets, for blocks 1..deepLayers (L − 1 = 11 officially; 0 = VPT-shallow ablation). */
  deepLayers: number;
  /** Patch grid [gh, gw] the spectral filter is built for (32 x 32 at 512² / 16), or null = no spectral prompt. */
  spectralGrid: readonly [number, number] | null;
  /** Blocks whose inputs get the spectral prompt (2, the official `if i < 2`). */
  spectralBlocks?: number;
  /** Dropout on the projected prompts while training (0.1). */
  promptDropout?: number;
  /** CLS = 2·class_embedding + pos[0], the official double addition (default true). */
  clsQuirk?: boolean;
  /** P1 from block 0's raw residual stream (default true); false = from block 1's ln_1 output. */
  p1FromResidual?: boolean;
}

/** The encoder's outputs: both L2-normalised. */
export interface SptFeatures {
  dense: Tensor; // [B, E, gh, gw]
  global: Tensor; // [B, E]
}

/**
 * The SPT-SEG image encoder (method.md §1-§2): CLIP's ViT with deep visual prompts and the spectral
 * prompt (an FFT filter on the patch grid) added to the inputs of the first blocks; outputs dense and global
 * features.
 *
 * @example
 * const enc = new SptVisionTransformer(VOC_VIT_B16.encoder);
 * const { dense, global } = enc.features(images);   // [B, 512, 32, 32], [B, 512]
 */
export class SptVisionTransformer extends VisionTransformer {
  prompt_embeddings: Parameter; // [1, T, D]
  deep_prompt_embeddings: Parameter | null; // [deepLayers, T, D]
  prompt_proj: Linear; // D -> D, shared by every block
  prompt_norm: LayerNorm; // eps 1e-6
  prompt_dropout: Dropout;
  complex_weight: Parameter | null; // [gh, Wf, D, 2]: (real, imaginary)
  readonly spt: Required<SptConfig>;

  constructor(config: SptConfig) {
    super(config.vision);
    this.spt = { spectralBlocks: 2, promptDropout: 0.1, clsQuirk: true, p1FromResidual: true, ...config };
    const { width: D, patchSize: P, layers } = config.vision;
    const T = config.numTokens;
    if (!Number.isInteger(T) || T < 1) throw new Error(`SPT: numTokens must be a positive integer, got ${T}`);
    if (config.deepLayers < 0 || config.deepLayers > layers - 1) {
      throw new Error(`SPT: deepLayers must be in 0..${layers - 1} (blocks 1..L-1), got ${config.deepLayers}`);
    }
    const v = Math.sqrt(6 / (3 * P * P + D)); // VPT's xavier rule: 0.0625 for ViT-B/16
    this.prompt_embeddings = new Parameter(initUniform([1, T, D], -v, v));
    this.deep_prompt_embeddings = config.deepLayers > 0 ? new Parameter(initUniform([config.deepLayers, T, D], -v, v)) : null;
    this.prompt_proj = new Linear(D, D);
    // The official VPT init: kaiming_normal_(weight, a=0, mode='fan_out') = N(0, 2 / D); the bias keeps Linear's.
    this.prompt_proj.weight = new Parameter(initNormal([D, D], 0, Math.sqrt(2 / D)));
    this.prompt_norm = new LayerNorm(D, 1e-6);
    this.prompt_dropout = new Dropout(this.spt.promptDropout);
    const g = config.spectralGrid;
    this.complex_weight = g ? new Parameter(initNormal([g[0], Math.floor(g[1] / 2) + 1, D, 2], 0, 0.02)) : null;
  }

  /**
   * fre_filter: the spectral prompt for patch tokens [B, N, D] given the CLS token [B, 1, D]:
   * irfft2(rfft2(patches ⊙ cls) ⊙ W) with 'ortho' scaling over the gh x gw grid, per channel.
   */
  spectralPrompt(patches: Tensor, cls: Tensor, gh: number, gw: number): Tensor {
    const W = this.complex_weight;
    if (!W) throw new Error('SPT: this encoder has no spectral filter (spectralGrid: null)');
    const [B, N, D] = patches.shape;
    const x = patches.mul(cls).reshape([B, gh, gw, D]).permute([0, 3, 1, 2]); // [B, D, gh, gw]
    const X = rfft2(x, { norm: 'ortho' }); // [B, D, gh, Wf, 2]
    const filtered = complexMul(X, W.permute([2, 0, 1, 3])); // [B, D, gh, Wf, 2] ⊙ [D, gh, Wf, 2]
    const y = irfft2(filtered, [gh, gw], { norm: 'ortho' }); // [B, D, gh, gw]
    return y.permute([0, 2, 3, 1]).reshape([B, N, D]); // [B, N, D]
  }

  /** The projected (and, when training, dropped-out) prompts [B, T, D] from raw prompts [T, D]. */
  private projectPrompts(raw: Tensor, B: number): Tensor {
    const p = this.prompt_dropout.forward(this.prompt_proj.forward(raw)); // [T, D]
    return p.unsqueeze(0).expand([B, ...p.shape]); // [B, T, D]
  }

  /** ln_pre([CLS, patches] + pos), with the CLS quirk: [B, 1 + N, D]. */
  private embedWithQuirk(images: Tensor): { x: Tensor; gh: number; gw: number } {
    const { tokens: patches, gridH: gh, gridW: gw } = this.conv1.forward(images); // [B, N, D]
    const [B, , D] = patches.shape;
    const pos = this.positionalEmbeddingFor(gh, gw); // [1 + N, D]
    const times = this.spt.clsQuirk ? 2 : 1; // official: class_embedding is in the token AND in cls_pos
    const cls = this.class_embedding.mul(times).reshape([1, 1, D]).expand([B, 1, D]); // [B, 1, D]
    return { x: this.ln_pre.forward(cat([cls, patches], 1).add(pos)), gh, gw }; // [B, 1 + N, D]
  }

  private checkGrid(gh: number, gw: number): void {
    const W = this.complex_weight;
    if (W && (W.shape[0] !== gh || W.shape[1] !== Math.floor(gw / 2) + 1)) {
      const [sh, sw] = this.spt.spectralGrid ?? [0, 0];
      throw new Error(
        `SPT: complex_weight [${W.shape.join(', ')}] is built for a ${sh}x${sw} patch grid, but the image gives ` +
        `${gh}x${gw}; feed ${sh * this.config.patchSize}x${sw * this.config.patchSize} images (or crops)`);
    }
  }

  /** images [B, 3, H, W] -> the L2-normalised dense map [B, E, gh, gw] and global embedding [B, E]. */
  features(images: Tensor): SptFeatures {
    const { x: x0, gh, gw } = this.embedWithQuirk(images); // [B, 1 + N, D]
    this.checkGrid(gh, gw);
    const [B] = x0.shape;
    const N = gh * gw, T = this.spt.numTokens;
    const spectralAt = (i: number) => this.complex_weight !== null && i < this.spt.spectralBlocks;
    const blocks = this.transformer.resblocks;
    let h = x0; // [B, 1 + (T) + N, D]
    let withPrompts = false; // does h hold T prompt tokens after the CLS?
    for (let i = 0; i < blocks.length; i++) {
      const cls = h.slice(1, 0, 1); // [B, 1, D]
      let patches = h.slice(1, h.shape[1] - N); // [B, N, D]
      if (spectralAt(i)) {
        const source = i > 0 && !this.spt.p1FromResidual ? blocks.at(i).ln_1.forward(h) : h;
        const p = this.spectralPrompt(source.slice(1, source.shape[1] - N), source.slice(1, 0, 1), gh, gw);
        patches = patches.add(p); // [B, N, D]
      }
      let prompts: Tensor | null = null; // [B, T, D]
      if (i === 0) prompts = this.projectPrompts(this.prompt_embeddings.squeeze(0), B);
      else if (this.deep_prompt_embeddings && i <= this.deep_prompt_embeddings.shape[0]) {
        prompts = this.projectPrompts(this.deep_prompt_embeddings.slice(0, i - 1, i).squeeze(0), B); // replaces block i−1's
      } else if (!this.deep_prompt_embeddings && withPrompts) {
        prompts = h.slice(1, 1, 1 + T); // VPT-shallow: the shallow prompts travel on
      }
      h = blocks.at(i).forward(cat(prompts ? [cls, prompts, patches] : [cls, patches], 1)); // [B, 1 + T? + N, D]
      withPrompts = prompts !== null;
    }
    const kept = cat([h.slice(1, 0, 1), h.slice(1, h.shape[1] - N)], 1); // [B, 1 + N, D]
    const out = this.ln_post.forward(this.prompt_norm.forward(kept)).matmul(this.proj); // [B, 1 + N, E]
    const E = out.shape[2];
    const global = normalize(out.slice(1, 0, 1).squeeze(1), { dim: 1 }); // [B, E]
    const grid = out.slice(1, 1).reshape([B, gh, gw, E]).permute([0, 3, 1, 2]); // [B, E, gh, gw]
    return { dense: normalize(grid, { dim: 1 }), global };
  }
}
