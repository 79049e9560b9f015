/**
 * Browser entry for test/browser/shaders.test.ts: bundled by tools/browser/bundle.ts and run in
 * Chromium. It exposes `window.sptShaderSpec(mode)`, which runs the op spec table on the gpu.js
 * backend in that mode against the CPU reference, and reports what really ran: the gpu.js kernel
 * classes, the backend's mode line, and the renderer / adapter as the page sees it directly.
 */
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { binaryKernel } from '../../kernels/gpu/binary.ts';
import { pageRenderer, sptUnavailable } from './probe.ts';
import { createGpuBackend, tidy, type GpuMode } from '../../kernels/gpu/index.ts';
import { runSpec, type SpecResult } from '../kernels/spec-table.ts';

export interface ShaderReport {
  mode: string;
  /** The backend's "[spt-seg] backend gpu: ..." line. */
  description: string;
  /** Unmasked WebGL renderer, or WebGPU adapter info, asked by the page itself. */
  renderer: string;
  /** gpu.js kernel class of every compiled kernel (e.g. WebGL2Kernel), deduplicated. */
  kernelClasses: string[];
  fallbacks: string[];
  results: SpecResult[];
  /** The bundled kernel source still reads as a plain function (what gpu.js parses). */
  kernelSource: string;
  ms: number;
}

async function sptShaderSpec(mode: GpuMode, filter?: string): Promise<ShaderReport> {
  const t0 = performance.now();
  const gpu = createGpuBackend(mode);
  const description = await gpu.description;
  const results = await runSpec(gpu, new CpuBackend(), { scope: tidy, filter });
  const kernelClasses = [...new Set([...gpu.runner.kernels.values()].map((k) => k.kernel.constructor.name))];
  const report: ShaderReport = {
    mode, description, renderer: await pageRenderer(mode), kernelClasses, fallbacks: [...gpu.runner.fallbacks],
    results, kernelSource: String(binaryKernel).slice(0, 120), ms: performance.now() - t0,
  };
  await gpu.destroy();
  return report;
}

Object.assign(globalThis, { sptShaderSpec, sptUnavailable });
