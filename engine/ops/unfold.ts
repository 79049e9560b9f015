/**
 * Sliding windows of a channels-last image, the im2col step of a convolution, as one primitive.
 *
 *   unfold2d(x, [kH, kW], [sH, sW])[b, i, j, u, v, c] = x[b, i·sH + u, j·sW + v, c]
 *
 * x is [B, H, W, C]; the result is [B, Ho, Wo, kH, kW, C] with Ho = floor((H - kH) / sH) + 1 (and the
 * same for W). Padding is the caller's (pad first). It is torch.Tensor.unfold applied to dims 1 and 2,
 * with the window axes moved next to each other.
 *
 * Forward: the windows are one strided *view* of x (no arithmetic): window (i, j) starts at
 * offset (i·sH·W + j·sW)·C, and inside it tap (u, v) is at (u·W + v)·C. So a single `copy` with
 * strides [H·W·C, sH·W·C, sW·C, W·C, C, 1] writes every window; the windows overlap in x whenever the
 * stride is smaller than the kernel, which a read is allowed to do.
 *
 * Backward (col2im): every input pixel receives the sum of the gradients of all windows that read it.
 * For each tap (u, v), the gradient slice g[:, :, :, u, v, :] belongs at input positions
 * (i·sH + u, j·sW + v): a strided view of the input gradient. Two taps hit the same positions only if
 * u ≡ u' (mod sH) and v ≡ v' (mod sW); so the first tap of each such class (u < sH, v < sW) is
 * written straight into the zeros, and every later one is added to what is there (read the view,
 * add, write it back). With stride ≥ kernel no tap overlaps and the backward is pure copies.
 *
 * Does not: dilation, channels-first input (engine/functional/conv.ts permutes first).
 * Glossary: B batch, H x W input side, C channels, kH x kW window, sH x sW stride, Ho x Wo windows.
 */
import { denseStrides, fmtShape, sizeOf } from '../shape.ts';
import { fromOp, Tensor } from '../tensor.ts';

/** Every kH x kW window of x [B, H, W, C] at stride [sH, sW]: [B, Ho, Wo, kH, kW, C]. */
export function unfold2d(x: Tensor, kernel: readonly [number, number], stride: readonly [number, number]): Tensor {
  if (x.ndim !== 4) throw new Error(`unfold2d: expected x [B, H, W, C], got ${fmtShape(x.shape)}`);
  const [B, H, W, C] = x.shape;
  const [kH, kW] = kernel, [sH, sW] = stride;
  if (![kH, kW, sH, sW].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`unfold2d: kernel and stride must be positive integers, got kernel [${kernel}] stride [${stride}]`);
  }
  if (kH > H || kW > W) throw new Error(`unfold2d: window ${kH}x${kW} is larger than the input ${H}x${W}`);
  const Ho = Math.floor((H - kH) / sH) + 1, Wo = Math.floor((W - kW) / sW) + 1;
  const shape = [B, Ho, Wo, kH, kW, C];
  const windows = [H * W * C, sH * W * C, sW * C, W * C, C, 1];
  const backend = x.storage.backend;
  const storage = backend.copy({ storage: x.storage, offset: 0, strides: windows }, shape);
  return fromOp(storage, shape, 'unfold2d', [x], (g) => {
    const out = backend.full(sizeOf(x.shape), 0, g.dtype);
    const gStrides = denseStrides(shape);
    const tapShape = [B, Ho, Wo, C];
    const dense = denseStrides(tapShape);
    // Where tap (u, v) of every window sits in the input gradient, and where it sits in g.
    const inputView = (u: number, v: number) => ({ storage: out, offset: (u * W + v) * C, strides: [H * W * C, sH * W * C, sW * C, 1] });
    const gradView = { storage: g.storage, strides: [gStrides[0], gStrides[1], gStrides[2], 1] };
    for (let u = 0; u < kH; u++) {
      for (let v = 0; v < kW; v++) {
        const tap = { ...gradView, offset: (u * kW + v) * C };
        if (u < sH && v < sW) {
          backend.copy(tap, tapShape, inputView(u, v)); // first of its class: the positions are still 0
          continue;
        }
        const here = backend.copy(inputView(u, v), tapShape); // what earlier taps left there
        const add = backend.copy(tap, tapShape);
        const sum = backend.binary('add', here, dense, add, dense, tapShape);
        backend.copy({ storage: sum, offset: 0, strides: dense }, tapShape, inputView(u, v));
        for (const s of [here, add, sum]) backend.dispose(s);
      }
    }
    return [new Tensor(out, x.shape)];
  });
}
