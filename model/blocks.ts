/**
 * The transformer pieces shared by CLIP's two towers (and by the SPT image encoder later):
 * MultiheadAttention, Mlp, ResidualAttentionBlock and Transformer, after OpenAI's `clip/model.py`.
 *
 * Parameter names are OpenAI's checkpoint keys, so `transformer.resblocks.0.attn.in_proj_weight`
 * is a property path here and loading a checkpoint is a name lookup.
 *
 * Does: pre-LN residual blocks  x += attn(ln_1(x));  x += mlp(ln_2(x)),  with the arithmetic of
 *   torch's nn.MultiheadAttention (packed q|k|v projection, scaled dot product per head, out_proj)
 *   and CLIP's QuickGELU MLP (D -> 4D -> D). An optional additive mask (the text tower's causal
 *   mask) is added to the attention scores.
 * Does not: dropout (CLIP uses none), key padding masks, cross-attention, or DropPath (ZegCLIP/SPT
 *   declare it but never apply it, method.md §1.3). Tensors are batch-first [B, N, D]; OpenAI's code
 *   is sequence-first [N, B, D], which changes the memory layout and nothing else.
 * Initialisation (only matters for random models in tests and benchmarks; real use loads weights):
 *   in_proj_weight ~ N(0, D^-½) as CLIP's `initialize_parameters`, in_proj_bias = 0, and the
 *   Linear / LayerNorm defaults of PyTorch elsewhere.
 *
 * Glossary: B batch, N tokens, D width, H heads, d head width (D / H).
 */
import { linear, quickGelu, scaledDotProductAttention, zeros, type Tensor } from '../engine/index.ts';
import { initNormal, LayerNorm, Linear, Module, ModuleList, Parameter } from '../engine/nn/index.ts';

/**
 * torch.nn.MultiheadAttention, self-attention only, with its parameter names.
 *
 * @example
 * new MultiheadAttention(512, 8).forward(x);   // x [B, N, 512] -> [B, N, 512]
 */
export class MultiheadAttention extends Module {
  /** The q, k and v projections stacked along dim 0 (rows 0..D-1 give q): [3D, D]. */
  in_proj_weight: Parameter;
  in_proj_bias: Parameter; // [3D]
  out_proj: Linear;

  constructor(readonly embedDim: number, readonly numHeads: number) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: width ${embedDim} cannot be split into ${numHeads} heads`);
    }
    this.in_proj_weight = new Parameter(initNormal([3 * embedDim, embedDim], 0, embedDim ** -0.5));
    this.in_proj_bias = new Parameter(zeros([3 * embedDim]));
    this.out_proj = new Linear(embedDim, embedDim);
  }

  /** Self-attention over x [B, N, D]. `mask` is additive and broadcasts to [B, H, N, N]. */
  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const [B, N, D] = x.shape;
    const H = this.numHeads, d = D / H;
    const qkv = linear(x, this.in_proj_weight, this.in_proj_bias); // [B, N, 3D]
    // Split the packed projection: feature index = part·D + head·d + j, part 0/1/2 = q/k/v.
    const parts = qkv.reshape([B, N, 3, H, d]).permute([2, 0, 3, 1, 4]); // [3, B, H, N, d]
    const [q, k, v] = [0, 1, 2].map((i) => parts.slice(0, i, i + 1).reshape([B, H, N, d])); // [B, H, N, d]
    const o = scaledDotProductAttention(q, k, v, { mask }); // [B, H, N, d]; softmax(q·kᵀ/√d + mask)·v
    const merged = o.permute([0, 2, 1, 3]).reshape([B, N, D]); // [B, N, D], heads side by side
    return this.out_proj.forward(merged); // [B, N, D]
  }
}

/**
 * CLIP's MLP: c_fc (D -> 4D), QuickGELU x·σ(1.702x), c_proj (4D -> D).
 *
 * @example
 * new Mlp(768).forward(x);   // x [B, N, 768], hidden 3072
 */
export class Mlp extends Module {
  c_fc: Linear;
  c_proj: Linear;

  constructor(width: number) {
    super();
    this.c_fc = new Linear(width, 4 * width);
    this.c_proj = new Linear(4 * width, width);
  }

  forward(x: Tensor): Tensor {
    return this.c_proj.forward(quickGelu(this.c_fc.forward(x))); // [B, N, D]
  }
}

/**
 * One pre-LN block. Properties are declared in OpenAI's order: attn, ln_1, mlp, ln_2.
 *
 * @example
 * new ResidualAttentionBlock(768, 12).forward(x);   // x [B, N, 768]
 */
export class ResidualAttentionBlock extends Module {
  attn: MultiheadAttention;
  ln_1: LayerNorm;
  mlp: Mlp;
  ln_2: LayerNorm;

  constructor(width: number, heads: number) {
    super();
    this.attn = new MultiheadAttention(width, heads);
    this.ln_1 = new LayerNorm(width); // eps 1e-5, as torch and CLIP
    this.mlp = new Mlp(width);
    this.ln_2 = new LayerNorm(width);
  }

  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const h = x.add(this.attn.forward(this.ln_1.forward(x), mask)); // [B, N, D]
    return h.add(this.mlp.forward(this.ln_2.forward(h))); // [B, N, D]
  }
}

/**
 * A stack of `layers` blocks in `resblocks` (keys `resblocks.0.…`, `resblocks.1.…`, …).
 *
 * @example
 * new Transformer(768, 12, 12).forward(x);   // 12 blocks over x [B, N, 768]
 */
export class Transformer extends Module {
  resblocks: ModuleList<ResidualAttentionBlock>;

  constructor(readonly width: number, readonly layers: number, readonly heads: number) {
    super();
    this.resblocks = new ModuleList(Array.from({ length: layers }, () => new ResidualAttentionBlock(width, heads)));
  }

  /** x [B, N, D] through every block. The SPT encoder walks `resblocks` itself to insert prompts. */
  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    let h = x;
    for (const block of this.resblocks) h = block.forward(h, mask); // [B, N, D]
    return h;
  }
}
