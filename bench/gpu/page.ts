/**
 * Browser entry for bench/gpu/matmul.bench.ts: times the gpu.js backend's matmul in one mode
 * (webgl2, webgl, webgpu) inside Chromium. Bundled by tools/browser/bundle.ts.
 */
import { createGpuBackend, type GpuMode } from '../../kernels/gpu/index.ts';
import { timeSizes, type MatmulTiming } from './timing.ts';

async function sptMatmulBench(mode: GpuMode, sizes: number[], budgetSeconds: number): Promise<{ description: string; rows: MatmulTiming[] }> {
  const gpu = createGpuBackend(mode, { log: false });
  const description = await gpu.description;
  const rows = await timeSizes(gpu, sizes, budgetSeconds);
  await gpu.destroy();
  return { description, rows };
}

Object.assign(globalThis, { sptMatmulBench });
