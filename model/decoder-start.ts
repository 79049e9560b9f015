/**
 * Where SPT-SEG's decode head starts training when the official init would lose the unseen classes:
 * at the frozen-CLIP solution (`alignDecoder`), with one temperature and one threshold fitted to the
 * first batch (`calibrateDecoder`). Our options for small worlds, not the official code
 * (docs/world.md says what each one measured on the shapes world).
 *
 * Does:
 *   alignDecoder (plain cross-attention decoder)  q_proj reads only the text half of [t ⊙ g, t]
 *     (weight [0 | a·I]: the first queries are a·t), every layer's q and k are b·I with zero bias, so
 *     layer 0's logits are a·b²·(t·x)/(H·√d): the frozen-CLIP score of patch x for class t, scaled.
 *   alignDecoder (spectral guided HiLo decoder), given the seen classes' embeddings and a batch:
 *     the readout logits are tgt · ((hl ⊙ gate) @ T), and only the Hi-Fi branch keeps per-token detail,
 *     with hDim = D / heads channels. So every layer's Hi-Fi v reads P·x, the projection of each token
 *     on the r ≤ hDim principal directions P of the centred seen-class embeddings (all of them when
 *     there are at most hDim + 1 seen classes: differences of seen scores are then kept exactly), its q
 *     and k are b·P·x (a window attends to the tokens like it); T maps those channels back (rows Pᵀ).
 *     The Lo-Fi branch is silenced to one constant channel β (l_proj weight 0, bias β·e₀), the gate
 *     direction points at it (so every gate is open, ≈ 1 since β is 10× the typical |P·x|), and T maps
 *     it to query channel k (the one P uses least), whose value the previous module fixes at 0:
 *     logits ≈ tgt·PᵀP·x + tgt_k·β. The unseen names are not used (inductive setting).
 *   calibrateDecoder  final logits = s · logits + c for the (s, c) of least loss on one batch. Both
 *     are exact and class-independent, so the class ranking at every patch is kept: s scales the last
 *     layer's queries (the previous layer's norm3, or q_proj with one layer); c is one "shift" channel:
 *       cross: q / k channel j of the last layer (the one with the smallest keys) with zero weight
 *              rows, k_j = 1 and q_j = the shift;
 *       HiLo:  query channel k, whose readout value is the constant β (from alignDecoder).
 *     Why: aligned logits are cosine scores, large and nearly all positive, while sigmoid focal loss
 *     wants nearly every (class, patch) logit negative; the first focal loss is ~20 and the first
 *     updates, all pushing one way, wreck the ranking before the loss says anything about classes.
 * Does not: the official init (spt-init.ts), the gate guard (orientGates, spt-init.ts).
 *
 * Glossary: B batch, C classes, D = E decoder width, H heads, d = D / H, hDim Hi-Fi width, lDim Lo-Fi
 *   width, N tokens, S seen classes, r principal directions kept.
 */
import { cat, eye, noGrad, tensor, zeros, type Tensor } from '../engine/index.ts';
import { LayerNorm, Linear } from '../engine/nn/index.ts';
import type { SptSeg } from './segmenter.ts';

/** Settings of `alignDecoder`. `seenText` and `images` are needed by the HiLo decoder only. */
export interface AlignOptions {
  /** a: tgt = a · t (1). */
  textScale?: number;
  /** b: cross q and k weights = b · I (9). */
  qkScale?: number;
  /** The seen classes' embeddings [S, E] (HiLo: where P comes from). */
  seenText?: Tensor;
  /** A training batch [B, 3, H, W] (HiLo: the scale of P·x, hence β and the q / k sharpness). */
  images?: Tensor;
}

/** What `alignDecoder` set up: for HiLo, the query channel k that carries the constant readout β. */
export interface AlignedDecoder {
  shiftChannel: number | null;
}

/** Start the decode head at the frozen-CLIP solution (see the file header). */
export function alignDecoder(model: SptSeg, opts: AlignOptions = {}): AlignedDecoder {
  const head = model.decode_head;
  const E = head.options.embedDim;
  noGrad(() => head.q_proj.weight.assign(cat([zeros([E, E]), eye(E).mul(opts.textScale ?? 1)], 1))); // [E, 2E]
  if (head.options.attention === 'hilo') return alignHiLo(model, opts);
  const b = opts.qkScale ?? 9;
  noGrad(() => {
    for (const layer of head.decoder_1.layers) {
      const attn = layer.multihead_attn!;
      for (const lin of [attn.q, attn.k]) {
        lin.weight.assign(eye(E).mul(b)); // [E, E]
        if (lin.bias) lin.bias.assign(zeros([E]));
      }
    }
  });
  return { shiftChannel: null };
}

