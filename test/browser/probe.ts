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

/** null when `mode` can run in this page, else why not. */
export async function sptUnavailable(mode: string): Promise<string | null> {
  if (mode !== 'webgpu') {
    return document.createElement('canvas').getContext(mode === 'webgl' ? 'webgl' : 'webgl2') ? null : `no ${mode} context`;
  }
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'navigator.gpu is missing (WebGPU disabled, or not a secure context)';
  return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter)';
}
