/**
 * float32 matmul n × n × n on the gpu.js backend, per gpu.js mode, against the reference CPU backend:
 * median GFLOP/s (2n³ flops per call; a call includes reading C back, see timing.ts).
 *
 *   npx tsx bench/gpu/matmul.bench.ts                    Node modes + Chromium modes (if installed)
 *   SIZES=128,256 BROWSER=0 npx tsx bench/gpu/matmul.bench.ts
 *
 * Node modes: gpu.js `cpu` (kernels transpiled to JS), `webasm` (WebAssembly + SIMD, synchronous,
 * one thread) and `webasm` under the async contract (gpu.js splits kernels over worker threads).
 * Chromium modes (headless /usr/bin/chromium, tools/browser/page-server.ts): webgl2, webgl, webgpu.
 * Without a GPU these run on SwiftShader, a GPU emulated on the CPU: they prove the shader path
 * works, they say nothing about a real GPU's speed.
 * A mode stops growing n once a call would take more than BUDGET seconds (default 4).
 * Writes bench/results/gpu-matmul.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { Backend, MatmulArgs } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { createGpuBackend, type GpuBackendOptions, type GpuMode } from '../../kernels/gpu/index.ts';
import { bundleForBrowser } from '../../tools/browser/bundle.ts';
import { chromiumAvailable, openPage } from '../../tools/browser/page-server.ts';
import { randomMatrix, timeMatmul, timeSizes, type MatmulTiming } from './timing.ts';

const SIZES = (process.env.SIZES ?? '128,256,512,1024').split(',').map(Number);
const BUDGET = Number(process.env.BUDGET ?? 4);
const BROWSER = process.env.BROWSER !== '0' && chromiumAvailable();

interface Column { label: string; detail: string; rows: MatmulTiming[] }

const load0 = loadavg()[0];
console.log(`gpu.js matmul float32 n×n×n, median GFLOP/s (a call includes the readback). ${cpus()[0]?.model ?? '?'}, ` +
  `${availableParallelism()} threads, Node ${process.version}, load average ${load0.toFixed(2)}`);
if (load0 > 0.5) console.warn(`warning: load average ${load0.toFixed(2)}: the machine is busy, numbers will be low and noisy`);

// The reference first: its results are the oracle for the error column.
const cpu = new CpuBackend();
const reference = new Map<number, Float32Array>();
const refRows: MatmulTiming[] = [];
for (const n of SIZES) {
  const args: MatmulArgs = { batch: 1, m: n, k: n, n, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false };
  reference.set(n, cpu.read(cpu.matmul(cpu.fromArray(randomMatrix(n, 1), 'float32'), cpu.fromArray(randomMatrix(n, 2), 'float32'), args)) as Float32Array);
  refRows.push(await timeMatmul(cpu, n, { minSamples: 3 }));
}
const columns: Column[] = [{ label: 'cpu ref', detail: 'kernels/cpu (plain TypeScript)', rows: refRows }];

const nodeModes: [string, GpuMode, GpuBackendOptions][] = [
  ['gpu.js cpu', 'cpu', {}],
  ['gpu.js webasm', 'webasm', {}],
  [`gpu.js webasm (${availableParallelism()} thr)`, 'webasm', { asyncKernels: true }],
];
for (const [label, mode, options] of nodeModes) {
  const be = createGpuBackend(mode, { ...options, log: false });
  const detail = await be.description;
  columns.push({ label, detail, rows: await timeSizes(be, SIZES, BUDGET, reference) });
  await be.destroy();
}

if (BROWSER) {
  const opened = await openPage(await bundleForBrowser(new URL('./page.ts', import.meta.url).pathname));
  try {
    for (const mode of ['webgl2', 'webgl', 'webgpu']) {
      const r = await opened.page.evaluate(([m, sizes, budget]) =>
        (globalThis as unknown as { sptMatmulBench(m: string, s: number[], b: number): Promise<{ description: string; rows: MatmulTiming[] }> })
          .sptMatmulBench(m, sizes, budget), [mode, SIZES, BUDGET] as const);
      columns.push({ label: `chromium ${mode}`, detail: r.description, rows: r.rows });
    }
  } finally {
    await opened.close();
  }
} else {
  console.log('(Chromium modes skipped: BROWSER=0 or /usr/bin/chromium missing)');
}

// -- report ---------------------------------------------------------------------------------------

const fmt = (v: number | null): string => (v === null ? '—' : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const width = Math.max(...columns.map((c) => c.label.length)) + 2;
console.log(`\n${'n'.padStart(6)}${columns.map((c) => c.label.padStart(width)).join('')}`);
SIZES.forEach((n, i) => console.log(`${String(n).padStart(6)}${columns.map((c) => fmt(c.rows[i].gflops).padStart(width)).join('')}`));
console.log('\nspeed-up over the reference CPU backend:');
SIZES.forEach((n, i) => console.log(`${String(n).padStart(6)}${columns.map((c) => {
  const g = c.rows[i].gflops, r = refRows[i].gflops;
  return (g === null || r === null ? '—' : `${(g / r).toFixed(2)}x`).padStart(width);
}).join('')}`));
for (const c of columns.slice(1)) {
  const errs = c.rows.filter((r) => r.maxAbsError !== undefined).map((r) => `${r.n}: ${r.maxAbsError!.toExponential(1)}`);
  console.log(`${c.label}: ${c.detail}${errs.length ? `; max |C - C_ref| ${errs.join(', ')}` : ''}`);
}

mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
const out = new URL('../results/gpu-matmul.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({
  date: new Date().toISOString(), cpu: cpus()[0]?.model ?? '?', threads: availableParallelism(), node: process.version,
  loadBefore: load0, loadAfter: loadavg()[0], unit: 'GFLOP/s (median; a call includes the readback)',
  columns: columns.map((c) => ({ label: c.label, detail: c.detail, rows: c.rows })),
}, null, 2)}\n`);
console.log(`\nwrote ${out.pathname}`);
