/**
 * The web page (page/, tools/page/) in headless Chromium: it loads the committed world checkpoints
 * (assets/world-clip.safetensors and assets/world-sptseg.safetensors, the SPT-SEG that `npm start`
 * trains), segments one procedural scene on wasm, gpu.js WebGL2 and (where Chromium has an adapter) WebGPU, and each mask must agree with the Node result for
 * the same scene, classes and weights (the reference cpu backend) on at least 99% of pixels. Then a
 * new class list must change the legend, and the errors a user can cause (empty class list, a file
 * that is not an image, an image too large, a missing checkpoint) must show as messages on the page.
 *
 * A screenshot always goes to the test's temp dir; docs/images/page.png is rewritten only with
 * SPT_UPDATE_SCREENSHOT=1. Needs /usr/bin/chromium; skips with a message when it is missing.
 * Run alone: npx tap test/browser/page.test.ts
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { encodePng } from '../../engine/io/image.ts';
import { loadSptSeg } from '../../model/spt-weights.ts';
import { loadClip } from '../../model/weights.ts';
import { useDevice } from '../../engine/index.ts';
import { imagesOf } from '../../train/world/batch.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { drawWorldScene, sceneGenerator, WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import { worldClassText } from '../../train/world/segment.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../../tools/browser/page-server.ts';
import { pageFiles } from '../../tools/page/files.ts';
import { servePage, type ServedPage } from '../../tools/page/serve.ts';
import type { PageResult } from '../../page/main.ts';
import { backgroundLabels } from '../../page/pipeline.ts';

const AGREE = 0.99;
const OFFSET = 0; // the page's default: the offset `npm start` tuned for the committed checkpoint
const BACKGROUND = 0.2; // the page's default threshold

interface PageGlobals {
  sptPageResult?: PageResult;
  sptPageRuns?: number;
}

/** Wait until the page has finished more than `before` runs; returns the status line and state. */
async function finishedRun(page: Page, before: number): Promise<{ state: string; text: string }> {
  await page.waitForFunction((n) => ((globalThis as PageGlobals).sptPageRuns ?? 0) > n, before, { timeout: 120_000 });
  return page.$eval('#status', (el) => ({ state: (el as HTMLElement).dataset.state ?? '', text: el.textContent ?? '' }));
}

const runsSoFar = (page: Page): Promise<number> => page.evaluate(() => (globalThis as PageGlobals).sptPageRuns ?? 0);
const lastResult = (page: Page): Promise<PageResult> => page.evaluate(() => (globalThis as PageGlobals).sptPageResult!);