/** Up to `r` orthonormal principal directions [r', E] of the rows of x [S, E] after centring (power iteration on the S × S Gram matrix). */
export function principalDirections(x: Tensor, r: number): Float64Array[] {
  const [S, E] = x.shape;
  const v = x.data();
  const mean = new Float64Array(E);
  for (let s = 0; s < S; s++) for (let i = 0; i < E; i++) mean[i] += v[s * E + i] / S;
  const y = Array.from({ length: S }, (_, s) => Float64Array.from({ length: E }, (_, i) => v[s * E + i] - mean[i]));
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, ai, i) => acc + ai * b[i], 0);
  const gram = y.map((a) => Float64Array.from(y, (b) => dot(a, b))); // [S, S]
  const total = gram.reduce((acc, row, s) => acc + row[s], 0);
  const out: Float64Array[] = [];
  for (let n = 0; n < Math.min(r, S - 1); n++) {
    let u = Float64Array.from({ length: S }, (_, s) => 1 + s); // a start not orthogonal to anything in practice
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = Float64Array.from({ length: S }, (_, s) => dot(gram[s], u)); // G u
      lambda = Math.sqrt(dot(w, w));
      if (lambda === 0) break;
      u = w.map((a) => a / lambda);
    }
    if (!(lambda > 1e-9 * total)) break; // the rest of the spectrum is empty
    // The direction in E-space: yᵀ u / √λ (unit length); deflate G by λ u uᵀ.
    const dir = new Float64Array(E);
    for (let s = 0; s < S; s++) for (let i = 0; i < E; i++) dir[i] += y[s][i] * u[s];
    const len = Math.sqrt(dot(dir, dir));
    out.push(dir.map((a) => a / len));
    for (let s = 0; s < S; s++) for (let q = 0; q < S; q++) gram[s][q] -= lambda * u[s] * u[q];
  }
  return out;
}

function alignHiLo(model: SptSeg, opts: AlignOptions): AlignedDecoder {
  if (!opts.seenText || !opts.images) throw new Error('alignDecoder: the HiLo decoder needs the seen classes\' embeddings (seenText) and a batch (images)');
  const head = model.decode_head;
  const E = head.options.embedDim;
  const layers = [...head.decoder_1.layers];
  const h0 = layers[0].hlfs!;
  const hDim = h0.hHeads * h0.headDim, lDim = E - hDim;
  const P = principalDirections(opts.seenText, hDim); // [r, E]
  const r = P.length;
  // Query channel k: the one the projection uses least (it gives up its part of tgt · PᵀP·x).
  let k = 0, least = Infinity;
  for (let i = 0; i < E; i++) {
    const w = P.reduce((acc, p) => acc + p[i] * p[i], 0);
    if (w < least) { least = w; k = i; }
  }
  const rows = (scale: number) => tensor(Float32Array.from({ length: hDim * E }, (_, j) => {
    const row = Math.floor(j / E);
    return row < r ? scale * P[row][j % E] : 0;
  }), [hDim, E]); // [hDim, E]
  noGrad(() => {
    const wasTraining = model.training;
    const { dense } = model.eval().backbone.features(opts.images!); // [B, E, gh, gw]
    model.train(wasTraining);
    const [B, , gh, gw] = dense.shape;
    const px = dense.reshape([B, E, gh * gw]).permute([0, 2, 1]).matmul(rows(1).transpose(0, 1)); // [B, N, hDim]
    const rms = Math.sqrt(px.square().sum(2).mean(0).mean(0).item()) || 1; // typical |P·x|
    const beta = 10 * rms;
    const b = Math.sqrt((3 * Math.sqrt(h0.headDim)) / (rms * rms)); // q·k/√d ≈ 3 for a typical token with itself
    const T = new Float32Array(E * E); // [E, E], hl @ T
    for (let i = 0; i < r; i++) for (let j = 0; j < E; j++) T[i * E + j] = P[i][j];
    T[hDim * E + k] = 1; // the constant Lo-Fi channel → query channel k
    const gate = new Float32Array(E);
    gate[hDim] = 1;
    const lBias = new Float32Array(lDim);
    lBias[0] = beta;
    for (const layer of layers) {
      const h = layer.hlfs!;
      h.h_qkv.weight.assign(cat([rows(b), rows(b), rows(1)], 0)); // [3·hDim, E]: q, k, v
      h.l_proj.weight.assign(zeros([lDim, lDim]));
      h.l_proj.bias!.assign(tensor(lBias, [lDim]));
      h.prompt.assign(tensor(gate, [E]));
      h.top_down_transform.assign(tensor(T, [E, E]));
    }
    // The module before the last layer leaves query channel k at 0 (calibrateDecoder sets its value).
    const pre = beforeLastLayer(model);
    const keep = oneHot(E, k).neg().add(1); // [E], 1 except at k
    if (pre instanceof LayerNorm) pre.weight!.assign(pre.weight!.mul(keep));
    else pre.weight.assign(pre.weight.mul(keep.reshape([E, 1])));
    pre.bias!.assign(pre.bias!.mul(keep));
  });
  return { shiftChannel: k };
}

/** The one-hot vector e_j of length n. */
function oneHot(n: number, j: number): Tensor {
  return tensor(Float32Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)), [n]);
}

