/**
 * One inference path: on three world scenes written as PNG, `spt-seg segment` (its mask PNG), the API
 * (`segmentImage`) and the web page in Chromium give the same mask, pixel for pixel, on the wasm
 * backend. The page is asked twice per scene: the scene it draws itself (`?seed=N`, then "New scene")
 * and the PNG file chosen in its file input. All three read the weights' model card (normalisation,
 * seen classes, offset, background rule 0.2), so background pixels must agree too (255 in the mask
 * file, −1 in the labels). Each mask must hold at least two labels, so equality means something.
 *
 * Weights: assets/world-sptseg.safetensors, or a copy with the world's card when the asset has none
 * (test/browser/world-weights.ts). Needs /usr/bin/chromium; skips with a message when it is missing.
 * Run alone: npx tap test/browser/same-masks.test.ts
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { useDevice } from '../../engine/index.ts';
import { decodeImage, encodePng, readLabelPng, toRgb } from '../../engine/io/image.ts';
import { main } from '../../cli/spt-seg.ts';
import { loadSptSegWithCard } from '../../model/spt-weights.ts';
import { BACKGROUND_LABEL, maskBytes, segmentImage } from '../../model/segment-image.ts';
import { loadClip } from '../../model/weights.ts';
import { sceneRgb } from '../../train/world/export.ts';
import { drawWorldScene, sceneGenerator, WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import { worldClassText } from '../../train/world/segment.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from '../../tools/browser/page-server.ts';
import { pageFiles } from '../../tools/page/files.ts';
import { servePage, type ServedPage } from '../../tools/page/serve.ts';
import type { PageResult } from '../../page/main.ts';
import { cardedWorldWeights, WORLD_CLIP } from './world-weights.ts';

const SEEDS = [56, 57, 58]; // the page's ?seed=56 scene, then "New scene" twice

interface PageGlobals {
  sptPageResult?: PageResult;
  sptPageRuns?: number;
}

const runsSoFar = (page: Page): Promise<number> => page.evaluate(() => (globalThis as PageGlobals).sptPageRuns ?? 0);

async function finishedRun(page: Page, before: number): Promise<{ state: string; text: string; result: PageResult }> {
  await page.waitForFunction((n) => ((globalThis as PageGlobals).sptPageRuns ?? 0) > n, before, { timeout: 180_000 });
  return page.evaluate(() => ({
    state: document.getElementById('status')?.dataset.state ?? '', text: document.getElementById('status')?.textContent ?? '',
    result: (globalThis as PageGlobals).sptPageResult!,
  }));
}

/** How many pixels differ, and the first one. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  let n = 0, first = -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { n++; if (first < 0) first = i; }
  return n === 0 ? 'identical' : `${n} pixels differ, the first at ${first} (${a[first]} vs ${b[first]})`;
}

if (!chromiumAvailable()) {
  t.plan(0, `${CHROMIUM_PATH} not found: install it with \`apt-get install -y chromium\` to run the same-masks test`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'spt-same-'));
  let browser: Browser | null = null;
  let served: ServedPage | null = null;
  t.teardown(async () => {
    await browser?.close();
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  t.test('the CLI, the API and the page give identical masks on wasm', async (t) => {
    useDevice('wasm', { quiet: true });
    const { weights, copied } = await cardedWorldWeights(dir);
    t.comment(copied ? `the asset has no model card: using a copy with worldCard (${weights})` : `the asset's own model card (${weights})`);
    const scenes = SEEDS.map((seed) => drawWorldScene(sceneGenerator(seed, 0), WORLD_DEFAULTS));
    const pngs = scenes.map((sc, k) => {
      const path = join(dir, `scene-${SEEDS[k]}.png`);
      writeFileSync(path, encodePng({ width: sc.size, height: sc.size, channels: 3, data: sceneRgb(sc) }));
      return path;
    });

    // The command line: one mask PNG per scene (the card says the classes, templates, offset and background).
    const cli: Uint8Array[] = [];
    for (const [k, png] of pngs.entries()) {
      const out = join(dir, `mask-${SEEDS[k]}.png`), err: string[] = [];
      const code = await main(['segment', png, '--weights', weights, '--clip', WORLD_CLIP, '--out', out], { out: () => {}, err: (l) => err.push(l) });
      t.equal(code, 0, `spt-seg segment scene ${SEEDS[k]}`);
      if (code !== 0) t.comment(err.join('\n'));
      cli.push((await readLabelPng(out)).data);
    }

    // The API, on the same PNG files.
    const { model, card } = await loadSptSegWithCard(weights);
    const clip = await loadClip(WORLD_CLIP);
    const names = card.classes!.names;
    const text = worldClassText(clip, names);
    const api: Int32Array[] = [];
    for (const png of pngs) api.push((await segmentImage(model, card, text, toRgb(decodeImage(readFileSync(png), png)))).labels);

    // The page: its own scenes (?seed=56, New scene, New scene), then the same PNGs through its file input.
    served = await servePage(await pageFiles({ clip: WORLD_CLIP, weights }));
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
    const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    const logs: string[] = [];
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    await page.goto(`${served.url}?seed=${SEEDS[0]}&backend=wasm`);
    const drawn: PageResult[] = [];
    let r = await finishedRun(page, 0); // the page opens on scene 56, segmented
    for (let k = 0; k < SEEDS.length; k++) {
      if (k > 0) {
        const before = await runsSoFar(page);
        await page.click('#new-scene');
        r = await finishedRun(page, before);
      }
      t.equal(r.state, 'done', r.text);
      t.equal(r.result.seed, SEEDS[k], `the page drew scene ${SEEDS[k]}`);
      t.equal(r.result.backend, 'wasm');
      drawn.push(r.result);
    }
    const chosen: PageResult[] = [];
    for (const png of pngs) {
      const before = await runsSoFar(page);
      await page.setInputFiles('#file', png);
      const c = await finishedRun(page, before);
      t.equal(c.state, 'done', c.text);
      chosen.push(c.result);
    }

    for (const [k, seed] of SEEDS.entries()) {
      const labels = new Set(api[k]);
      t.ok(labels.size >= 2, `scene ${seed}: the mask is not one label (${[...labels].join(', ')})`);
      t.equal(diff(maskBytes(api[k]), cli[k]), 'identical', `scene ${seed}: the API's labels (−1 -> ${BACKGROUND_LABEL}) = the CLI's mask PNG`);
      t.equal(diff(drawn[k].labels, api[k]), 'identical', `scene ${seed}: the page's own scene = the API`);
      t.equal(diff(chosen[k].labels, api[k]), 'identical', `scene ${seed}: the page, given the PNG = the API`);
      t.same([chosen[k].width, chosen[k].height], [64, 64]);
    }
    t.same(logs, [], 'no errors in the page');
  });
}