if (!chromiumAvailable()) {
  t.plan(0, `${CHROMIUM_PATH} not found: install it with \`apt-get install -y chromium\` to run the web page test`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'spt-page-'));
  const clipPath = 'assets/world-clip.safetensors', weightsPath = 'assets/world-sptseg.safetensors';
  let browser: Browser | null = null;
  let served: ServedPage | null = null;
  let page: Page;
  const logs: string[] = [];

  t.before(async () => {
    served = await servePage(await pageFiles({ clip: clipPath, weights: weightsPath }));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
    page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    page.on('console', (m) => { if (m.type() === 'error') logs.push(`[error] ${m.text()}`); });
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    await page.goto(served.url);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state !== 'loading', null, { timeout: 60_000 });
  });
  t.teardown(async () => {
    await browser?.close();
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Node labels for the same scene, classes and weights, on the reference cpu backend. */
  async function nodeLabels(seed: number, classes: readonly string[], background = BACKGROUND): Promise<Int32Array> {
    useDevice('cpu', { quiet: true });
    const clip = await loadClip(clipPath), model = await loadSptSeg(weightsPath, { visionHeads: clip.config.vision.heads });
    const scene = drawWorldScene(sceneGenerator(seed, 0), { ...WORLD_DEFAULTS, size: model.inputSize[0] });
    const seen = new Set(DEFAULT_SPLIT.seen.map((c) => WORLD_CLASS_NAMES[c]));
    const pred = model.predict(imagesOf([scene]), worldClassText(clip, classes), { seenMask: classes.map((n) => seen.has(n)), offset: OFFSET });
    return backgroundLabels(pred.probs.data(), classes.length, background);
  }

  function agreement(a: readonly number[], b: Int32Array): number {
    let same = 0;
    for (let i = 0; i < b.length; i++) if (a[i] === b[i]) same++;
    return a.length === b.length ? same / b.length : 0;
  }

  t.test('the page loads both checkpoints', async (t) => {
    const status = await page.$eval('#status', (el) => (el as HTMLElement).dataset.state + ': ' + el.textContent);
    t.match(status, /^ready: Ready: .*clip\.safetensors and .*sptseg\.safetensors loaded \(input 64x64\)/);
    const legend = await page.$$eval('#legend li', (els) => els.map((e) => (e as HTMLElement).dataset.class));
    t.same(legend, [...WORLD_CLASS_NAMES], 'the 12 shapes are pre-filled');
    const unseen = await page.$$eval('#legend li .tag.unseen', (els) => els.map((e) => e.parentElement!.dataset.class));
    t.same(unseen, DEFAULT_SPLIT.unseen.map((c) => WORLD_CLASS_NAMES[c]), 'ring, star and arrow are marked unseen');
  });

  let seed = -1;
  for (const backend of ['wasm', 'gpu:webgl2', 'gpu:webgpu'] as const) {
    t.test(`a scene on ${backend} agrees with Node`, async (t) => {
      if (backend === 'gpu:webgpu') {
        const adapter = await page.evaluate(async () => Boolean(await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()));
        if (!adapter) {
          // WebGPU depends on Chromium's build and flags: a known gap, recorded rather than hidden.
          t.fail('the page segments on WebGPU', { todo: `no WebGPU adapter in this Chromium (flags: ${CHROMIUM_ARGS.join(' ')})` });
          return;
        }
      }
      const before = await runsSoFar(page);
      await page.selectOption('#backend', backend); // a change re-runs the current image
      if (seed < 0) await page.click('#new-scene');
      const s = await finishedRun(page, before);
      t.equal(s.state, 'done', `the run finished: ${s.text}`);
      const r = await lastResult(page);
      if (seed < 0) seed = r.seed!;
      t.equal(r.seed, seed, 'the same scene on every backend');
      t.equal(r.backend, backend);
      const line = { wasm: /^wasm: WebAssembly SIMD/, 'gpu:webgl2': /^gpu: gpu\.js mode webgl2 \(renderer: .*(SwiftShader|ANGLE|Mesa|NVIDIA|AMD|Intel|Apple)/, 'gpu:webgpu': /^gpu: gpu\.js mode webgpu \(renderer: WebGPU /i }[backend];
      t.match(r.device, line, `ran on: ${r.device}`);
      const expected = await nodeLabels(seed, WORLD_CLASS_NAMES);
      const agree = agreement(r.labels, expected);
      t.ok(agree >= AGREE, `${(100 * agree).toFixed(2)}% of ${expected.length} pixels agree with Node (segmenter ${r.ms.toFixed(0)} ms)`);
      t.comment(`${backend}: ${r.ms.toFixed(0)} ms for one 64x64 segmentation (first run, kernel compiles included), text tower ${r.textMs.toFixed(0)} ms`);
      t.equal((r.shares.reduce((a, b) => a + b, 0) + r.backgroundShare).toFixed(6), '1.000000', 'the shares and the background cover every pixel');
      const truth = drawWorldScene(sceneGenerator(seed, 0), WORLD_DEFAULTS).labels; // 255 = background
      let both = 0;
      for (let p = 0; p < truth.length; p++) if ((truth[p] === 255) === (r.labels[p] < 0)) both++;
      // A gross floor for the trained weights (the agreement with Node above checks the rule itself):
      // over 300 random scenes in Node, median 88%, 1st percentile 63%, the worst 26%.
      t.ok(both / truth.length >= 0.2, `background vs object agrees with the scene's ground truth on ${(100 * both / truth.length).toFixed(1)}% of pixels (background ${(100 * r.backgroundShare).toFixed(1)} %)`);
      const shown = await page.$$eval('#legend li .share', (els) => els.map((e) => e.textContent));
      t.equal(shown.length, 12);
      t.ok(shown.every((x) => /^\d+\.\d %$/.test(x ?? '')), 'each class shows its share');
    });
  }

  t.test('second runs (kernels compiled) give the same mask, and are timed', async (t) => {
    for (const backend of ['wasm', 'gpu:webgl2'] as const) {
      const first = await lastResult(page);
      const before = await runsSoFar(page);
      await page.selectOption('#backend', backend);
      const s = await finishedRun(page, before);
      t.equal(s.state, 'done', s.text);
      const r = await lastResult(page);
      t.equal(r.backend, backend);
      t.ok(agreement(r.labels, Int32Array.from(first.labels)) >= AGREE, `${backend} agrees with the previous backend's mask`);
      t.comment(`${backend}, second run: ${r.ms.toFixed(0)} ms for one 64x64 segmentation`);
    }
  });

  t.test('a new class list changes the legend', async (t) => {
    const classes = ['star', 'circle', 'banana'];
    await page.fill('#classes', classes.join('\n'));
    const before = await runsSoFar(page);
    await page.click('#segment');
    const s = await finishedRun(page, before);
    t.equal(s.state, 'done', s.text);
    const legend = await page.$$eval('#legend li', (els) => els.map((e) => (e as HTMLElement).dataset.class).sort());
    t.same(legend, [...classes].sort(), 'the legend lists exactly the typed classes');
    const r = await lastResult(page);
    t.same(r.classes, classes);
    t.same(r.seen, [false, true, false], 'circle is seen; star and the new banana are not');
    const expected = await nodeLabels(seed, classes);
    t.ok(agreement(r.labels, expected) >= AGREE, 'the new mask agrees with Node too');
    const shot = join(dir, 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.comment(`screenshot: ${shot}`);
  });

  t.test('background threshold 0 gives every pixel a class, as Node does', async (t) => {
    await page.fill('#background', '0');
    const before = await runsSoFar(page);
    await page.click('#segment');
    const s = await finishedRun(page, before);
    t.equal(s.state, 'done', s.text);
    const r = await lastResult(page);
    t.equal(r.backgroundShare, 0, 'no background pixels');
    t.ok(r.labels.every((l) => l >= 0));
    t.ok(agreement(r.labels, await nodeLabels(seed, r.classes, 0)) >= AGREE, 'agrees with Node at threshold 0');
    await page.fill('#background', String(BACKGROUND));
  });

  t.test('errors a user can cause show on the page', async (t) => {
    await page.fill('#background', '1.5');
    const before0 = await runsSoFar(page);
    await page.click('#segment');
    const s0 = await finishedRun(page, before0);
    t.equal(s0.state, 'error');
    t.match(s0.text, /background threshold must be a number in \[0, 1\), got "1.5"/);
    await page.fill('#background', String(BACKGROUND));
    await page.fill('#classes', '  \n ');
    let before = await runsSoFar(page);
    await page.click('#segment');
    let s = await finishedRun(page, before);
    t.equal(s.state, 'error');
    t.match(s.text, /class list is empty/);
    await page.fill('#classes', WORLD_CLASS_NAMES.join('\n'));
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    // Wait for this file's own message: the status still shows the previous (class list) error.
    await page.waitForFunction(() => /notes\.txt/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 10_000 });
    t.match(await page.textContent('#status'), /notes\.txt is not a PNG or JPEG image/);
    const wide = encodePng({ width: 9000, height: 2, channels: 3, data: new Uint8Array(9000 * 2 * 3) });
    await page.setInputFiles('#file', { name: 'wide.png', mimeType: 'image/png', buffer: Buffer.from(wide) });
    await page.waitForFunction(() => /wide\.png/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 10_000 });
    t.match(await page.textContent('#status'), /wide\.png is too large: 9000x2 pixels \(at most 8192 per side/);
    before = await runsSoFar(page);
    await page.click('#new-scene');
    s = await finishedRun(page, before);
    t.equal(s.state, 'done', 'the page still works after the errors');

    t.same(logs, [], 'no errors in the page console');
  });

  t.test('?seed=N opens scene N (the screenshot: an unseen ring beside a seen square)', async (t) => {
    await page.goto(`${served!.url}?seed=56`);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state !== 'loading', null, { timeout: 60_000 });
    const before = await runsSoFar(page);
    await page.click('#new-scene');
    const s = await finishedRun(page, before);
    t.equal(s.state, 'done', s.text);
    const r = await lastResult(page);
    t.equal(r.seed, 56);
    t.ok(agreement(r.labels, await nodeLabels(56, WORLD_CLASS_NAMES)) >= AGREE, 'agrees with Node');
    if (process.env.SPT_UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: new URL('../../docs/images/page.png', import.meta.url).pathname, fullPage: true });
      t.comment('updated docs/images/page.png');
    }
  });

  t.test('a missing checkpoint is named on the page', async (t) => {
    const files = await pageFiles({ clip: clipPath, weights: join(dir, 'nope.safetensors') });
    const other = await servePage(files);
    const p2 = await browser!.newPage();
    try {
      await p2.goto(other.url);
      await p2.waitForFunction(() => document.getElementById('status')?.dataset.state === 'error', null, { timeout: 20_000 });
      t.match(await p2.textContent('#status'), /Missing .*nope\.safetensors: train it with `npx spt-seg world`/);
    } finally {
      await p2.close();
      await other.close();
    }
  });
}
