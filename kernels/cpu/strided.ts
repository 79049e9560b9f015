/**
 * Walking an N-d index space while tracking the flat offset of several strided operands.
 * Not here: any arithmetic. The kernels call `stridedLoop` with a body for the innermost axis, so
 * the hot loop is a plain `for` over one axis with fixed strides.
 *
 * Speed: the loop first merges axes that every operand walks contiguously (`coalesce`), so a copy of
 * a [B, H, W, 3] block whose rows are contiguous runs as one long inner loop instead of B·H·W runs of
 * length 3, where the odometer's bookkeeping would cost more than the copying.
 */

/**
 * Merge neighbouring axes a, a+1 wherever every operand has strides[a] = strides[a+1] · shape[a+1]
 * (stepping along a is the same as running off the end of a+1), and drop axes of size 1. The merged
 * index space is visited in the same row-major order, so dense output positions do not change.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let a = 0; a < shape.length; a++) {
    if (shape[a] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[a] * shape[a])) {
      outShape[last] *= shape[a];
      strides.forEach((s, k) => { outStrides[k][last] = s[a]; });
    } else {
      outShape.push(shape[a]);
      strides.forEach((s, k) => outStrides[k].push(s[a]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Visit every index of `shape` in row-major order. For each run along the last axis, `inner` is
 * called with the start offset of each operand and the length of the run; operand k advances by
 * `strides[k][last]` per step. `outStart` is the dense output position of the run.
 */
export function stridedLoop(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  inner: (outStart: number, starts: number[], steps: number[], len: number) => void,
): void {
  for (const d of shape) if (d === 0) return;
  ({ shape, strides } = coalesce(shape, strides));
  const nd = shape.length;
  const nops = strides.length;
  const starts = offsets.slice();
  if (nd === 0) {
    inner(0, starts, new Array<number>(nops).fill(0), 1);
    return;
  }
  const last = nd - 1;
  const len = shape[last];
  const steps = strides.map((s) => s[last]);
  const counter = new Array<number>(nd).fill(0);
  let outStart = 0;
  for (;;) {
    inner(outStart, starts, steps, len);
    outStart += len;
    // Advance the counter over the outer axes (odometer style), updating every operand's start.
    let axis = last - 1;
    while (axis >= 0) {
      counter[axis]++;
      for (let k = 0; k < nops; k++) starts[k] += strides[k][axis];
      if (counter[axis] < shape[axis]) break;
      for (let k = 0; k < nops; k++) starts[k] -= strides[k][axis] * shape[axis];
      counter[axis] = 0;
      axis--;
    }
    if (axis < 0) return;
  }
}
