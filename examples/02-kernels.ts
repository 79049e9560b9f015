/**
 * Chapter 2 example: one op on three kernels, checked against each other and timed in one run.
 * Run: `npx tsx examples/02-kernels.ts`.
 *
 * Does: a float32 matmul C = A·B (A [M, K], B [K, N]) and elementwise exp and sigmoid, on
 *   cpu          the reference loops (kernels/cpu/), the oracle,
 *   wasm         the WebAssembly SIMD kernels (kernels/wasm/), and
 *   gpu.js cpu   the gpu.js kernels (kernels/gpu/) in gpu.js's `cpu` mode, which runs the same
 *                kernel functions as plain JavaScript (no GPU needed, so it runs anywhere);
 * prints the max |difference| from the reference and the time of each kernel relative to it.
 * Does not: decide anything from timings (they vary by machine: compare within one run only), or
 * call the engine: it calls the Backend interface (kernels/backend.ts) directly, as the engine does.
 */
import type { Backend, MatmulArgs, Storage } from '../kernels/backend.ts';
import { CpuBackend } from '../kernels/cpu/index.ts';
import { createGpuBackend } from '../kernels/gpu/index.ts';
import { createWasmBackend, wasmUnavailableReason } from '../kernels/wasm/index.ts';

const [M, K, N] = [96, 128, 64];
const EXP_SIZE = 4096; // large enough for the wasm kernels (they leave tiny arrays to the reference)

/** Deterministic inputs in [-1, 1): the same numbers on every backend. */
function inputs(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}
const a = inputs(M * K, 1);
const b = inputs(K * N, 2);
const x = inputs(EXP_SIZE, 3);
const args: MatmulArgs = { batch: 1, m: M, k: K, n: N, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false };

interface Run { out: Float32Array | Float64Array | Int32Array; ms: number }

/** Run `kernel` on `backend` `reps` times; keep the last output and the fastest time. */
function timed(backend: Backend, reps: number, kernel: (bk: Backend) => Storage): Run {
  let best = Infinity;
  let out: Run['out'] = new Float32Array(0);
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const s = kernel(backend);
    out = backend.read(s); // reading back is part of the cost on a real GPU
    best = Math.min(best, performance.now() - t0);
    backend.dispose(s);
  }
  return { out, ms: best };
}

const matmul = (bk: Backend): Storage => bk.matmul(bk.fromArray(a, 'float32'), bk.fromArray(b, 'float32'), args);
const exp = (bk: Backend): Storage => bk.unary('exp', bk.fromArray(x, 'float32'));
const sigmoid = (bk: Backend): Storage => bk.unary('sigmoid', bk.fromArray(x, 'float32'));

const backends: [string, Backend | null][] = [
  ['cpu', new CpuBackend()],
  ['wasm', createWasmBackend({ threads: 1 })], // one thread: these sizes are below the pool's threshold anyway
  ['gpu.js cpu', createGpuBackend('cpu')],
];

let allAgree = true;
const maxDiff = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
};

const cases = [['matmul', matmul], ['exp', exp], ['sigmoid', sigmoid]] as const;
const reps = 5;
for (const [opName, kernel] of cases) {
  const label = opName === 'matmul' ? `matmul [${M}, ${K}] x [${K}, ${N}]` : `${opName} [${EXP_SIZE}]`;
  console.log(`${label}, float32, best of ${reps}:`);
  const ref = timed(backends[0][1]!, reps, kernel);
  for (const [name, backend] of backends) {
    if (backend === null) {
      console.log(`  ${name.padEnd(11)} unavailable: ${wasmUnavailableReason()}`);
      continue;
    }
    const run = name === 'cpu' ? ref : timed(backend, reps, kernel);
    const tol = 1e-4 * Math.max(...Array.from(ref.out, Math.abs)); // float32 relative tolerance (style.md)
    allAgree &&= maxDiff(run.out, ref.out) <= tol;
    const ratio = run.ms / Math.max(ref.ms, 1e-3);
    console.log(`  ${name.padEnd(11)} max |diff| vs cpu ${maxDiff(run.out, ref.out).toExponential(2)}  time ${run.ms.toFixed(2)} ms  (${ratio.toFixed(2)}x cpu)`);
  }
}
console.log(`every kernel agrees with the reference within 1e-4 relative: ${allAgree ? 'yes' : 'NO'}`);
if (!allAgree) process.exitCode = 1;
