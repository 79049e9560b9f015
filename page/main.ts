/**
 * The web page's controller: fetch the two checkpoints named in page-config.json, then wire the
 * controls (new scene, image drop / choose, class list, backend, offset, background, segment) to
 * pipeline.ts and view.ts. Every failure ends as a message in the status line, never a blank page.
 *
 * The page opens on a scene already segmented (scene N with `?seed=N` in the address, else a random
 * one; `?backend=wasm` picks the backend it runs on). Every action that cannot run says why: disabled buttons carry the reason in their tooltip
 * (and the status line says it), "Segment" without an image draws a scene first, a backend change
 * while a run is going is queued, a backend this browser cannot run is named with the reason, and a
 * page opened from disk (file://), where browsers refuse to fetch the checkpoints, says how to serve it.
 *
 * For tests, the last result is also on `globalThis.sptPageResult` (labels, classes, scene seed,
 * device line, time), `globalThis.sptPageRuns` counts finished runs, and the status element
 * carries `data-state` = loading | ready | busy | done | error.
 * Does not: model code (pipeline.ts), drawing (view.ts), decoding files (image.ts).
 */
import type { RgbImage } from '../model/preprocess.ts';
import { rgbFromPlanar } from '../model/segment-image.ts';
import { wasmUnavailableReason } from '../kernels/wasm/index.ts';
import { drawWorldScene, sceneGenerator, WORLD_DEFAULTS } from '../train/world/scenes.ts';
import { WORLD_CLASS_NAMES } from '../train/world/classes.ts';
import { imageFromFile } from './image.ts';
import {
  loadPageModels, PAGE_BACKENDS, PageInputError, parseClassList, SEEN_NAMES, segmentOnPage, type PageModels, type Segmentation,
} from './pipeline.ts';
import { drawImage, renderLegend } from './view.ts';
import { sptUnavailable } from './probe.ts';

/** What the server writes next to the page: where the checkpoints are, or why one is missing. */
export interface PageConfig {
  clip: { url: string; source: string } | { missing: string; hint: string };
  weights: { url: string; source: string } | { missing: string; hint: string };
}

export interface PageResult extends Omit<Segmentation, 'labels'> {
  labels: number[];
  /** The scene's seed, or null for a dropped image. */
  seed: number | null;
  backend: string;
}

/** How to serve the page, for the messages of a page that cannot fetch its files. */
export const SERVE_HINT = 'Serve the page instead: from the repository, `npm run page` (it prints the address), or serve the folder that '
  + '`npm run page:build` wrote (dist/page/) with any static web server, sending the headers Cross-Origin-Opener-Policy: same-origin and '
  + 'Cross-Origin-Embedder-Policy: require-corp so the wasm backend can run (without them the gpu.js backends still do).';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: element #${id} is missing from index.html`);
  return el as T;
};

const status = $('status'), canvas = $<HTMLCanvasElement>('view'), legend = $('legend');
const classBox = $<HTMLTextAreaElement>('classes'), backendSel = $<HTMLSelectElement>('backend');
const offsetBox = $<HTMLInputElement>('offset'), fileInput = $<HTMLInputElement>('file');
const backgroundBox = $<HTMLInputElement>('background'), backgroundOut = $<HTMLElement>('background-share');
const sceneBtn = $<HTMLButtonElement>('new-scene'), runBtn = $<HTMLButtonElement>('segment');
const sourceLine = $('source'), deviceOut = $('device'), timeOut = $('time'), modelsLine = $('models');

let models: PageModels | null = null;
/** Why the checkpoints are not there (loading, or the error), while `models` is null. */
let notLoaded = 'The checkpoints are still loading.';
let current: { rgb: RgbImage; seed: number | null; what: string } | null = null;
/** The next scene's seed: `?seed=N` in the page's address (a scene to share or reproduce), else random. */
const seedParam = Number(new URLSearchParams(location.search).get('seed') ?? NaN);
let nextSeed = Number.isInteger(seedParam) && seedParam >= 0 ? seedParam : Math.floor(Math.random() * 1_000_000);
let busy: string | null = null;
/** A run asked for while another was going (a backend or setting change): done when that one ends. */
let rerun = false;
/** Runs finished (done or failed): tests wait for it to grow. */
let runs = 0;

function say(text: string, state: 'loading' | 'ready' | 'busy' | 'done' | 'error'): void {
  status.textContent = text;
  status.dataset.state = state;
  status.className = state === 'error' ? 'error' : '';
}

function errorText(e: unknown): string {
  if (e instanceof PageInputError) return e.message;
  return `Something went wrong: ${e instanceof Error ? e.message : String(e)}`;
}

/** Why the controls that run the model cannot run now, or null when they can. */
function blocked(): string | null {
  if (!models) return notLoaded;
  if (busy) return `Busy: ${busy}. Wait for it to finish.`;
  return null;
}

