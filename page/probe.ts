/**
 * Whether a gpu.js mode can run in this page at all, asked without gpu.js (so the page can say why
 * instead of letting gpu.js fall back silently to its CPU mode). The browser shader tests use it too
 * (test/browser/probe.ts).
 */

/** null when gpu.js mode `mode` (webgl2, webgl, webgpu) can run in this page, else why not. */
export async function sptUnavailable(mode: string): Promise<string | null> {
  if (mode !== 'webgpu') {
    return document.createElement('canvas').getContext(mode === 'webgl' ? 'webgl' : 'webgl2') ? null : `no ${mode} context`;
  }
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'navigator.gpu is missing (WebGPU disabled, or not a secure context)';
  return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter)';
}
