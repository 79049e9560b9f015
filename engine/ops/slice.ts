/**
 * Slicing and its adjoint, zero padding; and concatenation (cat, stack, chunk).
 *
 *   slice(x, dim, start, end, step)  = the strided copy of a window of x
 *   pad(x, [[before, after], ...])    = x written into a larger constant-filled tensor
 *   cat([a, b, ...], dim)            = each input written into its band of the output
 *
 * slice backward pads (places the gradient back in its window of zeros); pad backward slices;
 * cat backward slices the gradient into one band per input.
 */
import { denseStrides, fmtShape, normDim, sizeOf } from '../shape.ts';
import { fromOp, Tensor } from '../tensor.ts';

/**
 * Elements start, start+step, ... < end along `dim`. Negative start/end count from the end.
 *
 * @example
 * slice(arange(10), 0, 2, 8, 3);   // [2, 5]
 */
export function slice(x: Tensor, dim: number, start: number, end?: number, step = 1): Tensor {
  const d = normDim(dim, x.ndim);
  const n = x.shape[d];
  if (!Number.isInteger(step) || step < 1) throw new Error(`slice: step must be a positive integer, got ${step}`);
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clampIdx(start);
  const e = Math.max(clampIdx(end ?? n), s);
  const len = Math.ceil((e - s) / step);
  if (s === 0 && len === n && step === 1) return x;
  const shape = x.shape.map((v, i) => (i === d ? len : v));
  const inStrides = denseStrides(x.shape);
  const strides = inStrides.map((v, i) => (i === d ? v * step : v));
  const storage = x.storage.backend.copy({ storage: x.storage, offset: s * inStrides[d], strides }, shape);
  return fromOp(storage, shape, 'slice', [x], (g) => [placeInto(g, x.shape, d, s, step)]);
}

/** A zero tensor of `shape` with `g` written at positions start, start+step, ... along `dim`. */
function placeInto(g: Tensor, shape: readonly number[], dim: number, start: number, step: number): Tensor {
  const backend = g.storage.backend;
  const out = backend.full(sizeOf(shape), 0, g.dtype);
  const strides = denseStrides(shape);
  backend.copy(
    { storage: g.storage, offset: 0, strides: denseStrides(g.shape) }, g.shape,
    { storage: out, offset: start * strides[dim], strides: strides.map((v, i) => (i === dim ? v * step : v)) },
  );
  return new Tensor(out, shape);
}

/**
 * Constant padding: pads[i] = [before, after] for dim i (missing trailing dims are not padded).
 *
 * @example
 * pad(tensor([[1, 2]]), [[0, 0], [1, 1]]);   // [[0, 1, 2, 0]]
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length > x.ndim) throw new Error(`pad: ${pads.length} pad pairs for a ${x.ndim}-d tensor`);
  if (pads.some(([a, b]) => a < 0 || b < 0 || !Number.isInteger(a) || !Number.isInteger(b))) {
    throw new Error('pad: pad sizes must be non-negative integers (use slice to crop)');
  }
  const before = x.shape.map((_, i) => pads[i]?.[0] ?? 0);
  const shape = x.shape.map((s, i) => s + before[i] + (pads[i]?.[1] ?? 0));
  const backend = x.storage.backend;
  const out = backend.full(sizeOf(shape), value, x.dtype);
  const strides = denseStrides(shape);
  const offset = before.reduce((acc, b, i) => acc + b * strides[i], 0);
  backend.copy({ storage: x.storage, offset: 0, strides: denseStrides(x.shape) }, x.shape, { storage: out, offset, strides });
  return fromOp(out, shape, 'pad', [x], (g) => {
    let gx = g;
    for (let i = 0; i < x.ndim; i++) gx = slice(gx, i, before[i], before[i] + x.shape[i]);
    return [gx];
  });
}

/**
 * Join tensors along an existing dim; all other dims must match.
 *
 * @example
 * cat([zeros([2, 3]), ones([1, 3])]);   // shape [3, 3]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat: expected a non-empty list of tensors');
  const first = tensors[0];
  const d = normDim(dim, first.ndim);
  for (const [k, t] of tensors.entries()) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new Error(`cat: tensor ${k} has shape ${fmtShape(t.shape)}, expected ${fmtShape(first.shape)} except in dim ${d}`);
    }
    if (t.dtype !== first.dtype) throw new Error(`cat: tensor ${k} is ${t.dtype}, tensor 0 is ${first.dtype}`);
  }
  if (tensors.length === 1) return first;
  const sizes = tensors.map((t) => t.shape[d]);
  const shape = first.shape.map((s, i) => (i === d ? sizes.reduce((a, b) => a + b, 0) : s));
  const backend = first.storage.backend;
  const out = backend.full(sizeOf(shape), 0, first.dtype);
  const strides = denseStrides(shape);
  let at = 0;
  for (const t of tensors) {
    backend.copy({ storage: t.storage, offset: 0, strides: denseStrides(t.shape) }, t.shape,
      { storage: out, offset: at * strides[d], strides });
    at += t.shape[d];
  }
  return fromOp(out, shape, 'cat', tensors, (g) => {
    let from = 0;
    return sizes.map((s) => {
      const part = slice(g, d, from, from + s);
      from += s;
      return part;
    });
  });
}

/**
 * Join tensors of equal shape along a new dim.
 *
 * @example
 * stack([tensor([1, 2]), tensor([3, 4])], 1);   // [[1, 3], [2, 4]]
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected a non-empty list of tensors');
  const d = normDim(dim, tensors[0].ndim + 1);
  return cat(tensors.map((t) => t.unsqueeze(d)), d);
}

/**
 * Split into `chunks` pieces along `dim` (the last may be smaller), like torch.chunk.
 *
 * @example
 * const [q, k, v] = chunk(qkv, 3, -1);   // [B, N, 3D] -> three [B, N, D]
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim);
  const size = Math.ceil(x.shape[d] / chunks);
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[d]; s += size) out.push(slice(x, d, s, s + size));
  return out;
}
