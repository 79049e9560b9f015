/**
 * SPT's decode head: `ATMSingleHeadSeg` with `TPN_DecoderLayer`s, after [SPT]
 * models/decode_heads/decode_seg.py (method.md §2, §8 steps 8-10), official parameter names.
 *
 * Does (dense [B, E, gh, gw] and global [B, E] from the SPT encoder, text [C, E] class embeddings):
 *   queries  q = q_proj([t ⊙ g, t])                       [B, C, Dd]   (the relationship descriptor)
 *   each layer (post-norm, the memory is the same dense map for every layer):
 *     tgt2, logits = attention(memory, tgt)
 *     tgt = norm2(tgt + dropout2(tgt2))
 *     tgt = norm3(tgt + dropout3(linear2(dropout(relu(linear1(tgt))))))
 *   mask logits of every layer [B, C, gh, gw]; the segmenter upsamples only the last one.
 * Two attentions (DecoderOptions.attention):
 *   'hilo'   SPT's `hlfs` (model/hilo.ts): HiLo + spectral guidance gate + dot-product readout (default)
 *   'cross'  ZegCLIP's `multihead_attn` (the ablation baseline, method.md §2.4 item 7): heads of
 *            q/k/v Linear (with bias) cross-attention; logits = head-mean of q·kᵀ/√d; output proj.
 * Does not: build what the official forward never calls (self_attn, norm1, dropout1, the other
 *   attention, input_proj/proj_norm which are Identity with use_proj=False); there is no
 *   self-attention among the class queries. Initialisation here is the engine's Linear default; the
 *   official trunc_normal(0.02) is applied by spt-init.ts when training starts from CLIP (with its
 *   gate guard and the optional aligned start). Tensors are batch-first.
 *
 * Glossary: B batch, C classes, E joint embedding width (= Dd officially), Dd decoder width,
 *   F feed-forward width, N = gh·gw tokens, H heads, d head width.
 */
import { cat, dropout, scaledDotProductAttention, type Tensor } from '../engine/index.ts';
import { LayerNorm, Linear, Module, ModuleList } from '../engine/nn/index.ts';
import { HiLo, type HiLoOptions } from './hilo.ts';

/** The shape of the spectral guided decoder (`VOC_VIT_B16.decoder` is the preset). */
export interface DecoderOptions {
  /** Width E of the CLIP embeddings (the memory and the text). Must equal `width` (use_proj=False). */
  embedDim: number;
  /** Decoder width Dd (embed_dims, 512). */
  width: number;
  /** Decoder layers (3). */
  layers: number;
  /** Feed-forward width (2048 = 4·512, dim_feedforward). */
  ffn: number;
  /** 'hilo' (SPT, default) or 'cross' (ZegCLIP baseline). */
  attention?: 'hilo' | 'cross';
  /** HiLo settings (heads 8, alpha 0.9, window 3). */
  hilo?: HiLoOptions;
  /** Heads of the 'cross' attention (8). */
  crossHeads?: number;
  /** Dropout of the torch TransformerDecoderLayer (0.1), training only. */
  dropout?: number;
}

/**
 * ZegCLIP's `Attention`: query-to-memory cross-attention whose head-mean scores are the mask logits.
 *
 * @example
 * new CrossAttention(512, 8);
 */
export class CrossAttention extends Module {
  q: Linear;
  k: Linear;
  v: Linear;
  proj: Linear;

  constructor(readonly dim: number, readonly heads: number) {
    super();
    if (dim % heads !== 0) throw new Error(`CrossAttention: width ${dim} cannot be split into ${heads} heads`);
    this.q = new Linear(dim, dim);
    this.k = new Linear(dim, dim);
    this.v = new Linear(dim, dim);
    this.proj = new Linear(dim, dim);
  }

  /** memory [B, N, D], tgt [B, C, D] -> tgt2 [B, C, D], logits [B, C, N]. */
  forward(memory: Tensor, tgt: Tensor): { out: Tensor; logits: Tensor } {
    const [B, N, D] = memory.shape;
    const C = tgt.shape[1], H = this.heads, d = D / H;
    const split = (t: Tensor, n: number) => t.reshape([B, n, H, d]).permute([0, 2, 1, 3]); // [B, H, n, d]
    const q = split(this.q.forward(tgt), C), k = split(this.k.forward(memory), N), v = split(this.v.forward(memory), N);
    const logits = q.matmul(k.transpose(2, 3)).mul(1 / Math.sqrt(d)).sum(1).mul(1 / H); // [B, C, N]
    const o = scaledDotProductAttention(q, k, v).permute([0, 2, 1, 3]).reshape([B, C, D]); // [B, C, D]
    return { out: this.proj.forward(o), logits };
  }
}

/**
 * One TPN_DecoderLayer: attention readout, then the post-norm residual and FFN.
 *
 * @example
 * new DecoderLayer(512, 2048, 'hilo', VOC_VIT_B16.decoder);
 */
