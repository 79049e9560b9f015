/**
 * The web page's controller: fetch the two checkpoints named in page-config.json, then wire the
 * controls (new scene, image drop / choose, class list, backend, offset, segment) to pipeline.ts and
 * view.ts. Every failure ends as a message in the status line, never a blank page.
 *
 * For tests, the last result is also on `globalThis.sptPageResult` (labels, classes, scene seed,
 * device line, time), `globalThis.sptPageRuns` counts finished runs, and the status element
 * carries `data-state` = loading | ready | busy | done | error.
 * Does not: model code (pipeline.ts), drawing (view.ts), decoding files (image.ts).
 */
import { drawWorldScene, sceneGenerator, WORLD_DEFAULTS } from '../train/world/scenes.ts';
import { WORLD_CLASS_NAMES } from '../train/world/classes.ts';
import { imageFromFile } from './image.ts';
import {
  loadPageModels, PAGE_BACKENDS, PageInputError, parseClassList, SEEN_NAMES, segmentImage, type PageModels, type Segmentation,
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
const sourceLine = $('source'), deviceOut = $('device'), timeOut = $('time');

let models: PageModels | null = null;
let current: { pixels: Float32Array; seed: number | null; what: string } | null = null;
/** The next scene's seed: `?seed=N` in the page's address (a scene to share or reproduce), else random. */
const seedParam = Number(new URLSearchParams(location.search).get('seed') ?? NaN);
let nextSeed = Number.isInteger(seedParam) && seedParam >= 0 ? seedParam : Math.floor(Math.random() * 1_000_000);
let busy = false;
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

/** The class list as typed, with the legend showing seen / unseen marks before any result. */
function classesOrThrow(): string[] {
  return parseClassList(classBox.value);
}

function previewLegend(): void {
  try {
    renderLegend(legend, classesOrThrow().map((name) => ({ name, seen: SEEN_NAMES.has(name), share: null })));
  } catch {
    legend.replaceChildren();
  }
}

async function run(): Promise<void> {
  if (busy) return;
  if (!models || !current) return;
  busy = true;
  sceneBtn.disabled = runBtn.disabled = true;
  try {
    const classes = classesOrThrow();
    const offset = Number(offsetBox.value);
    if (!Number.isFinite(offset) || offset < 0 || offset > 1) throw new PageInputError(`The seen-class offset must be a number in [0, 1], got "${offsetBox.value}".`);
    const background = Number(backgroundBox.value);
    if (!Number.isFinite(background) || background < 0 || background >= 1) throw new PageInputError(`The background threshold must be a number in [0, 1), got "${backgroundBox.value}".`);
    const backend = backendSel.value;
    say(`Segmenting ${current.what} on ${backend}… (the first run on a backend compiles its kernels)`, 'busy');
    await new Promise((r) => setTimeout(r, 0)); // let the status paint
    const unavailable = backend === 'wasm' ? null : await sptUnavailable(backend.slice(4));
    if (unavailable !== null) throw new PageInputError(`${backend} cannot run in this browser: ${unavailable}. Choose another backend.`);
    const r = await segmentImage(models, backend, current.pixels, classes, offset, background);
    drawImage(canvas, current.pixels, models.size, r.labels);
    renderLegend(legend, r.classes.map((name, c) => ({ name, seen: r.seen[c], share: r.shares[c] })));
    backgroundOut.textContent = background > 0 ? `background (no class reaches ${background}): ${(100 * r.backgroundShare).toFixed(1)} %` : '';
    deviceOut.textContent = r.device;
    timeOut.textContent = `${r.ms.toFixed(0)} ms segmenter${r.textMs > 0 ? `, ${r.textMs.toFixed(0)} ms text tower (${classes.length} classes; cached for this list)` : ''}`;
    const result: PageResult = { ...r, labels: [...r.labels], seed: current.seed, backend };
    Object.assign(globalThis, { sptPageResult: result });
    say(`Done: ${current.what}, ${classes.length} classes.`, 'done');
  } catch (e) {
    say(errorText(e), 'error');
  } finally {
    busy = false;
    sceneBtn.disabled = runBtn.disabled = false;
    Object.assign(globalThis, { sptPageRuns: ++runs });
  }
}

function newScene(): void {
  if (!models) return;
  const seed = nextSeed++;
  const scene = drawWorldScene(sceneGenerator(seed, 0), { ...WORLD_DEFAULTS, size: models.size });
  current = { pixels: scene.image, seed, what: `scene ${seed}` };
  sourceLine.textContent = `Procedural scene ${seed}: ${scene.objects.map((o) => WORLD_CLASS_NAMES[o.cls]).join(', ')}`;
  drawImage(canvas, scene.image, models.size);
  void run();
}

async function useFile(file: File): Promise<void> {
  if (!models || busy) return;
  try {
    const pixels = await imageFromFile(file, models.size);
    current = { pixels, seed: null, what: file.name };
    sourceLine.textContent = `${file.name}, centre square resized to ${models.size}x${models.size}`;
    drawImage(canvas, pixels, models.size);
    await run();
  } catch (e) {
    say(errorText(e), 'error');
  }
}

async function fetchBytes(url: string, source: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new PageInputError(`Could not load ${source} (${url}): HTTP ${res.status}.`);
  return new Uint8Array(await res.arrayBuffer());
}

async function start(): Promise<void> {
  say('Loading the world CLIP and the SPT-SEG checkpoint…', 'loading');
  for (const b of PAGE_BACKENDS) backendSel.append(new Option(b.label, b.name));
  backendSel.value = 'gpu:webgl2';
  classBox.value = WORLD_CLASS_NAMES.join('\n');
  previewLegend();
  const res = await fetch('page-config.json');
  if (!res.ok) throw new Error(`page-config.json: HTTP ${res.status} (serve the page with \`npm run page\`)`);
  const config = (await res.json()) as PageConfig;
  const missing = [config.clip, config.weights].filter((f): f is { missing: string; hint: string } => 'missing' in f);
  if (missing.length > 0) {
    throw new PageInputError(missing.map((m) => `Missing ${m.missing}: ${m.hint}`).join(' '));
  }
  const c = config.clip as { url: string; source: string }, w = config.weights as { url: string; source: string };
  const [clipBytes, weightBytes] = await Promise.all([fetchBytes(c.url, c.source), fetchBytes(w.url, w.source)]);
  models = loadPageModels(clipBytes, weightBytes, c.source, w.source);
  canvas.width = canvas.height = 384;
  sceneBtn.addEventListener('click', newScene);
  runBtn.addEventListener('click', () => void run());
  backendSel.addEventListener('change', () => void run());
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
  say(`Ready: ${c.source} and ${w.source} loaded (input ${models.size}x${models.size}).`, 'ready');
  sceneBtn.disabled = runBtn.disabled = false;
}

start().catch((e: unknown) => say(errorText(e), 'error'));