/** The module whose output is the last decoder layer's queries: the previous layer's norm3, or q_proj. */
function beforeLastLayer(model: SptSeg): Linear | LayerNorm {
  const layers = [...model.decode_head.decoder_1.layers];
  return layers.length > 1 ? layers[layers.length - 2].norm3 : model.decode_head.q_proj;
}

/** What `calibrateDecoder` chose: final logits = scale · (their value before) + shift. */
export interface CalibrationReport {
  scale: number;
  shift: number;
  /** The channel given over to the shift (cross: of the last layer's q / k; HiLo: of its queries). */
  channel: number;
  /** The loss at ×1 with no shift, and at the choice. */
  lossBefore: number;
  loss: number;
}

const SCALES = Array.from({ length: 15 }, (_, i) => 2 ** (i - 10)); // 2^-10 … 2^4
const SHIFTS = [0, -1, -2, -3, -4, -5, -6, -8, -10, -12];

/**
 * Fit final logits = s · logits + c on one batch (see the file header): `lossOf(final logits)` is
 * least over s ∈ SCALES × c ∈ SHIFTS. Logits are linear in the last layer's queries, so the backbone
 * runs once and two decoder forwards give every candidate: F₁ (s = 1, c = 0) and F₂ (one unit of the shift channel); candidate =
 * s·F₁ + (c / mean F₂)·F₂. A HiLo decoder must have been aligned (`aligned.shiftChannel`).
 */
export function calibrateDecoder(model: SptSeg, images: Tensor, text: Tensor, lossOf: (logits: Tensor) => number, aligned?: AlignedDecoder): CalibrationReport {
  const layers = [...model.decode_head.decoder_1.layers];
  const last = layers[layers.length - 1];
  const pre = beforeLastLayer(model);
  const wasTraining = model.training;
  model.eval(); // no dropout: deterministic forwards
  try {
    return noGrad(() => {
      const { dense, global } = model.backbone.features(images); // [B, E, gh, gw], [B, E]
      const finalLogits = (): Tensor => {
        const { layerLogits } = model.decode_head.forward(dense, global, text);
        return layerLogits[layerLogits.length - 1]; // [B, C, gh, gw]
      };
      let slot: { param: Tensor; channel: number };
      if (last.multihead_attn) {
        slot = crossShiftChannel(model, dense);
      } else {
        const k = aligned?.shiftChannel;
        if (k === null || k === undefined) throw new Error('calibrateDecoder: a HiLo decoder must be aligned first (alignDecoder gives its readout the constant channel the shift needs)');
        slot = { param: pre.bias!, channel: k };
      }
      const w0 = pre.weight!.mul(1), b0 = pre.bias!.mul(1);
      const unit = oneHot(slot.param.shape[0], slot.channel);
      const setShift = (value: number) => slot.param.assign(slot.param.mul(unit.neg().add(1)).add(unit.mul(value)));
      setShift(0);
      const F1 = finalLogits(); // [B, C, gh, gw]
      pre.weight!.assign(zeros(w0.shape));
      pre.bias!.assign(zeros(b0.shape));
      setShift(1);
      const F2 = finalLogits(); // [B, C, gh, gw], one unit of shift
      const perUnit = F2.mean(0).mean(0).mean(0).mean(0).item();
      const lossBefore = lossOf(F1);
      let best = { scale: 1, shift: 0, loss: lossBefore };
      for (const scale of SCALES) {
        for (const shift of SHIFTS) {
          const loss = lossOf(F1.mul(scale).add(F2.mul(shift / perUnit)));
          if (loss < best.loss) best = { scale, shift, loss };
        }
      }
      pre.weight!.assign(w0.mul(best.scale));
      pre.bias!.assign(b0.mul(best.scale));
      setShift(best.shift / perUnit);
      return { ...best, channel: slot.channel, lossBefore };
    });
  } finally {
    model.train(wasTraining);
  }
}

/** Cross: give the last layer's q / k channel j with the smallest keys on the batch (dense [B, E, gh, gw]) over to the shift. */
function crossShiftChannel(model: SptSeg, dense: Tensor): { param: Tensor; channel: number } {
  const layers = [...model.decode_head.decoder_1.layers];
  const attn = layers[layers.length - 1].multihead_attn!;
  const D = attn.dim;
  const [B, E, gh, gw] = dense.shape;
  const power = attn.k.forward(dense.reshape([B, E, gh * gw]).permute([0, 2, 1])).square().mean(0).mean(0).data(); // [D]
  let j = 0;
  for (let i = 1; i < D; i++) if (power[i] < power[j]) j = i;
  const unit = oneHot(D, j), keep = unit.neg().add(1); // [D], [D]
  for (const lin of [attn.q, attn.k]) {
    lin.weight.assign(lin.weight.mul(keep.reshape([D, 1]))); // row j zeroed
    lin.bias!.assign(lin.bias!.mul(keep));
  }
  attn.k.bias!.assign(attn.k.bias!.add(unit)); // k_j = 1
  return { param: attn.q.bias!, channel: j };
}
