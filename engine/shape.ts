/**
 * Shape arithmetic shared by the ops: dimension normalisation, NumPy broadcasting, strides.
 * Pure functions on number arrays; no tensors, no kernels.
 */
export { denseStrides, sizeOf } from '../kernels/backend.ts';

/** Turn a possibly negative dim into 0..ndim-1, with a PyTorch-style error when out of range. */
export function normDim(dim: number, ndim: number): number {
  const d = dim < 0 ? dim + ndim : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= Math.max(ndim, 1)) {
    throw new RangeError(`dimension out of range (expected to be in range of [${-Math.max(ndim, 1)}, ${Math.max(ndim, 1) - 1}], but got ${dim})`);
  }
  return d;
}

/** Normalise a list of dims (undefined = all), sorted and without repeats. */
export function normDims(dims: number | readonly number[] | undefined, ndim: number): number[] {
  if (dims === undefined) return [...Array(ndim).keys()];
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = [...new Set(list.map((d) => normDim(d, ndim)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new Error(`dim list [${list}] repeats a dimension`);
  return out;
}

/** The shape two operands broadcast to, or an error naming both shapes. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const nd = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = nd - s.length + i;
      if (s[i] === out[o] || s[i] === 1) continue;
      if (out[o] === 1) out[o] = s[i];
      else throw new Error(`shapes ${shapes.map((x) => `[${x}]`).join(' and ')} cannot be broadcast together (dimension ${o}: ${out[o]} vs ${s[i]})`);
    }
  }
  return out;
}

/** Strides that read a dense array of `shape` as if it had `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = outShape.length - shape.length + i;
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
