/**
 * The web page's model side, without the DOM: load the two checkpoints from bytes, embed the class
 * names, and segment one image on a chosen backend.
 *
 *   const models = loadPageModels(clipBytes, weightsBytes);
 *   const r = await segmentOnPage(models, 'gpu:webgl2', rgb, ['circle', 'star'], 0.1, 0.2);
 *   r.labels   // [H·W] class index per pixel, −1 = background;  r.shares, r.device, r.ms
 *
 * The text tower and tokenizer run on the page's CPU backend (wasm where WebAssembly SIMD and
 * SharedArrayBuffer exist, else the reference cpu); the segmenter runs on the chosen one, with its
 * own copy of the weights, made the first time that backend is asked for. The embeddings are
 * `worldClassText` (one template, "a photo of a {}"). Segmenting is model/segment-image.ts
 * `segmentImage`, the function `spt-seg segment`, `eval` and the package API call: the same resize,
 * the card's normalisation (the world's: (x − 127.5) / 63.75), the card's seen classes with the
 * offset of the page's box, and the background rule of the page's "Background below" box (the
 * card's rule is its default: 0.2 for the world; 0 = none, every pixel gets a class). The same
 * 8-bit image therefore gives the same mask here as on the command line (test/browser/same-masks.test.ts).
 * Weights without a card: the world CLIP's heads; ImageNet's normalisation would be wrong, so the
 * world's is used, and the world's split.
 * Does not: touch the DOM, decode files (main.ts, image.ts) or draw (view.ts).
 *
 * Glossary: C classes, E embedding width, S the model's input side (64 for the world), H, W the image.
 */
import { device, getBackend, setBackend, tensor, type Backend } from '../engine/index.ts';
import { parseSafetensors } from '../engine/io/safetensors.ts';
import { tensorsFromRaw } from '../engine/io/tensors.ts';
import type { CLIP } from '../model/clip.ts';
import { withOverrides, WORLD_NORMALIZATION, type BackgroundRule, type CardGap, type SptSegCard } from '../model/model-card.ts';
import type { RgbImage } from '../model/preprocess.ts';
import { segmentImage } from '../model/segment-image.ts';
import type { SptSeg } from '../model/segmenter.ts';
import { hintsFromMetadata, sptSegWithCard } from '../model/spt-weights.ts';
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
  /**
   * The weights' model card; for weights without one, completed from the defaults (see `gaps`) and
   * with the world's normalisation instead of ImageNet's.
   */
  card: SptSegCard;
  /** The card fields the weights did not say. */
  gaps: CardGap[];
  /** The classes the model was trained on: the card's seen classes (else the world's). */
  seenNames: ReadonlySet<string>;
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
  const { tensors, metadata } = parseSafetensors(weightsBytes, weightsSource);
  const hints = hintsFromMetadata(metadata, weightsSource);
  const { model, card, gaps } = onBackend(textDevice(), () => sptSegWithCard(tensorsFromRaw(tensors, 'float32', weightsSource), withClipHeads(hints, clip), {}, {}, weightsSource));
  const known = card.classes;
  const seenNames = known ? new Set(known.seen.map((c) => known.names[c])) : SEEN_NAMES;
  const segmenters = new Map([[textDevice(), model]]);
  const normalization = gaps.some((g) => g.field === 'input.normalization') ? { mean: [...WORLD_NORMALIZATION.mean], std: [...WORLD_NORMALIZATION.std] } : card.input.normalization;
  const pageCard: SptSegCard = { ...card, input: { ...card.input, normalization } };
  const models: PageModels = { clip, weights: weightsBytes, weightsSource, size: 0, card: pageCard, gaps, seenNames, segmenters, texts: new Map() };
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
      const { tensors, metadata } = parseSafetensors(models.weights, models.weightsSource);
      const hints = withClipHeads(hintsFromMetadata(metadata, models.weightsSource), models.clip);
      return sptSegWithCard(tensorsFromRaw(tensors, 'float32', models.weightsSource), hints, {}, {}, models.weightsSource).model;
    });
    models.segmenters.set(name, model);
  }
  return model;
}

/**
 * The weights' hints, with the world CLIP's vision heads when they say neither a card nor `vision_heads`
 * (heads are not visible in the shapes; older world weights relied on the CLIP's config).
 */
function withClipHeads(hints: ReturnType<typeof hintsFromMetadata>, clip: CLIP): ReturnType<typeof hintsFromMetadata> {
  return hints.card || hints.visionHeads !== undefined ? hints : { ...hints, visionHeads: clip.config.vision.heads };
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
  /** [H·W] class index per pixel, row-major; −1 where the background rule says background. */
  labels: Int32Array;
  width: number;
  height: number;
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

/** The page's "Background below" value as a rule: 0 = none (every pixel gets a class), else a threshold. */
export function backgroundRule(below: number): BackgroundRule {
  return below > 0 ? { rule: 'threshold', below } : { rule: 'none' };
}

/**
 * Segment one 8-bit RGB image (any size) with `segmentImage` under the page's card, `offset` and
 * background threshold `background` (0 = none). Seen classes are `models.seenNames`.
 */
export async function segmentOnPage(models: PageModels, deviceName: string, rgb: RgbImage, names: readonly string[], offset: number, background = 0): Promise<Segmentation> {
  const t0 = performance.now();
  const cached = models.texts.has(names.join('\n'));
  const text = classText(models, names);
  const textMs = cached ? 0 : performance.now() - t0;
  const seen = names.map((n) => models.seenNames.has(n));
  const model = segmenterOn(models, deviceName);
  const line = await deviceLine(deviceName);
  const card = withOverrides(models.card, { offset, background: backgroundRule(background) }, models.weightsSource);
  const t1 = performance.now();
  const textT = tensor(text.data, text.shape, { device: textDevice() }); // [C, E]; segmentImage copies it to the segmenter's backend
  const r = await segmentImage(model, card, textT, rgb, { classes: names, seen });
  const ms = performance.now() - t1;
  return {
    labels: r.labels, width: r.width, height: r.height, shares: r.shares, backgroundShare: r.backgroundShare,
    classes: r.classes, seen: r.seen, device: line, ms, textMs,
  };
}
