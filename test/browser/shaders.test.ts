/**
 * The gpu.js backend on real shader paths: the op spec table (test/kernels/spec-table.ts) in
 * headless Chromium, in gpu.js modes webgl2, webgl and webgpu, against the CPU reference.
 *
 * Besides the values, each mode must prove that a shader ran and not a gpu.js CPU fallback:
 *   - every compiled kernel is of the mode's class (WebGL2Kernel / WebGLKernel / WebGPUKernel);
 *   - the backend's mode line names the mode, and the renderer (WEBGL_debug_renderer_info) or WebGPU
 *     adapter is a real one (SwiftShader here: a GPU implemented on the CPU, but the same GLSL / WGSL
 *     path a hardware GPU takes).
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); skips with a message when it is missing.
 * Run alone: npx tap test/browser/shaders.test.ts
 */
import t from 'tap';
import { bundleForBrowser } from '../../tools/browser/bundle.ts';
import { chromiumAvailable, CHROMIUM_PATH, openPage, type OpenPage } from '../../tools/browser/page-server.ts';
import { modeAvailable, SHADER_MODES } from './modes.ts';
import { SPEC_CASES } from '../kernels/spec-table.ts';
import type { ShaderReport } from './page.ts';

/** What page.ts puts on the page's global object. */
interface PageApi {
  sptShaderSpec(mode: string): Promise<ShaderReport>;
}

if (!chromiumAvailable()) {
  t.plan(0, `${CHROMIUM_PATH} not found: install it with \`apt-get install -y chromium\` to run the shader tests`);
} else {
  let opened: OpenPage | null = null;
  t.before(async () => {
    opened = await openPage(await bundleForBrowser(new URL('./page.ts', import.meta.url).pathname));
  });
  t.teardown(async () => {
    await opened?.close();
  });

  for (const { mode, kernelClass, renderer } of SHADER_MODES) {
    t.test(`spec table in Chromium, gpu.js mode ${mode}`, async (t) => {
      const page = opened!.page;
      const logStart = opened!.logs.length;
      if (!(await modeAvailable(t, page, mode, 'the spec table runs on WebGPU'))) return;
      const report = await page.evaluate((m) => (globalThis as unknown as PageApi).sptShaderSpec(m), mode);
      t.comment(report.description);
      t.comment(`page sees renderer: ${report.renderer}; ${report.results.length} cases in ${Math.round(report.ms)} ms`);
      t.match(report.description, new RegExp(`gpu\\.js mode ${mode} `), 'the backend reports the mode it asked for');
      t.match(report.renderer, renderer, 'a real renderer / adapter answered');
      t.same(report.kernelClasses, [kernelClass], `every kernel ran as ${kernelClass}, none fell back to the CPU`);
      t.same(report.fallbacks, [], 'no gpu.js fallback warnings');
      t.match(report.kernelSource, /^function binaryKernel\(a, b\) \{/, 'esbuild kept the kernel a plain function');
      t.equal(report.results.length, SPEC_CASES.length);
      for (const r of report.results) t.equal(r.error, null, r.name);
      const errors = opened!.logs.slice(logStart).filter((l) => l.startsWith('[error]') || l.startsWith('[pageerror]'));
      t.same(errors, [], 'no errors in the page console');
    });
  }
}
