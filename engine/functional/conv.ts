/**
 * 2-D convolution composed from primitives (pad, unfold2d, one matmul), as
 * torch.nn.functional.conv2d with groups = 1 and dilation = 1.
 *
 *   out[b, o, i, j] = bias[o] + Σ_{c,u,v} weight[o, c, u, v] · xp[b, c, i·s + u, j·s + v]
 *
 * where xp is x zero-padded by `padding` on each side and s is the stride. The output side is
 * floor((H + 2·padding - kH) / s) + 1, as in PyTorch.
 *
 * How (im2col): the input is moved to channels-last [B, H, W, C] and padded. `unfold2d`
 * (engine/ops/unfold.ts) gives, for every output pixel, the kH·kW·C input values under the kernel
 * in (u, v, c) order, as one strided copy; the weight permuted to [O, kH, kW, C] has the same order,
 * so the convolution is one `linear` of [B·Ho·Wo, kH·kW·C] rows with weight [O, kH·kW·C].
 * The backward is unfold2d's col2im (overlapping windows sum their gradients) and matmuls. (An
 * earlier version stacked kH·kW strided slices; same numbers, 18 copies and 9 full-size adds slower.)
 * Memory: the patch tensor is kH·kW times the (strided) input; fine for the small images here.
 *
 * Does not: groups, dilation, padding modes other than zeros, 'same' padding strings, 1-D / 3-D.
 *
 * Glossary: B batch, C input channels, O output channels, kH x kW kernel, H x W input side,
 *   Ho x Wo output side, s stride, p padding.
 */
import { fmtShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { pad } from '../ops/slice.ts';
import { unfold2d } from '../ops/unfold.ts';
import { linear } from './layers.ts';

/** Options of `conv2d` (torch.nn.functional.conv2d's `stride` and `padding`). */
export interface Conv2dOptions {
  /** Step between kernel positions, one number or [sH, sW] (1). */
  stride?: number | readonly [number, number];
  /** Zeros added on each side, one number or [pH, pW] (0). */
  padding?: number | readonly [number, number];
}

function pair(v: number | readonly [number, number], name: string): [number, number] {
  const [a, b] = typeof v === 'number' ? [v, v] : v;
  if (!Number.isInteger(a) || !Number.isInteger(b)) throw new Error(`conv2d: ${name} must be integers, got ${JSON.stringify(v)}`);
  return [a, b];
}

/**
 * torch.nn.functional.conv2d(input, weight, bias, stride, padding): input [B, C, H, W] (or
 * [C, H, W]), weight [O, C, kH, kW], bias [O] or null -> [B, O, Ho, Wo].
 *
 *   conv2d(x, w, b, { stride: 2, padding: 1 })   // 3x3 stride-2 conv, 64x64 -> 32x32
 */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  if (input.ndim === 3) return conv2d(input.unsqueeze(0), weight, bias, opts).squeeze(0);
  if (input.ndim !== 4) throw new Error(`conv2d: expected input [B, C, H, W], got ${fmtShape(input.shape)}`);
  if (weight.ndim !== 4) throw new Error(`conv2d: expected weight [O, C, kH, kW], got ${fmtShape(weight.shape)}`);
  if (weight.shape[1] !== input.shape[1]) {
    throw new Error(`conv2d: input ${fmtShape(input.shape)} has ${input.shape[1]} channels but weight ${fmtShape(weight.shape)} expects ${weight.shape[1]}`);
  }
  // Channels last, so that the patch rows come out contiguous and one large matmul does all pixels.
  return conv2dChannelsLast(input.permute([0, 2, 3, 1]), weight, bias, opts).permute([0, 3, 1, 2]); // [B, O, Ho, Wo]
}

/**
 * The same convolution on channels-last tensors: x [B, H, W, C] -> [B, Ho, Wo, O] (weight still
 * [O, C, kH, kW], PyTorch's layout). A stack of convs (model/vit.ts ConvStem) stays channels-last
 * between layers instead of permuting twice per layer; `conv2d` is this between two permutes.
 */
export function conv2dChannelsLast(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const [sH, sW] = pair(opts.stride ?? 1, 'stride');
  const [pH, pW] = pair(opts.padding ?? 0, 'padding');
  if (sH < 1 || sW < 1) throw new Error(`conv2d: stride must be positive, got [${sH}, ${sW}]`);
  if (pH < 0 || pW < 0) throw new Error(`conv2d: padding must be non-negative, got [${pH}, ${pW}]`);
  if (x.ndim !== 4) throw new Error(`conv2dChannelsLast: expected input [B, H, W, C], got ${fmtShape(x.shape)}`);
  if (weight.ndim !== 4) throw new Error(`conv2d: expected weight [O, C, kH, kW], got ${fmtShape(weight.shape)}`);
  const [B, H, W, C] = x.shape;
  const [O, Cw, kH, kW] = weight.shape;
  if (Cw !== C) throw new Error(`conv2d: input has ${C} channels but weight ${fmtShape(weight.shape)} expects ${Cw}`);
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== O)) {
    throw new Error(`conv2d: bias ${fmtShape(bias.shape)} does not match ${O} output channels`);
  }
  const Ho = Math.floor((H + 2 * pH - kH) / sH) + 1;
  const Wo = Math.floor((W + 2 * pW - kW) / sW) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new Error(`conv2d: kernel ${kH}x${kW} is larger than the padded input ${H + 2 * pH}x${W + 2 * pW}`);
  }
  const xp = pH > 0 || pW > 0 ? pad(x, [[0, 0], [pH, pH], [pW, pW]]) : x; // [B, H+2pH, W+2pW, C]
  const windows = unfold2d(xp, [kH, kW], [sH, sW]); // [B, Ho, Wo, kH, kW, C]
  const cols = windows.reshape([B * Ho * Wo, kH * kW * C]); // [B·Ho·Wo, kH·kW·C], (u, v, c) order
  const w = weight.permute([0, 2, 3, 1]).reshape([O, kH * kW * C]); // [O, kH·kW·C], the same order
  return linear(cols, w, bias).reshape([B, Ho, Wo, O]); // [B, Ho, Wo, O]
}
