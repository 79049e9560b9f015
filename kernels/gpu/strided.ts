/**
 * Host-side planning for the strided GPU kernels (binary, where, copy): shrink an N-d index space to
 * as few axes as possible, then pad it to the fixed rank the kernels are written for.
 *
 * Why a fixed rank: a gpu.js kernel is one plain function, compiled per shape with the sizes and
 * strides baked in as constants (`this.constants.n0..n5`, `a0..a5`, ...). Writing it once for
 * MAX_RANK axes and padding smaller problems with size-1 axes keeps a single readable kernel.
 *
 * How a kernel turns its flat thread index into coordinates (the "peel" every strided kernel
 * repeats once per axis, last axis first):
 *
 *     q = floor(rest / n);  c = rest - q * n;   // c = coordinate on this axis, q = the rest
 *     if (c < 0) { q -= 1; c += n }  if (c >= n) { q += 1; c -= n }
 *
 * GPUs divide in float32 and WebGL does not even promise a correctly rounded `/`, so `floor(rest / n)`
 * can be one off when `rest / n` lands next to an integer. The two fix-ups repair that; they are exact
 * while `rest` and `q * n` are integers below 2^24 (float32 integers are exact up to 2^24). That is
 * the size limit for one GPU tensor (see `maxElements` in device.ts).
 *
 * Not here: the kernels themselves (binary.ts, copy.ts) or any device work.
 */

/** Axes a strided kernel handles after merging; more throws (no spt-seg op needs it). */
export const MAX_RANK = 6;

export interface StridedPlan {
  /** Sizes of the MAX_RANK axes, outermost first (leading padding axes are 1). */
  shape: number[];
  /** One stride list per operand, aligned with `shape` (padding strides are 0). */
  strides: number[][];
}

/**
 * Drop size-1 axes and merge neighbours that every operand walks contiguously
 * (stride[k] == stride[k+1] * shape[k+1]). No padding: see `planStrided`.
 */
export function mergeAxes(shape: readonly number[], strides: readonly (readonly number[])[]): StridedPlan {
  const dims: number[] = [];
  const ops: number[][] = strides.map(() => []);
  for (let ax = 0; ax < shape.length; ax++) {
    const n = shape[ax];
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => ops[k][last] === s[ax] * n)) {
      dims[last] *= n;
      strides.forEach((s, k) => { ops[k][last] = s[ax]; });
    } else {
      dims.push(n);
      strides.forEach((s, k) => ops[k].push(s[ax]));
    }
  }
  return { shape: dims, strides: ops };
}

/**
 * `mergeAxes`, then pad on the left to MAX_RANK with size-1, stride-0 axes.
 * Example: a dense [8, 16, 32] add with a [1, 1, 32] bias merges to [128, 32] with strides
 * [[32, 1], [0, 1]] and is padded to [1, 1, 1, 1, 128, 32].
 */
export function planStrided(shape: readonly number[], strides: readonly (readonly number[])[]): StridedPlan {
  const merged = mergeAxes(shape, strides);
  if (merged.shape.length > MAX_RANK) {
    throw new Error(`gpu backend: a strided kernel needs ${merged.shape.length} axes after merging; at most ${MAX_RANK} are supported`);
  }
  const pad = MAX_RANK - merged.shape.length;
  return {
    shape: [...new Array<number>(pad).fill(1), ...merged.shape],
    strides: merged.strides.map((s) => [...new Array<number>(pad).fill(0), ...s]),
  };
}

/**
 * Kernel constants for a plan: `n0..n5` for the sizes and `<prefix>0..<prefix>5` for each operand's
 * strides, e.g. prefixes ['a', 'b'] give a0..a5 and b0..b5.
 */
export function stridedConstants(plan: StridedPlan, prefixes: readonly string[]): Record<string, number> {
  const c: Record<string, number> = {};
  plan.shape.forEach((n, i) => { c[`n${i}`] = n; });
  prefixes.forEach((p, k) => plan.strides[k].forEach((s, i) => { c[`${p}${i}`] = s; }));
  return c;
}
