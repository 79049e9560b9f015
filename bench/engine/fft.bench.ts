/**
 * rfft2 / irfft2 on the SPT shapes [1, 768, H, W], H = W = 14 (the ViT-B/16 grid at 224) and 32 (at
 * 512, method.md §1.2), norm 'ortho', float32, against peers in the same run:
 *
 *   fft.js     the CPU kernels (kernels/cpu/fft.ts): fft.js for 32 (a power of two), a direct DFT
 *              over a twiddle table for 14; one thread
 *   DFT mm     the same transform as DFT matrices through the wasm backend's SIMD matmul on every core
 *              (kernels/gpu/fft.ts, the path gpu.js runs)
 *   PyTorch    torch.fft (pocketfft) on every core (bench/peers/torch_fft.py, /usr/bin/python3;
 *              skipped with a message when it is not there)
 * plus SPT's filter irfft2(rfft2(x) ⊙ w) forward + backward through the engine (default backend).
 *
 * Run: `npm run bench -- fft`. Prints a table with each time's ratio to PyTorch's; writes
 * bench/results/fft.json.
 */
import { availableParallelism } from 'node:os';
import { complexMul, irfft2, manualSeed, randn, rfft2, useDevice } from '../../engine/index.ts';
import type { Backend, Storage } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { irfft2ByMatmul, rfft2ByMatmul } from '../../kernels/gpu/fft.ts';
import { medianSeconds, pythonPeer, writeResults } from '../harness.ts';

const threads = availableParallelism();
const backend = useDevice();
manualSeed(0);
const SIDES = [14, 32];
const C = 768;

interface Row { case: string; impl: string; seconds: number }
const rows: Row[] = [];
const time = (fn: () => void) => medianSeconds(fn, 5, 1);

/** The storage of a fresh random tensor on `b`. */
function randomStorage(b: Backend, n: number): Storage {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 12.9898) * 43758.5453 % 1;
  return b.fromArray(v, 'float32');
}

const cpu = new CpuBackend();
for (const n of SIDES) {
  const Wf = Math.floor(n / 2) + 1, s = 1 / n;
  const label = `[1,${C},${n},${n}]`;
  const xc = randomStorage(cpu, C * n * n), Xc = randomStorage(cpu, C * n * Wf * 2);
  const xb = randomStorage(backend, C * n * n), Xb = randomStorage(backend, C * n * Wf * 2);
  rows.push({ case: `rfft2 ${label}`, impl: n === 32 ? 'fft.js (1 thr)' : 'direct DFT (1 thr)', seconds: time(() => { cpu.rfft2(xc, C, n, n, s); }) });
  rows.push({ case: `rfft2 ${label}`, impl: `DFT mm (${backend.name})`, seconds: time(() => { backend.read(rfft2ByMatmul(backend, xb, C, n, n, s)); }) });
  rows.push({ case: `irfft2 ${label}`, impl: n === 32 ? 'fft.js (1 thr)' : 'direct DFT (1 thr)', seconds: time(() => { cpu.irfft2(Xc, C, n, n, s); }) });
  rows.push({ case: `irfft2 ${label}`, impl: `DFT mm (${backend.name})`, seconds: time(() => { backend.read(irfft2ByMatmul(backend, Xb, C, n, n, s)); }) });
  const x = randn([1, C, n, n], { requiresGrad: true });
  const w = randn([C, n, Wf, 2], { requiresGrad: true });
  rows.push({ case: `SPT filter fwd+bwd ${label}`, impl: `engine (${backend.name})`, seconds: time(() => {
    x.zeroGrad();
    w.zeroGrad();
    irfft2(complexMul(rfft2(x, { norm: 'ortho' }), w), [n, n], { norm: 'ortho' }).sum().backward();
  }) });
}

try {
  const torch = pythonPeer<{ version: string; cases: Record<string, { rfft2: number; irfft2: number; spt_fwd_bwd: number }> }>('torch_fft.py', [threads, ...SIDES]);
  const impl = `PyTorch ${torch.version} (${threads} thr)`;
  for (const n of SIDES) {
    const c = torch.cases[String(n)], label = `[1,${C},${n},${n}]`;
    rows.push({ case: `rfft2 ${label}`, impl, seconds: c.rfft2 });
    rows.push({ case: `irfft2 ${label}`, impl, seconds: c.irfft2 });
    rows.push({ case: `SPT filter fwd+bwd ${label}`, impl, seconds: c.spt_fwd_bwd });
  }
} catch (err) {
  console.warn(`PyTorch peer skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
}

console.log('\n### fft\n');
console.log('| case | impl | ms | vs PyTorch |');
console.log('|---|---|---:|---:|');
for (const r of rows) {
  const torch = rows.find((o) => o.case === r.case && o.impl.startsWith('PyTorch'));
  const ratio = torch ? `${(r.seconds / torch.seconds).toFixed(2)}× its time` : '';
  console.log(`| ${r.case} | ${r.impl} | ${(r.seconds * 1000).toFixed(2)} | ${ratio} |`);
}
writeResults('fft', rows);
process.exit(0); // the wasm worker pool keeps handles open