export class DecoderLayer extends Module {
  hlfs: HiLo | null;
  multihead_attn: CrossAttention | null;
  linear1: Linear;
  linear2: Linear;
  norm2: LayerNorm;
  norm3: LayerNorm;

  constructor(width: number, ffn: number, attention: 'hilo' | 'cross', opts: DecoderOptions) {
    super();
    this.hlfs = attention === 'hilo' ? new HiLo(width, opts.hilo) : null;
    this.multihead_attn = attention === 'cross' ? new CrossAttention(width, opts.crossHeads ?? 8) : null;
    this.linear1 = new Linear(width, ffn);
    this.linear2 = new Linear(ffn, width);
    this.norm2 = new LayerNorm(width);
    this.norm3 = new LayerNorm(width);
  }

  /** tgt [B, C, Dd], memory [B, N, Dd] -> the new queries [B, C, Dd] and this layer's logits [B, C, N]. */
  forward(tgt: Tensor, memory: Tensor, gh: number, gw: number, p: number): { tgt: Tensor; logits: Tensor } {
    const { out, logits } = this.hlfs ? this.hlfs.forward(memory, gh, gw, tgt) : this.multihead_attn!.forward(memory, tgt);
    const drop = (x: Tensor) => dropout(x, p, this.training);
    const t1 = this.norm2.forward(tgt.add(drop(out))); // [B, C, Dd]
    const ff = this.linear2.forward(drop(this.linear1.forward(t1).relu())); // [B, C, Dd]
    return { tgt: this.norm3.forward(t1.add(drop(ff))), logits };
  }
}

/**
 * The `decoder_1` container (keys `decoder_1.layers.j.…`).
 *
 * @example
 * new TpnDecoder([layer0, layer1, layer2]);   // DecoderLayers
 */
export class TpnDecoder extends Module {
  layers: ModuleList<DecoderLayer>;

  constructor(layers: DecoderLayer[]) {
    super();
    this.layers = new ModuleList(layers);
  }
}

/** What the decoder returns: mask logits per layer and the final class queries. */
export interface DecoderOutput {
  /** Mask logits of every layer, [B, C, gh, gw] each; the last one is the prediction. */
  layerLogits: Tensor[];
  /** The class queries after the last layer [B, C, Dd]. */
  queries: Tensor;
}

/**
 * ATMSingleHeadSeg (use_stages = 1, use_proj = False).
 *
 * @example
 * const head = new DecodeHead(VOC_VIT_B16.decoder);
 */
export class DecodeHead extends Module {
  q_proj: Linear; // 2E -> Dd
  decoder_1: TpnDecoder;
  readonly options: Required<Pick<DecoderOptions, 'attention' | 'dropout'>> & DecoderOptions;

  constructor(opts: DecoderOptions) {
    super();
    this.options = { attention: 'hilo', dropout: 0.1, ...opts };
    if (opts.embedDim !== opts.width) {
      throw new Error(`DecodeHead: the memory (width ${opts.embedDim}) enters the layers unprojected (use_proj=False), so the decoder width must equal it, got ${opts.width}`);
    }
    this.q_proj = new Linear(2 * opts.embedDim, opts.width);
    const layers = Array.from({ length: opts.layers }, () => new DecoderLayer(opts.width, opts.ffn, this.options.attention, opts));
    this.decoder_1 = new TpnDecoder(layers);
  }

  /** get_qs: [t ⊙ g, t] for every image: text [C, E], global [B, E] -> [B, C, 2E]. */
  static relationQueries(text: Tensor, global: Tensor): Tensor {
    const [B, E] = global.shape, C = text.shape[0];
    const t = text.unsqueeze(0).expand([B, C, E]); // [B, C, E]
    return cat([t.mul(global.unsqueeze(1)), t], 2); // [B, C, 2E]
  }

  forward(dense: Tensor, global: Tensor, text: Tensor): DecoderOutput {
    const [B, E, gh, gw] = dense.shape;
    if (text.ndim !== 2 || text.shape[1] !== E) {
      throw new Error(`DecodeHead: text embeddings must be [C, ${E}] (the image embedding width), got [${text.shape.join(', ')}]`);
    }
    const memory = dense.reshape([B, E, gh * gw]).permute([0, 2, 1]); // [B, N, E]
    let tgt = this.q_proj.forward(DecodeHead.relationQueries(text, global)); // [B, C, Dd]
    const layerLogits: Tensor[] = [];
    for (const layer of this.decoder_1.layers) {
      const r = layer.forward(tgt, memory, gh, gw, this.options.dropout);
      tgt = r.tgt; // [B, C, Dd]
      layerLogits.push(r.logits.reshape([B, r.logits.shape[1], gh, gw])); // [B, C, gh, gw]
    }
    return { layerLogits, queries: tgt };
  }
}
