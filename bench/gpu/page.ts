/**
 * Browser entry for bench/gpu/matmul.bench.ts: times the gpu.js backend's matmul in one mode
 * (webgl2, webgl, webgpu) inside Chromium. Bundled by tools/browser/bundle.ts.
 */
import { createGpuBackend, type GpuMode } from '../../kernels/gpu/index.ts';
import { timeMatmul, type MatmulTiming } from './timing.ts';

async function sptMatmulBench(mode: GpuMode, sizes: number[], budgetSeconds: number): Promise<{ description: string; rows: MatmulTiming[] }> {
  const gpu = createGpuBackend(mode, { log: false });
  const description = await gpu.description;
  const rows: MatmulTiming[] = [];
  let over = false;
  for (const n of sizes) {
    if (over) {
      rows.push({ n, seconds: null, gflops: null });
      continue;
    }
    const row = await timeMatmul(gpu, n);
    rows.push(row);
    over = (row.seconds ?? 0) * 8 > budgetSeconds; // the next size (2n) costs about 8 times more
  }
  await gpu.destroy();
  return { description, rows };
}

Object.assign(globalThis, { sptMatmulBench });