/** Enable or disable the buttons and the file input, with the reason as their tooltip. */
function refreshControls(): void {
  const why = blocked();
  const set = (el: HTMLButtonElement | HTMLInputElement, help: string): void => {
    el.disabled = why !== null;
    el.title = why ?? help;
  };
  set(sceneBtn, 'Draw a new procedural scene and segment it');
  set(runBtn, current ? `Segment ${current.what} with the classes and settings on the left` : 'Draw a scene and segment it');
  set(fileInput, 'Choose a PNG or JPEG image to segment (or drop one on the page)');
}

/** The class list as typed, with the legend showing seen / unseen marks before any result. */
function classesOrThrow(): string[] {
  return parseClassList(classBox.value);
}

function previewLegend(): void {
  try {
    const seen = models?.seenNames ?? SEEN_NAMES;
    renderLegend(legend, classesOrThrow().map((name) => ({ name, seen: seen.has(name), share: null })));
  } catch {
    legend.replaceChildren();
  }
}

/** Why `backend` cannot run in this page, or null. */
async function backendUnavailable(backend: string): Promise<string | null> {
  if (backend === 'wasm') {
    const why = wasmUnavailableReason();
    return why === null ? null : `${why} (the wasm backend needs a cross-origin isolated page: ${SERVE_HINT})`;
  }
  return sptUnavailable(backend.slice(4));
}

async function run(): Promise<void> {
  const why = blocked();
  if (why !== null) {
    if (models && busy) { rerun = true; return; } // a setting changed mid-run: run again after it
    say(`Cannot segment yet: ${why}`, status.dataset.state === 'error' ? 'error' : 'loading');
    return;
  }
  if (!current) { newScene(); return; } // "Segment" before any image: draw a scene (newScene runs it)
  const m = models!, image = current;
  busy = `segmenting ${image.what}`;
  refreshControls();
  try {
    const classes = classesOrThrow();
    const offset = Number(offsetBox.value);
    if (!Number.isFinite(offset) || offset < 0 || offset > 1) throw new PageInputError(`The seen-class offset must be a number in [0, 1], got "${offsetBox.value}".`);
    const background = Number(backgroundBox.value);
    if (!Number.isFinite(background) || background < 0 || background >= 1) throw new PageInputError(`The background threshold must be a number in [0, 1), got "${backgroundBox.value}".`);
    const backend = backendSel.value;
    say(`Segmenting ${image.what} on ${backend}… (the first run on a backend compiles its kernels)`, 'busy');
    await new Promise((r) => setTimeout(r, 0)); // let the status paint
    const unavailable = await backendUnavailable(backend);
    if (unavailable !== null) throw new PageInputError(`${backend} cannot run in this browser: ${unavailable}. Choose another backend.`);
    const r = await segmentOnPage(m, backend, image.rgb, classes, offset, background);
    drawImage(canvas, image.rgb, r.labels);
    renderLegend(legend, r.classes.map((name, c) => ({ name, seen: r.seen[c], share: r.shares[c] })));
    backgroundOut.textContent = background > 0 ? `background (no class reaches ${background}, left uncoloured): ${(100 * r.backgroundShare).toFixed(1)} %` : '';
    deviceOut.textContent = r.device;
    timeOut.textContent = `${r.ms.toFixed(0)} ms segmenter${r.textMs > 0 ? `, ${r.textMs.toFixed(0)} ms text tower (${classes.length} classes; cached for this list)` : ''}`;
    const result: PageResult = { ...r, labels: [...r.labels], seed: image.seed, backend };
    Object.assign(globalThis, { sptPageResult: result });
    say(`Done: ${image.what}, ${classes.length} classes.`, 'done');
  } catch (e) {
    say(errorText(e), 'error');
  } finally {
    busy = null;
    refreshControls();
    Object.assign(globalThis, { sptPageRuns: ++runs });
  }
  if (rerun) { rerun = false; void run(); }
}

function newScene(): void {
  const why = blocked();
  if (why !== null) { say(`Cannot draw a scene yet: ${why}`, status.dataset.state === 'error' ? 'error' : 'loading'); return; }
  const size = models!.size;
  const seed = nextSeed++;
  const scene = drawWorldScene(sceneGenerator(seed, 0), { ...WORLD_DEFAULTS, size });
  // The scene as 8-bit pixels, as its PNG (train/world/export.ts sceneRgb) holds them.
  current = { rgb: rgbFromPlanar(scene.image, size, size), seed, what: `scene ${seed}` };
  sourceLine.textContent = `Procedural scene ${seed} (${size}x${size}; open this page with ?seed=${seed} to see it again): ${scene.objects.map((o) => WORLD_CLASS_NAMES[o.cls]).join(', ')}`;
  drawImage(canvas, current.rgb);
  void run();
}

