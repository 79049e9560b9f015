/**
 * The web page's model side, without the DOM: load the two checkpoints from bytes, embed the class
 * names, and segment one image on a chosen backend.
 *
 *   const models = loadPageModels(clipBytes, weightsBytes);
 *   const r = await segmentImage(models, 'gpu:webgl2', pixels, ['circle', 'star'], 0.1);
 *   r.labels   // [S·S] class index per pixel, −1 = background;  r.shares, r.device, r.ms
 *
 * The text tower and tokenizer run on the page's CPU backend (wasm where WebAssembly SIMD and
 * SharedArrayBuffer exist, else the reference cpu); the segmenter runs on the chosen one, with its
 * own copy of the weights, made the first time that backend is asked for. The embeddings are
 * `worldClassText` (one template, "a photo of a {}"), the images are normalised as the world's
 * training batches ((x - 0.5) / 0.25), and prediction is `SptSeg.predict` with the seen-class
 * offset: the same calls `spt-seg world` makes in Node. The world has no background class (its
 * background is never scored), so the page marks as background the pixels where no class reaches
 * the `background` probability (`backgroundLabels`): the training pushed every class down there.
 * Does not: touch the DOM, decode files (main.ts, image.ts) or draw (view.ts).
 *
 * Glossary: C classes, E embedding width, S image side (the model's input, 64 for the world).
 */
import { device, dispose, getBackend, setBackend, tensor, tidy, type Backend, type Tensor } from '../engine/index.ts';
import { parseSafetensors } from '../engine/io/safetensors.ts';
import { tensorsFromRaw } from '../engine/io/tensors.ts';
import type { CLIP } from '../model/clip.ts';
import type { SptSeg } from '../model/segmenter.ts';
import { sptSegFromStateDict } from '../model/spt-weights.ts';
import { clipFromBytes } from '../model/weights.ts';
import { wasmUnavailableReason } from '../kernels/wasm/index.ts';
import type { GpuBackend } from '../kernels/gpu/index.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../train/world/classes.ts';
import { worldClassText } from '../train/world/segment.ts';

/** The backends the page offers, by engine device name. */
export const PAGE_BACKENDS = [
  { name: 'gpu:webgl2', label: 'gpu.js WebGL2' },
  { name: 'gpu:webgpu', label: 'gpu.js WebGPU' },
  { name: 'wasm', label: 'wasm (WebAssembly SIMD)' },
] as const;

/** Names of the classes the world checkpoint was trained on (the rest are unseen). */
export const SEEN_NAMES: ReadonlySet<string> = new Set(DEFAULT_SPLIT.seen.map((c) => WORLD_CLASS_NAMES[c]));

/** At most this many classes (a colour each; also bounds the text tower's batch). */
export const MAX_CLASSES = 32;

/** A mistake the user can fix (empty class list, bad file...): shown on the page as is. */
export class PageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PageInputError';
  }
}

export interface PageModels {
  clip: CLIP;
  /** The SPT-SEG checkpoint's bytes: each backend parses them and builds its own model. */
  weights: Uint8Array;
  weightsSource: string;
  /** The model's input side (64 for the world). */
  size: number;
  /** Segmenters already built, by device name. */
  segmenters: Map<string, SptSeg>;
  /** Class embeddings already computed, by class list. */
  texts: Map<string, { data: Float32Array; shape: [number, number] }>;
}

/** The page's CPU backend (wasm, else cpu): runs the text tower. */
export function textDevice(): string {
  return wasmUnavailableReason() === null ? 'wasm' : 'cpu';
}

