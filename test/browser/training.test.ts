/**
 * Backend parity on the real shader paths: the first 10 optimizer steps of the `mlp` and `block`
 * PyTorch runs (test/helpers/train-replay.ts, the replay test/engine/backends.test.ts runs on the
 * Node backends) in headless Chromium, on gpu.js webgl2, webgl and webgpu. Every step's loss must be
 * within 1e-4 (relative) of PyTorch's.
 *
 * As in shaders.test.ts, each mode must also prove that a shader ran and not a gpu.js CPU fallback:
 * every compiled kernel is of the mode's class, the backend's mode line names the mode, and the
 * renderer / adapter the page sees is a real one (SwiftShader here). And each step runs in `tidy`:
 * live device buffers stay flat from step to step and return to zero once the run is disposed.
 *
 * The page (training-page.ts) is the engine + nn + optim + replay bundled by esbuild; the fixture
 * files are served beside it and fetched by the page. Runtime: ~15 s here (SwiftShader compiles
 * each of the ~170 kernels of `block` once per mode).
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); skips with a message when it is missing.
 * Run alone: npx tap test/browser/training.test.ts
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { bundleForBrowser } from '../../tools/browser/bundle.ts';
import { chromiumAvailable, CHROMIUM_ARGS, CHROMIUM_PATH, openPage, type OpenPage } from '../../tools/browser/page-server.ts';
import { modeAvailable, SHADER_MODES } from './modes.ts';
import type { TrainingReport } from './training-page.ts';

/** What training-page.ts puts on the page's global object. */
interface PageApi {
  sptTrainingReplay(mode: string, run: string, steps: number): Promise<TrainingReport>;
}

const STEPS = 10;
const RTOL = 1e-4;
const RUNS = ['mlp', 'block'] as const;

if (!chromiumAvailable()) {
  t.plan(0, `${CHROMIUM_PATH} not found: install it with \`apt-get install -y chromium\` to run the training parity tests on the shader paths`);
} else {
  let opened: OpenPage | null = null;
  t.before(async () => {
    const files = new Map(RUNS.map((run) => [
      `/fixtures/train/${run}.safetensors`,
      new Uint8Array(readFileSync(new URL(`../fixtures/train/${run}.safetensors`, import.meta.url))),
    ]));
    opened = await openPage(await bundleForBrowser(new URL('./training-page.ts', import.meta.url).pathname), CHROMIUM_ARGS, files);
  });
  t.teardown(async () => {
    await opened?.close();
  });

  for (const { mode, kernelClass, renderer } of SHADER_MODES) {
    t.test(`${STEPS} training steps in Chromium, gpu.js mode ${mode}`, async (t) => {
      const page = opened!.page;
      const logStart = opened!.logs.length;
      if (!(await modeAvailable(t, page, mode, 'the training replay runs on WebGPU'))) return;
      for (const run of RUNS) {
        const r = await page.evaluate(([m, n, s]) => (globalThis as unknown as PageApi).sptTrainingReplay(m, n, s), [mode, run, STEPS] as const);
        if (run === RUNS[0]) {
          t.comment(r.description);
          t.comment(`page sees renderer: ${r.renderer}`);
          t.match(r.description, new RegExp(`gpu\\.js mode ${mode} `), 'the backend reports the mode it asked for');
          t.match(r.renderer, renderer, 'a real renderer / adapter answered');
        }
        t.same(r.kernelClasses, [kernelClass], `${run}: all ${r.compiles} kernels ran as ${kernelClass}, none fell back to the CPU`);
        t.same(r.fallbacks, [], `${run}: no gpu.js fallback warnings`);
        t.equal(r.losses.length, STEPS);
        for (const [step, rel] of r.relErrors.entries()) {
          if (!(rel <= RTOL)) t.fail(`${run} step ${step}: loss ${r.losses[step]} vs PyTorch ${r.expected[step]} (relative error ${rel.toExponential(2)})`);
        }
        const worst = Math.max(...r.relErrors);
        t.ok(worst <= RTOL, `${run}: worst relative error vs PyTorch ${worst.toExponential(2)} (${Math.round(r.ms)} ms)`);
        t.same(r.live.slice(1), Array(STEPS - 1).fill(r.live[1]), `${run}: live device buffers flat from step to step (${r.live.join(', ')})`);
        t.equal(r.liveAfter, r.liveBefore, `${run}: disposing the run frees the rest`);
      }
      const errors = opened!.logs.slice(logStart).filter((l) => l.startsWith('[error]') || l.startsWith('[pageerror]'));
      t.same(errors, [], 'no errors in the page console');
    });
  }
}