async function useFile(file: File): Promise<void> {
  const why = blocked();
  if (why !== null) { say(`Cannot open ${file.name} yet: ${why}`, status.dataset.state === 'error' ? 'error' : 'loading'); return; }
  try {
    const { rgb, note } = await imageFromFile(file);
    current = { rgb, seed: null, what: file.name };
    sourceLine.textContent = `${note}; the model sees it resized to ${models!.size} on its shorter side.`;
    drawImage(canvas, rgb);
    await run();
  } catch (e) {
    say(errorText(e), 'error');
  }
}

/** `fetch`, with a message that says what to do when the browser refuses (file://, server gone). */
async function fetchOrExplain(url: string, what: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch (e) {
    throw new PageInputError(`Could not fetch ${what} (${url}): ${e instanceof Error ? e.message : String(e)}. ${SERVE_HINT}`);
  }
}

async function fetchBytes(url: string, source: string): Promise<Uint8Array> {
  const res = await fetchOrExplain(url, source);
  if (!res.ok) throw new PageInputError(`Could not load ${source} (${url}): HTTP ${res.status}.`);
  return new Uint8Array(await res.arrayBuffer());
}

async function start(): Promise<void> {
  say('Loading the world CLIP and the SPT-SEG checkpoint…', 'loading');
  for (const b of PAGE_BACKENDS) {
    const option = new Option(b.label, b.name);
    const wasmWhy = b.name === 'wasm' ? wasmUnavailableReason() : null;
    if (wasmWhy !== null) {
      option.disabled = true;
      option.text = `${b.name} (unavailable here)`;
      option.title = `${wasmWhy}: the wasm backend needs a cross-origin isolated page (COOP / COEP headers, as \`npm run page\` sends)`;
    }
    backendSel.append(option);
  }
  // `?backend=wasm` (or gpu:webgl2, gpu:webgpu) in the address picks the first backend; gpu.js WebGL2 otherwise.
  const asked = new URLSearchParams(location.search).get('backend');
  const offered = Array.from(backendSel.options).find((o) => o.value === asked && !o.disabled);
  backendSel.value = offered ? offered.value : 'gpu:webgl2';
  classBox.value = WORLD_CLASS_NAMES.join('\n');
  previewLegend();
  refreshControls();
  // Listeners first: an early click or drop is answered with the reason it cannot run yet.
  sceneBtn.addEventListener('click', newScene);
  runBtn.addEventListener('click', () => void run());
  backendSel.addEventListener('change', () => { if (current) void run(); });
  classBox.addEventListener('input', previewLegend);
  fileInput.addEventListener('change', () => { if (fileInput.files?.[0]) void useFile(fileInput.files[0]); });
  document.body.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
  document.body.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.body.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) void useFile(file);
    else say('Nothing to segment in that drop: drop a PNG or JPEG file.', 'error');
  });
  if (location.protocol === 'file:') {
    throw new PageInputError(`This page was opened from a file (${location.pathname.split('/').pop() || 'index.html'} on disk), and browsers do not let such a page fetch its checkpoints. ${SERVE_HINT}`);
  }
  const res = await fetchOrExplain('page-config.json', 'the page\'s configuration');
  if (!res.ok) throw new PageInputError(`page-config.json: HTTP ${res.status}: this folder is not a built page. ${SERVE_HINT}`);
  const config = (await res.json()) as PageConfig;
  const missing = [config.clip, config.weights].filter((f): f is { missing: string; hint: string } => 'missing' in f);
  if (missing.length > 0) {
    throw new PageInputError(missing.map((m) => `Missing ${m.missing}: ${m.hint}`).join(' '));
  }
  const c = config.clip as { url: string; source: string }, w = config.weights as { url: string; source: string };
  const [clipBytes, weightBytes] = await Promise.all([fetchBytes(c.url, c.source), fetchBytes(w.url, w.source)]);
  models = loadPageModels(clipBytes, weightBytes, c.source, w.source);
  // The boxes start at what the weights' model card says (index.html's values for weights without one).
  const said = (field: string) => !models!.gaps.some((g) => g.field === field);
  const { offset, background } = models.card.inference;
  if (said('inference.offset')) offsetBox.value = String(offset);
  if (said('inference.background')) backgroundBox.value = String(background.rule === 'none' ? 0 : background.below);
  if (models.card.classes) classBox.value = models.card.classes.names.join('\n');
  previewLegend();
  modelsLine.textContent = `Loaded ${c.source} and ${w.source} (input ${models.size}x${models.size}).`;
  say(`Ready: ${c.source} and ${w.source} loaded (input ${models.size}x${models.size}).`, 'ready');
  refreshControls();
  newScene(); // open on a scene already segmented
}

start().catch((e: unknown) => {
  notLoaded = `The page could not load its checkpoints: ${errorText(e)}`;
  refreshControls();
  say(errorText(e), 'error');
});
