/**
 * `hlfs`, the attention module of SPT's spectral guided decoder: HiLo attention on the visual tokens
 * (Pan et al. 2022, LITv2), a cosine "spectral guidance" gate, then a readout by the class queries
 * whose dot products are the layer's mask logits. After [SPT] models/decode_heads/decode_seg.py
 * (method.md §2.4, §9), with the official parameter names.
 *
 * Does (x [B, N, D] the dense CLIP map as tokens, tgt [B, C, D] the class queries):
 *   1. reshape to [B, gh, gw, D], zero-pad right/bottom to multiples of the window ws (3): 32 -> 33.
 *      The padded zeros take part in both branches (keys of value 0 in Hi-Fi; the average pool
 *      divides by ws² regardless).
 *   2. Hi-Fi: h_heads = heads − ⌊heads·alpha⌋ (1) heads of self-attention inside each ws x ws
 *      window, qkv from h_qkv (no bias). The official hf does NOT apply h_proj (so it is not built).
 *   3. Lo-Fi: l_heads = ⌊heads·alpha⌋ (7) heads; queries l_q(every token), keys/values
 *      l_kv(AvgPool(ws, ws) of the padded map); output l_proj (with bias).
 *   4. x = [hi ‖ lo] cropped to gh x gw; gate m = clamp(cos(x, prompt), 0, 1) per token (or our
 *      'soft' option (1 + cos) / 2, which cannot shut every token);
 *      x = (x ⊙ m) @ top_down_transform  (a row vector times the matrix, not Linear's x·Wᵀ).
 *   5. logits = tgt · xᵀ  [B, C, N]  (plain dot products: no scale, no projections);
 *      out = proj(dropout(softmax_N(logits)) · x)  [B, C, D].
 * The head width is D / heads for both branches, scale 1/√(D / heads). HiLo takes heads = 8 and
 * alpha = 0.9 from its own defaults, not from the decoder's configured head count (§9).
 * Does not: the residual (the decoder layer adds it), the unused h_proj, dropout outside training.
 *
 * Glossary: B batch, N = gh·gw tokens, gh x gw grid, D width, C classes (queries), ws window side,
 *   Hp x Wp padded grid, M = (Hp/ws)·(Wp/ws) pooled tokens or windows per image, d head width.
 */
import {
  avgPool2d, cat, dropout, eye, normalize, padTo, scaledDotProductAttention, windowPartition,
  windowReverse, type Tensor,
} from '../engine/index.ts';
import { initNormal, Linear, Module, Parameter } from '../engine/nn/index.ts';

/** Options of `HiLo` (defaults: the official hlfs settings). */
export interface HiLoOptions {
  /** Total heads (8, hlfs' own default). */
  heads?: number;
  /** Fraction of heads in the Lo-Fi branch (0.9 -> 7 of 8). */
  alpha?: number;
  /** Window side of Hi-Fi and pooling size of Lo-Fi (3). */
  windowSize?: number;
  /** Dropout on the readout attention while training (attn_drop = 0.1). */
  attnDrop?: number;
  /**
   * The spectral guidance gate per token: 'clamp' = clamp(cos, 0, 1), the official code (default);
   * 'soft' = (1 + cos) / 2, our deviation, open at least a little everywhere, so the gate cannot shut
   * every token at once and stop training (docs/world.md measures both).
   */
  gate?: 'clamp' | 'soft';
}

/**
 * HiLo attention (LITv2) as SPT-SEG's spectral guided decoder uses it: Hi-Fi heads attend inside windows,
 * Lo-Fi heads to pooled keys, over the patch grid; `forward` also reads out the class queries `tgt`.
 *
 * @example
 * const hilo = new HiLo(512, { heads: 8, alpha: 0.9, windowSize: 3 });
 * const { out, logits } = hilo.forward(x, 32, 32, queries);   // x [B, 1024, 512]
 */
export class HiLo extends Module {
  l_q: Linear; // D -> l_dim, no bias
  l_kv: Linear; // D -> 2·l_dim, no bias
  l_proj: Linear; // l_dim -> l_dim
  h_qkv: Linear; // D -> 3·h_dim, no bias
  prompt: Parameter; // [D], the gate direction
  top_down_transform: Parameter; // [D, D], identity at init
  proj: Linear; // D -> D
  readonly heads: number;
  readonly lHeads: number;
  readonly hHeads: number;
  readonly headDim: number;
  readonly ws: number;
  readonly attnDrop: number;
  readonly gate: 'clamp' | 'soft';

  constructor(readonly dim: number, opts: HiLoOptions = {}) {
    super();
    this.heads = opts.heads ?? 8;
    this.ws = opts.windowSize ?? 3;
    this.attnDrop = opts.attnDrop ?? 0.1;
    this.gate = opts.gate ?? 'clamp';
    if (this.gate !== 'clamp' && this.gate !== 'soft') throw new Error(`HiLo: gate must be 'clamp' or 'soft', got '${String(this.gate)}'`);
    if (dim % this.heads !== 0) throw new Error(`HiLo: width ${dim} cannot be split into ${this.heads} heads`);
    this.headDim = dim / this.heads;
    this.lHeads = Math.floor(this.heads * (opts.alpha ?? 0.9)); // int(8 · 0.9) = 7
    this.hHeads = this.heads - this.lHeads;
    if (this.lHeads < 1 || this.hHeads < 1) {
      throw new Error(`HiLo: alpha ${opts.alpha} gives ${this.lHeads} Lo-Fi and ${this.hHeads} Hi-Fi heads; both must be ≥ 1`);
    }
    const lDim = this.lHeads * this.headDim, hDim = this.hHeads * this.headDim;
    this.l_q = new Linear(dim, lDim, false);
    this.l_kv = new Linear(dim, 2 * lDim, false);
    this.l_proj = new Linear(lDim, lDim);
    this.h_qkv = new Linear(dim, 3 * hDim, false);
    this.prompt = new Parameter(initNormal([dim])); // torch.randn(dim)
    this.top_down_transform = new Parameter(eye(dim));
    this.proj = new Linear(dim, dim);
  }

