/**
 * Walking an N-d index space while tracking the flat offset of several strided operands.
 * Not here: any arithmetic. The kernels call `stridedLoop` with a body for the innermost axis, so
 * the hot loop is a plain `for` over one axis with fixed strides.
 */

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
  const nd = shape.length;
  const nops = strides.length;
  const starts = offsets.slice();
  if (nd === 0) {
    inner(0, starts, new Array<number>(nops).fill(0), 1);
    return;
  }
  for (const d of shape) if (d === 0) return;
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
