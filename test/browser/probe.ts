/**
 * Browser-side checks shared by the page entries (page.ts, training-page.ts), asked without gpu.js:
 * what renderer or adapter the page gets, and whether a gpu.js mode can run here at all.
 */
import { glRenderer, webgpuAdapterInfo } from '../../kernels/gpu/device.ts';

/** A fresh context of the same kind, or the adapter WebGPU hands out. */
export async function pageRenderer(mode: string): Promise<string> {
  if (mode === 'webgpu') return webgpuAdapterInfo();
  const gl = document.createElement('canvas').getContext(mode === 'webgl' ? 'webgl' : 'webgl2') as WebGLRenderingContext | null;
  return gl ? glRenderer(gl) : `no ${mode} context`;
}

/** null when `mode` can run in this page, else why not: the page's own check (page/probe.ts). */
export { sptUnavailable } from '../../page/probe.ts';