  /** Hi-Fi: windowed self-attention on the padded map xp [B, Hp, Wp, D] -> [B, gh, gw, h_dim]. */
  private hiFi(xp: Tensor, gh: number, gw: number): Tensor {
    const ws = this.ws, hh = this.hHeads, d = this.headDim;
    const win = windowPartition(xp, ws); // [B·M, ws, ws, D]
    const Bm = win.shape[0];
    const qkv = this.h_qkv.forward(win.reshape([Bm, ws * ws, this.dim])); // [B·M, ws², 3·h_dim]
    const parts = qkv.reshape([Bm, ws * ws, 3, hh, d]).permute([2, 0, 3, 1, 4]); // [3, B·M, hh, ws², d]
    const [q, k, v] = [0, 1, 2].map((i) => parts.slice(0, i, i + 1).squeeze(0)); // [B·M, hh, ws², d]
    const o = scaledDotProductAttention(q, k, v); // [B·M, hh, ws², d]
    const merged = o.permute([0, 2, 1, 3]).reshape([Bm, ws, ws, hh * d]); // [B·M, ws, ws, h_dim]
    return windowReverse(merged, ws, gh, gw); // [B, gh, gw, h_dim]
  }

  /** Lo-Fi: every token attends to the ws x ws average-pooled map -> [B, gh, gw, l_dim]. */
  private loFi(x: Tensor, xp: Tensor, gh: number, gw: number): Tensor {
    const [B, N] = x.shape;
    const lh = this.lHeads, d = this.headDim;
    const q = this.l_q.forward(x).reshape([B, N, lh, d]).permute([0, 2, 1, 3]); // [B, lh, N, d]
    const pooled = avgPool2d(xp.permute([0, 3, 1, 2]), this.ws); // [B, D, Hp/ws, Wp/ws]
    const M = pooled.shape[2] * pooled.shape[3];
    const kvIn = pooled.reshape([B, this.dim, M]).permute([0, 2, 1]); // [B, M, D]
    const kv = this.l_kv.forward(kvIn).reshape([B, M, 2, lh, d]).permute([2, 0, 3, 1, 4]); // [2, B, lh, M, d]
    const k = kv.slice(0, 0, 1).squeeze(0), v = kv.slice(0, 1, 2).squeeze(0); // [B, lh, M, d]
    const o = scaledDotProductAttention(q, k, v).permute([0, 2, 1, 3]).reshape([B, N, lh * d]); // [B, N, l_dim]
    return this.l_proj.forward(o).reshape([B, gh, gw, lh * d]); // [B, gh, gw, l_dim]
  }

  /** The HiLo features [hi ‖ lo] of x [B, N, D] and their cosine with the gate direction: [B, N, D], [B, N, 1]. */
  hiLo(x: Tensor, gh: number, gw: number): { hl: Tensor; cos: Tensor } {
    const [B, N, D] = x.shape;
    if (N !== gh * gw || D !== this.dim) {
      throw new Error(`HiLo: expected memory [B, ${gh}·${gw}, ${this.dim}], got [${x.shape.join(', ')}]`);
    }
    const xp = padTo(x.reshape([B, gh, gw, D]), [1, 2], this.ws); // [B, Hp, Wp, D], zeros right/bottom
    const hl = cat([this.hiFi(xp, gh, gw), this.loFi(x, xp, gh, gw)], 3).reshape([B, N, D]); // [B, N, D]
    const dir = normalize(this.prompt, { dim: 0 }).reshape([D, 1]); // [D, 1]
    return { hl, cos: normalize(hl, { dim: -1 }).matmul(dir) }; // [B, N, D], [B, N, 1]
  }

  /**
   * The HiLo features with the gate applied: x [B, N, D] -> [B, N, D]. With the official 'clamp'
   * gate a token whose cosine with `prompt` is ≤ 0 is zeroed, and the clamp passes it no gradient: if
   * every token is closed the layer's logits are 0 and nothing trains (see `orientGates` in
   * spt-init.ts). The 'soft' gate (1 + cos) / 2 is 0 only where cos = −1 exactly.
   */
  visual(x: Tensor, gh: number, gw: number): Tensor {
    const { hl, cos } = this.hiLo(x, gh, gw);
    const m = this.gate === 'clamp' ? cos.clamp(0, 1) : cos.add(1).mul(0.5); // [B, N, 1]
    return hl.mul(m).matmul(this.top_down_transform); // [B, N, D]
  }

  /**
   * The readout: memory x [B, N, D], queries tgt [B, C, D] -> tgt2 [B, C, D] and the layer's mask
   * logits [B, C, N] (pre-softmax dot products).
   */
  forward(x: Tensor, gh: number, gw: number, tgt: Tensor): { out: Tensor; logits: Tensor } {
    const v = this.visual(x, gh, gw); // [B, N, D]
    const logits = tgt.matmul(v.transpose(1, 2)); // [B, C, N]
    const attn = dropout(logits.softmax(-1), this.attnDrop, this.training); // [B, C, N]
    return { out: this.proj.forward(attn.matmul(v)), logits }; // [B, C, D]
  }
}
