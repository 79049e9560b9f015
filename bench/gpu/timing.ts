/**
 * The matmul timing loop shared by bench/gpu/matmul.bench.ts (Node) and bench/gpu/page.ts (Chromium),
 * so both sides measure the same thing. No Node-only imports: it is bundled for the browser.
 *
 * One call = what a user pays for C = A·B with A and B already on the backend: the matmul kernel,
 * the readback of C (`readAsync` where the backend has it, which WebGPU and threaded webasm need)
 * and freeing C. Median of: 1 warm-up call (it also compiles the kernel), then calls until at least
 * `minSamples` and `minSeconds`, at most 30; calls slower than `slowSeconds` stop after one sample.
 */
import type { Backend, MatmulArgs, Storage, TypedArray } from '../../kernels/backend.ts';

export interface MatmulTiming {
  n: number;
  /** Median seconds per call, or null when skipped (a smaller size already exceeded the budget). */
  seconds: number | null;
  gflops: number | null;
  /** Largest |C - C_ref| on the first call, against `reference` when one is given. */
  maxAbsError?: number;
}

/** `readAsync` where the backend has one (WebGPU, threaded webasm need it), else `read`. */
async function readStorage(be: Backend, s: Storage): Promise<TypedArray> {
  const readAsync = (be as { readAsync?: (s: Storage) => Promise<TypedArray> }).readAsync;
  return readAsync ? readAsync.call(be, s) : be.read(s);
}

export function randomMatrix(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const x = new Float32Array(n * n);
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // LCG: same inputs on every engine
    x[i] = s / 2 ** 31 - 1;
  }
  return x;
}

export async function timeMatmul(
  be: Backend, n: number, options: { minSamples?: number; minSeconds?: number; slowSeconds?: number; reference?: Float32Array } = {},
): Promise<MatmulTiming> {
  const { minSamples = 5, minSeconds = 1, slowSeconds = 3 } = options;
  const args: MatmulArgs = { batch: 1, m: n, k: n, n, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false };
  const a = be.fromArray(randomMatrix(n, 1), 'float32');
  const b = be.fromArray(randomMatrix(n, 2), 'float32');
  const once = async (): Promise<ArrayLike<number>> => {
    const c = be.matmul(a, b, args);
    const out = await readStorage(be, c);
    be.dispose(c);
    return out;
  };
  const first = await once();
  let maxAbsError: number | undefined;
  if (options.reference) {
    maxAbsError = 0;
    for (let i = 0; i < first.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(first[i] - options.reference[i]));
  }
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minSamples || (performance.now() - start < minSeconds * 1000 && times.length < 30)) {
    const t0 = performance.now();
    await once();
    times.push((performance.now() - t0) / 1000);
    if (times[0] > slowSeconds) break;
  }
  be.dispose(a);
  be.dispose(b);
  times.sort((x, y) => x - y);
  const seconds = times[times.length >> 1];
  return { n, seconds, gflops: (2 * n ** 3) / seconds / 1e9, maxAbsError };
}

/**
 * Time `be` at each size in turn; once a call takes more than `budgetSeconds / 8` the next size
 * (2n costs about 8 times more) would blow the budget, so the remaining sizes are reported as null.
 * `reference` holds the reference results by size, for the error check.
 */
export async function timeSizes(
  be: Backend, sizes: readonly number[], budgetSeconds: number, reference?: Map<number, Float32Array>,
): Promise<MatmulTiming[]> {
  const rows: MatmulTiming[] = [];
  let over = false;
  for (const n of sizes) {
    if (over) {
      rows.push({ n, seconds: null, gflops: null });
      continue;
    }
    const row = await timeMatmul(be, n, { reference: reference?.get(n) });
    rows.push(row);
    over = (row.seconds ?? 0) * 8 > budgetSeconds;
  }
  return rows;
}
