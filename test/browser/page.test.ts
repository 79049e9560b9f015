/**
 * The web page (page/, tools/page/) in headless Chromium: it loads the committed world checkpoints
 * (assets/world-clip.safetensors and assets/world-sptseg.safetensors, the SPT-SEG that `npm start`
 * trains; a copy with the world's model card while the asset has none: world-weights.ts), opens on a
 * scene already segmented, segments it on wasm, gpu.js WebGL2 and (where Chromium has an adapter)
 * WebGPU, and each mask must agree with Node's `segmentImage` for the same scene, classes and weights
 * (the reference cpu backend) on at least 99% of pixels (test/browser/same-masks.test.ts checks the
 * wasm masks are identical). Then a new class list must change the legend, the errors a user can
 * cause (empty class list, a file that is not an image, an image too large, a missing checkpoint) must
 * show as messages on the page, disabled buttons must say why in their tooltip, and the built page
 * opened from disk must say how to serve it instead of "Failed to fetch".
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
import { pathToFileURL } from 'node:url';
import { encodePng } from '../../engine/io/image.ts';
import { withOverrides } from '../../model/model-card.ts';
import { loadSptSegWithCard } from '../../model/spt-weights.ts';
import { rgbFromPlanar, segmentImage } from '../../model/segment-image.ts';
import { loadClip } from '../../model/weights.ts';
import { useDevice } from '../../engine/index.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { drawWorldScene, sceneGenerator, WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import { worldClassText } from '../../train/world/segment.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../../tools/browser/page-server.ts';
import { buildPage } from '../../tools/page/build.ts';
import { pageFiles } from '../../tools/page/files.ts';
import { servePage, type ServedPage } from '../../tools/page/serve.ts';
import type { PageResult } from '../../page/main.ts';
import { backgroundRule } from '../../page/pipeline.ts';
import { cssColour } from '../../model/palette.ts';
import { cardedWorldWeights, WORLD_CLIP } from './world-weights.ts';

const AGREE = 0.99;
const BACKGROUND = 0.2; // the page's default threshold (the world card's rule)

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
  const clipPath = WORLD_CLIP;
  let weightsPath = '';
  let browser: Browser | null = null;
  let served: ServedPage | null = null;
  let page: Page;
  const logs: string[] = [];

  t.before(async () => {
    weightsPath = (await cardedWorldWeights(dir)).weights;
    served = await servePage(await pageFiles({ clip: clipPath, weights: weightsPath }));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
    page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    page.on('console', (m) => { if (m.type() === 'error') logs.push(`[error] ${m.text()}`); });
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    await page.goto(served.url);
    // The page opens on a scene it segments at once: wait for that first run.
    await page.waitForFunction(() => ((globalThis as PageGlobals).sptPageRuns ?? 0) >= 1, null, { timeout: 180_000 });
  });
  t.teardown(async () => {
    await browser?.close();
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Node's `segmentImage` labels for the same scene, classes and weights, on the reference cpu backend. */
  async function nodeLabels(seed: number, classes: readonly string[], background = BACKGROUND): Promise<Int32Array> {
    useDevice('cpu', { quiet: true });
    const clip = await loadClip(clipPath), { model, card } = await loadSptSegWithCard(weightsPath);
    const scene = drawWorldScene(sceneGenerator(seed, 0), { ...WORLD_DEFAULTS, size: model.inputSize[0] });
    const rgb = rgbFromPlanar(scene.image, scene.size, scene.size);
    const r = await segmentImage(model, withOverrides(card, { background: backgroundRule(background) }, weightsPath), worldClassText(clip, classes), rgb, { classes });
    return r.labels;
  }

  function agreement(a: readonly number[], b: Int32Array): number {
    let same = 0;
    for (let i = 0; i < b.length; i++) if (a[i] === b[i]) same++;
    return a.length === b.length ? same / b.length : 0;
  }

  t.test('the page loads both checkpoints and opens on a segmented scene', async (t) => {
    t.match(await page.textContent('#models'), /^Loaded .*clip\.safetensors and .*sptseg.*\.safetensors \(input 64x64\)/);
    const status = await page.$eval('#status', (el) => (el as HTMLElement).dataset.state + ': ' + el.textContent);
    t.match(status, /^done: Done: scene \d+, 12 classes\./, 'the first scene is segmented without a click');
    const first = await lastResult(page);
    t.equal(first.labels.length, 64 * 64);
    t.equal(first.backend, 'gpu:webgl2', 'on the default backend');
    t.match(await page.textContent('#source'), /^Procedural scene \d+ .*\?seed=\d+/, 'the source line says how to see the scene again');
    t.equal(await page.getAttribute('#segment', 'disabled'), null, 'Segment is enabled');
    const legend = await page.$$eval('#legend li', (els) => els.map((e) => (e as HTMLElement).dataset.class).sort());
    t.same(legend, [...WORLD_CLASS_NAMES].sort(), 'the 12 shapes are pre-filled');
    const colours = await page.$$eval('#legend li', (els) => Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.class, (e.querySelector('.swatch') as HTMLElement).style.background])));
    t.same(colours, Object.fromEntries(WORLD_CLASS_NAMES.map((n, c) => [n, cssColour(c).replace(/,/g, ', ')])), 'the legend uses model/palette.ts colours');
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
      await page.selectOption('#backend', backend); // a change re-runs the current image (the scene the page opened on)
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

  t.test('?seed=N opens on scene N, segmented (the screenshot: an unseen ring beside a seen square)', async (t) => {
    await page.goto(`${served!.url}?seed=56&backend=wasm`);
    const s = await finishedRun(page, 0); // no click: the page segments scene 56 as it opens
    t.equal(s.state, 'done', s.text);
    const r = await lastResult(page);
    t.equal(r.seed, 56);
    t.equal(r.backend, 'wasm', '?backend=wasm picks the backend');
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
      for (const id of ['#new-scene', '#segment', '#file']) {
        t.not(await p2.getAttribute(id, 'disabled'), null, `${id} is disabled`);
        t.match(await p2.getAttribute(id, 'title'), /could not load its checkpoints: Missing .*nope\.safetensors/, `${id} says why in its tooltip`);
      }
    } finally {
      await p2.close();
      await other.close();
    }
  });

  t.test('the built page opened from disk says how to serve it', async (t) => {
    const out = join(dir, 'built');
    const written = (await buildPage(out, { clip: clipPath, weights: weightsPath })).map(([name]) => name);
    t.ok(written.includes('README.txt'), 'the build writes README.txt');
    const p3 = await browser!.newPage();
    try {
      await p3.goto(pathToFileURL(join(out, 'index.html')).href);
      await p3.waitForFunction(() => document.getElementById('status')?.dataset.state === 'error', null, { timeout: 20_000 });
      const text = await p3.textContent('#status');
      t.notMatch(text, /^Failed to fetch/);
      t.match(text, /opened from a file .*npm run page.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      t.match(await p3.getAttribute('#segment', 'title'), /could not load its checkpoints: This page was opened from a file/, 'Segment says why it is disabled');
    } finally {
      await p3.close();
    }
  });
}