/** Run `fn` with device `name` active (weights and constants are made there), then restore. */
function onBackend<T>(name: string, fn: () => T): T {
  const previous = getBackend();
  setBackend(device(name));
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

/** Parse both checkpoints (errors name the file) and build the CLIP text side and one SPT-SEG. */
export function loadPageModels(clipBytes: Uint8Array, weightsBytes: Uint8Array, clipSource = 'clip.safetensors', weightsSource = 'sptseg.safetensors'): PageModels {
  const clip = onBackend(textDevice(), () => clipFromBytes(clipBytes, clipSource));
  const models: PageModels = { clip, weights: weightsBytes, weightsSource, size: 0, segmenters: new Map(), texts: new Map() };
  const model = segmenterOn(models, textDevice());
  const [h, w] = model.inputSize;
  if (h !== w) throw new Error(`${weightsSource}: the page expects a square model input, got ${h}x${w}`);
  const E = model.config.decoder.embedDim;
  if (clip.config.embedDim !== E) {
    throw new Error(`${clipSource} embeds text in ${clip.config.embedDim} dimensions but ${weightsSource} expects ${E}: they are not from the same world CLIP`);
  }
  models.size = h;
  return models;
}

/** The SPT-SEG on device `name`, built from the weights on first use. */
export function segmenterOn(models: PageModels, name: string): SptSeg {
  let model = models.segmenters.get(name);
  if (model === undefined) {
    model = onBackend(name, () => {
      const { tensors } = parseSafetensors(models.weights, models.weightsSource);
      // Heads are not visible in the shapes: the world CLIP's config (its file's metadata) says them.
      const opts = { visionHeads: models.clip.config.vision.heads };
      return sptSegFromStateDict(tensorsFromRaw(tensors, 'float32'), opts, models.weightsSource).model;
    });
    models.segmenters.set(name, model);
  }
  return model;
}

/** Split a class list (one per line or comma separated), trimmed; errors for empty or duplicate lists. */
export function parseClassList(text: string): string[] {
  const names = text.split(/[\n,]/).map((s) => s.trim().replace(/\s+/g, ' ')).filter((s) => s.length > 0);
  if (names.length === 0) throw new PageInputError('The class list is empty: type at least one class name (one per line).');
  if (names.length > MAX_CLASSES) throw new PageInputError(`Too many classes: ${names.length} (at most ${MAX_CLASSES}).`);
  const seen = new Set<string>();
  for (const n of names) {
    const key = n.toLowerCase();
    if (seen.has(key)) throw new PageInputError(`"${n}" is in the class list twice: each class once, please.`);
    seen.add(key);
  }
  return names;
}

/** The class embeddings [C, E] on the text device, cached per class list. */
export function classText(models: PageModels, names: readonly string[]): { data: Float32Array; shape: [number, number] } {
  const key = names.join('\n');
  let text = models.texts.get(key);
  if (text === undefined) {
    const t = onBackend(textDevice(), () => worldClassText(models.clip, names)); // [C, E]
    text = { data: Float32Array.from(t.data()), shape: [t.shape[0], t.shape[1]] };
    models.texts.set(key, text);
  }
  return text;
}

/** The engine's line for what really runs on `name` (gpu.js: the mode and renderer it got). */
export async function deviceLine(name: string): Promise<string> {
  const backend: Backend = device(name);
  if (backend.name === 'gpu') return (await (backend as GpuBackend).description).replace(/^\[spt-seg\] backend /, '');
  if (backend.name === 'wasm') return 'wasm: WebAssembly SIMD, 1 thread (the browser build runs matmul on the calling thread)';
  return 'cpu: reference kernels';
}

export interface Segmentation {
  /** [S·S] class index per pixel, row-major; −1 where no class reaches the background threshold. */
  labels: Int32Array;
  /** Fraction of pixels given to each class. */
  shares: number[];
  /** Fraction of pixels left as background. */
  backgroundShare: number;
  classes: string[];
  seen: boolean[];
  device: string;
  /** Wall time of the segmenter (text embeddings excluded, cached per class list). */
  ms: number;
  /** Text tower time for this call (0 when the class list was cached). */
  textMs: number;
}

/**
 * The labels [P] of probabilities [C, P] (sigmoid, seen-class offset already subtracted): the argmax
 * over classes (the first on ties, as `argmax`), or −1 where the largest is below `threshold`
 * (0 = every pixel gets a class).
 */
export function backgroundLabels(probs: ArrayLike<number>, C: number, threshold: number): Int32Array {
  const P = probs.length / C;
  const out = new Int32Array(P);
  for (let p = 0; p < P; p++) {
    let best = 0, bestV = probs[p];
    for (let c = 1; c < C; c++) {
      const v = probs[c * P + p];
      if (v > bestV) { bestV = v; best = c; }
    }
    out[p] = bestV < threshold ? -1 : best;
  }
  return out;
}

/**
 * Segment one image: `pixels` [3, S, S] in [0, 1] (planar RGB, S = models.size). Seen classes
 * (SEEN_NAMES) get `offset` subtracted before the argmax, as in `spt-seg world`; pixels where no
 * class reaches `background` are background (−1).
 */
export async function segmentImage(models: PageModels, deviceName: string, pixels: Float32Array, names: readonly string[], offset: number, background = 0): Promise<Segmentation> {
  const S = models.size;
  if (pixels.length !== 3 * S * S) throw new Error(`segmentImage: expected ${3 * S * S} values ([3, ${S}, ${S}]), got ${pixels.length}`);
  const t0 = performance.now();
  const cached = models.texts.has(names.join('\n'));
  const text = classText(models, names);
  const textMs = cached ? 0 : performance.now() - t0;
  const seen = names.map((n) => SEEN_NAMES.has(n));
  const model = segmenterOn(models, deviceName);
  const line = await deviceLine(deviceName);
  const t1 = performance.now();
  const normalised = Float32Array.from(pixels, (v) => (v - 0.5) / 0.25);
  const probsT: Tensor = tidy(() => {
    const images = tensor(normalised, [1, 3, S, S], { device: deviceName }); // [1, 3, S, S]
    const textT = tensor(text.data, text.shape, { device: deviceName }); // [C, E]
    return model.predict(images, textT, { seenMask: seen, offset }).probs; // [1, C, S, S]
  });
  const labels = backgroundLabels(await probsT.dataAsync(), names.length, background); // [S·S]
  dispose(probsT);
  const ms = performance.now() - t1;
  const counts = new Array<number>(names.length).fill(0);
  let none = 0;
  for (const l of labels) if (l < 0) none++; else counts[l]++;
  return {
    labels, shares: counts.map((c) => c / labels.length), backgroundShare: none / labels.length, classes: [...names], seen, device: line, ms, textMs,
  };
}
