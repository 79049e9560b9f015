/**
 * The shader modes the browser tests run, what proves each really ran, and the availability check
 * they share (a WebGPU gap is a recorded TODO with its reason, never a silent skip).
 */
import type { Test } from 'tap';
import type { Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../tools/browser/page-server.ts';

export const SHADER_MODES = [
  { mode: 'webgl2', kernelClass: 'WebGL2Kernel', renderer: /SwiftShader|ANGLE|Mesa|NVIDIA|AMD|Intel|Apple/ },
  { mode: 'webgl', kernelClass: 'WebGLKernel', renderer: /SwiftShader|ANGLE|Mesa|NVIDIA|AMD|Intel|Apple/ },
  { mode: 'webgpu', kernelClass: 'WebGPUKernel', renderer: /^WebGPU \w+/ },
] as const;

/** Whether `mode` can run in the page; when not, the test records why (a TODO for WebGPU). */
export async function modeAvailable(t: Test, page: Page, mode: string, what: string): Promise<boolean> {
  const unavailable = await page.evaluate(
    (m) => (globalThis as unknown as { sptUnavailable(m: string): Promise<string | null> }).sptUnavailable(m), mode);
  if (unavailable !== null && mode === 'webgpu') {
    // WebGPU depends on Chromium's build and flags; report it as a known gap rather than hide it.
    t.fail(what, { todo: `WebGPU cannot run in this Chromium: ${unavailable} (flags: ${CHROMIUM_ARGS.join(' ')})` });
    return false;
  }
  t.equal(unavailable, null, `${mode} is available`);
  return unavailable === null;
}
