/**
 * Loading SPT-SEG weights: a safetensors state dict under the OFFICIAL names (method.md §9:
 * `backbone.*`, `decode_head.q_proj.*`, `decode_head.decoder_1.layers.j.*`), architecture inferred
 * from the shapes.
 *
 *   const model = await loadSptSeg('spt_voc.safetensors');        // eval mode
 *   const { model, card, gaps } = await loadSptSegWithCard(path);  // and what the file says of itself
 *   const model = sptSegFromStateDict(tensors, { hiloHeads: 8 });  // in memory
 *   inferSptSegConfig(shapes)                                     // the config alone
 *
 * A file with a model card (model-card.ts, metadata `spt_seg`) is built from the card's config, after
 *   checking it against the shapes field by field; options given to the loaders override it. A file
 *   without one is built from its shapes, the legacy metadata `vision_heads` / `hilo_gate` and the
 *   options, and `loadSptSegWithCard` completes its card from the official defaults, listing each
 *   field it filled (`gaps`).
 *
 * Inferred: vision width D, patch P (conv1.weight [D, 3, P, P], or the conv stem's conv1.convs.i.*
 *   of model/vit.ts, stride 2 each), layers (resblocks count), heads =
 *   D / 64 (CLIP's rule; `visionHeads` overrides), stored positional grid (positional_embedding
 *   [1 + g², D]), E (proj [D, E]), T (prompt_embeddings [1, T, D]), deep prompt sets
 *   (deep_prompt_embeddings [Ld, T, D], absent = none), the spectral grid (complex_weight
 *   [gh, gw/2+1, D, 2]; gw = gh, the official square grid, unless `spectralGridW`), decoder width
 *   (q_proj.weight [Dd, 2E]), layers, FFN (linear1.weight [F, Dd]) and attention kind (hlfs.* = SPT,
 *   multihead_attn.* = the ZegCLIP baseline).
 * Options (not visible in shapes): HiLo heads (8), alpha (0.9), window (3), gate ('clamp'), spectral blocks (2),
 *   cross-attention heads (8), `clsQuirk`, `p1FromResidual`.
 * Strict: a missing, unexpected or mis-shaped key is an error naming the key (and both shapes). The
 *   modules the official forward never calls are skipped when present and reported in `ignoredKeys`:
 *   backbone.proj_fre.*, per decoder layer self_attn.*, norm1.*, hlfs.h_proj.* (and multihead_attn.*
 *   next to hlfs.*), and the text tower (text_encoder.*) a full segmentor checkpoint carries.
 * Does not: read mmseg .pth pickles (convert to safetensors first) or run the text encoder.
 */
import type { Tensor } from '../engine/index.ts';
import { skipInit } from '../engine/nn/index.ts';
import {
  completeCard, readCard, withOverrides, type CardGap, type CardOverrides, type SptSegCard,
} from './model-card.ts';
import { nodeFiles } from './node-files.ts';
import { SptSeg, type SptSegConfig } from './segmenter.ts';

/** Settings of an SPT-SEG model that its weights' shapes do not show (see the header for the defaults). */
export interface SptLoadOptions {
  visionHeads?: number;
  hiloHeads?: number;
  hiloAlpha?: number;
  hiloWindow?: number;
  /** HiLo's gate, 'clamp' (official, default) or 'soft' (model/hilo.ts); metadata key `hilo_gate`. */
  hiloGate?: 'clamp' | 'soft';
  spectralBlocks?: number;
  crossHeads?: number;
  spectralGridW?: number;
  clsQuirk?: boolean;
  p1FromResidual?: boolean;
}

const UNUSED = [
  /^backbone\.proj_fre\./, /^text_encoder\./,
  /^decode_head\.decoder_1\.layers\.\d+\.(self_attn|norm1|hlfs\.h_proj)\./,
];

/** Keys of modules the official forward never calls (given the attention kind in use). */
export function isUnused(key: string, attention: 'hilo' | 'cross'): boolean {
  if (UNUSED.some((re) => re.test(key))) return true;
  return attention === 'hilo' && /^decode_head\.decoder_1\.layers\.\d+\.multihead_attn\./.test(key);
}

/**
 * An SPT-SEG weights file that does not fit the model: the message names the file and each key (and shapes).
 *
 * @example
 * try { await loadSptSeg(path); } catch (e) { if (e instanceof SptWeightsError) console.error(e.message); }
 */
export class SptWeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SptWeightsError';
  }
}

/**
 * The architecture of a state dict from its shapes (see the header).
 *
 * @example
 * inferSptSegConfig(new Map([...dict].map(([k, t]) => [k, t.shape]))).encoder.numTokens;   // 10 for VOC
 */
export function inferSptSegConfig(shapes: ReadonlyMap<string, readonly number[]>, opts: SptLoadOptions = {}, source = '<state dict>'): SptSegConfig {
  const get = (key: string, rank: number): readonly number[] => {
    const s = shapes.get(key);
    if (!s) throw new SptWeightsError(`${source}: missing key ${key} (not an SPT-SEG state dict under the official names?)`);
    if (s.length !== rank) throw new SptWeightsError(`${source}: ${key} has shape [${s.join(', ')}], expected ${rank} dims`);
    return s;
  };
  const count = (re: RegExp) => new Set([...shapes.keys()].map((k) => re.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  // The stem: CLIP's patch conv (conv1.weight [D, 3, P, P]) or the ConvStem option of model/vit.ts
  // (conv1.convs.i.weight [C_i, C_i-1, 3, 3], stride 2 each: P = 2^convs), as the world CLIP has.
  const stemConvs = count(/^backbone\.conv1\.convs\.(\d+)\.weight$/);
  const stemOuts = Array.from({ length: stemConvs }, (_, i) => get(`backbone.conv1.convs.${i}.weight`, 4));
  const [D, C3, P] = stemConvs > 0 ? [stemOuts[stemConvs - 1][0], stemOuts[0][1], 2 ** stemConvs] : get('backbone.conv1.weight', 4);
  const stem = stemConvs > 0 ? { stem: 'conv' as const, stemWidths: stemOuts.slice(0, -1).map((s) => s[0]) } : {};
  if (C3 !== 3) throw new SptWeightsError(`${source}: the backbone's first conv (conv1) takes ${C3} channels, it must take 3 colour channels`);
  const posRows = get('backbone.positional_embedding', 2)[0];
  const g = Math.round(Math.sqrt(posRows - 1));
  if (g * g + 1 !== posRows) throw new SptWeightsError(`${source}: backbone.positional_embedding has ${posRows} rows, not 1 + g² for a square grid`);
  const layers = count(/^backbone\.transformer\.resblocks\.(\d+)\./);
  const E = get('backbone.proj', 2)[1];
  const T = get('backbone.prompt_embeddings', 3)[1];
  const deep = shapes.has('backbone.deep_prompt_embeddings') ? get('backbone.deep_prompt_embeddings', 3)[0] : 0;
  let spectralGrid: [number, number] | null = null;
  if (shapes.has('backbone.complex_weight')) {
    const [gh, wf] = get('backbone.complex_weight', 4);
    const gw = opts.spectralGridW ?? gh;
    if (Math.floor(gw / 2) + 1 !== wf) {
      throw new SptWeightsError(`${source}: backbone.complex_weight [${shapes.get('backbone.complex_weight')!.join(', ')}] has ${wf} frequency columns, which no ${gh}x${gw} grid gives (gw/2 + 1); pass spectralGridW`);
    }
    spectralGrid = [gh, gw];
  }
  const [Dd, twoE] = get('decode_head.q_proj.weight', 2);
  if (twoE !== 2 * E) throw new SptWeightsError(`${source}: decode_head.q_proj.weight [${Dd}, ${twoE}] should take 2·E = ${2 * E} inputs (E from backbone.proj)`);
  const decLayers = count(/^decode_head\.decoder_1\.layers\.(\d+)\./);
  const ffn = get('decode_head.decoder_1.layers.0.linear1.weight', 2)[0];
  const attention = shapes.has('decode_head.decoder_1.layers.0.hlfs.prompt') ? 'hilo' : 'cross';
  return {
    encoder: {
      vision: { imageSize: g * P, patchSize: P, width: D, layers, heads: opts.visionHeads ?? Math.max(1, Math.round(D / 64)), outputDim: E, ...stem },
      numTokens: T, deepLayers: deep, spectralGrid,
      ...(opts.spectralBlocks !== undefined && { spectralBlocks: opts.spectralBlocks }),
      ...(opts.clsQuirk !== undefined && { clsQuirk: opts.clsQuirk }),
      ...(opts.p1FromResidual !== undefined && { p1FromResidual: opts.p1FromResidual }),
    },
    decoder: {
      embedDim: E, width: Dd, layers: decLayers, ffn, attention,
      hilo: { heads: opts.hiloHeads ?? 8, alpha: opts.hiloAlpha ?? 0.9, windowSize: opts.hiloWindow ?? 3, gate: opts.hiloGate ?? 'clamp' },
      crossHeads: opts.crossHeads ?? 8,
    },
  };
}

/**
 * Build an SPT-SEG (eval mode) from a state dict under the official names.
 *
 * @example
 * const { model, ignoredKeys } = sptSegFromStateDict((await loadSafetensors(path)).tensors);
 */
export function sptSegFromStateDict(dict: ReadonlyMap<string, Tensor>, opts: SptLoadOptions = {}, source = '<state dict>'): { model: SptSeg; ignoredKeys: string[] } {
  const shapes = new Map([...dict].map(([k, t]) => [k, t.shape] as [string, readonly number[]]));
  const attention = shapes.has('decode_head.decoder_1.layers.0.hlfs.prompt') ? 'hilo' : 'cross';
  const ignoredKeys = [...dict.keys()].filter((k) => isUnused(k, attention));
  const used = new Map([...dict].filter(([k]) => !isUnused(k, attention)));
  const config = inferSptSegConfig(new Map([...used].map(([k, t]) => [k, t.shape])), opts, source);
  return { model: buildLoaded(config, used, source), ignoredKeys };
}

/** A model of `config` (no random init) holding the tensors of `used`, in eval mode; errors name `source`. */
function buildLoaded(config: SptSegConfig, used: Map<string, Tensor>, source: string): SptSeg {
  const model = skipInit(() => new SptSeg(config));
  try {
    model.loadStateDict(used);
  } catch (err) {
    throw new SptWeightsError(`${source}: ${(err as Error).message}`);
  }
  return model.eval();
}

/**
 * The options that rebuild `config`'s settings the shapes do not show (the inverse of inferSptSegConfig's).
 *
 * @example
 * inferSptSegConfig(shapes, loadOptionsOf(card.config));   // the card's heads, gate... on the file's shapes
 */
export function loadOptionsOf(config: SptSegConfig): SptLoadOptions {
  const e = config.encoder, h = config.decoder.hilo ?? {};
  const opts: SptLoadOptions = {
    visionHeads: e.vision.heads, hiloHeads: h.heads, hiloAlpha: h.alpha, hiloWindow: h.windowSize, hiloGate: h.gate,
    spectralBlocks: e.spectralBlocks, crossHeads: config.decoder.crossHeads, spectralGridW: e.spectralGrid?.[1],
    clsQuirk: e.clsQuirk, p1FromResidual: e.p1FromResidual,
  };
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as SptLoadOptions;
}

/**
 * `config` with the settings `opts` gives replaced (flags over a card).
 *
 * @example
 * configWithOptions(card.config, { visionHeads: 2 }).encoder.vision.heads;   // 2
 */
export function configWithOptions(config: SptSegConfig, opts: SptLoadOptions): SptSegConfig {
  const e = config.encoder, d = config.decoder;
  const def = <T>(v: T | undefined) => v !== undefined;
  return {
    encoder: {
      ...e, vision: { ...e.vision, ...(def(opts.visionHeads) && { heads: opts.visionHeads }) },
      ...(def(opts.spectralBlocks) && { spectralBlocks: opts.spectralBlocks }),
      ...(def(opts.clsQuirk) && { clsQuirk: opts.clsQuirk }),
      ...(def(opts.p1FromResidual) && { p1FromResidual: opts.p1FromResidual }),
      ...(def(opts.spectralGridW) && e.spectralGrid && { spectralGrid: [e.spectralGrid[0], opts.spectralGridW!] as [number, number] }),
    },
    decoder: {
      ...d,
      ...([opts.hiloHeads, opts.hiloAlpha, opts.hiloWindow, opts.hiloGate].some(def) && {
        hilo: {
          ...d.hilo, ...(def(opts.hiloHeads) && { heads: opts.hiloHeads }), ...(def(opts.hiloAlpha) && { alpha: opts.hiloAlpha }),
          ...(def(opts.hiloWindow) && { windowSize: opts.hiloWindow }), ...(def(opts.hiloGate) && { gate: opts.hiloGate }),
        },
      }),
      ...(def(opts.crossHeads) && { crossHeads: opts.crossHeads }),
    },
  };
}

/** The config fields the shapes show, with their defaults: a card must agree with the file on each. */
const SHAPE_FIELDS: [string, (c: SptSegConfig) => unknown][] = [
  ['encoder.vision.imageSize', (c) => c.encoder.vision.imageSize], ['encoder.vision.patchSize', (c) => c.encoder.vision.patchSize],
  ['encoder.vision.width', (c) => c.encoder.vision.width], ['encoder.vision.layers', (c) => c.encoder.vision.layers],
  ['encoder.vision.outputDim', (c) => c.encoder.vision.outputDim], ['encoder.vision.stem', (c) => c.encoder.vision.stem ?? 'patch'],
  ['encoder.vision.stemWidths', (c) => c.encoder.vision.stemWidths ?? []], ['encoder.numTokens', (c) => c.encoder.numTokens],
  ['encoder.deepLayers', (c) => c.encoder.deepLayers], ['encoder.spectralGrid', (c) => c.encoder.spectralGrid],
  ['decoder.embedDim', (c) => c.decoder.embedDim], ['decoder.width', (c) => c.decoder.width], ['decoder.layers', (c) => c.decoder.layers],
  ['decoder.ffn', (c) => c.decoder.ffn], ['decoder.attention', (c) => c.decoder.attention ?? 'hilo'],
];

/**
 * Build an SPT-SEG (eval mode) with `config` (a card's) from a state dict under the official names,
 * after checking each field the shapes show against them: a disagreement names the file and the field.
 *
 * @example
 * const { model } = sptSegFromConfig(tensors, card.config, 'w.safetensors');
 */
export function sptSegFromConfig(dict: ReadonlyMap<string, Tensor>, config: SptSegConfig, source = '<state dict>'): { model: SptSeg; ignoredKeys: string[] } {
  const attention = config.decoder.attention ?? 'hilo';
  const ignoredKeys = [...dict.keys()].filter((k) => isUnused(k, attention));
  const used = new Map([...dict].filter(([k]) => !isUnused(k, attention)));
  const inferred = inferSptSegConfig(new Map([...used].map(([k, t]) => [k, t.shape])), loadOptionsOf(config), source);
  for (const [field, get] of SHAPE_FIELDS) {
    const [said, shown] = [JSON.stringify(get(config)), JSON.stringify(get(inferred))];
    if (said !== shown) throw new SptWeightsError(`${source}: the model card says config.${field} = ${said}, the weights' shapes say ${shown}`);
  }
  return { model: buildLoaded(config, used, source), ignoredKeys };
}

/** What a weights file says of itself besides its tensors: its card, or an older file's loose hints. */
export interface FileHints {
  card: SptSegCard | null;
  /** Legacy metadata `vision_heads`. */
  visionHeads?: number;
  /** Legacy metadata `hilo_gate`. */
  hiloGate?: 'clamp' | 'soft';
  /** Class names without their split (an official mmseg checkpoint's meta.CLASSES). */
  classNames?: string[];
}

/**
 * The hints of a safetensors file's metadata: its card (`spt_seg`), else `vision_heads` / `hilo_gate`.
 *
 * @example
 * hintsFromMetadata({ vision_heads: '2', hilo_gate: 'soft' }, 'old.safetensors');   // { card: null, visionHeads: 2, hiloGate: 'soft' }
 */
export function hintsFromMetadata(metadata: Readonly<Record<string, string>>, source: string): FileHints {
  const card = readCard(metadata, source);
  if (card) return { card };
  const hints: FileHints = { card: null };
  const heads = Number(metadata.vision_heads);
  if (metadata.vision_heads !== undefined) {
    if (!Number.isInteger(heads) || heads < 1) throw new SptWeightsError(`${source}: metadata vision_heads is '${metadata.vision_heads}', expected a positive integer`);
    hints.visionHeads = heads;
  }
  const gate = metadata.hilo_gate;
  if (gate !== undefined && gate !== 'clamp' && gate !== 'soft') throw new SptWeightsError(`${source}: metadata hilo_gate is '${gate}', expected 'clamp' or 'soft'`);
  if (gate !== undefined) hints.hiloGate = gate;
  return hints;
}

/** A model with its card, the fields of the card its file did not say (`gaps`), and the unused keys skipped. */
export interface CardedSptSeg {
  model: SptSeg;
  card: SptSegCard;
  gaps: CardGap[];
  ignoredKeys: string[];
}

/**
 * Build an SPT-SEG and its card from a state dict and what its file says (`hints`): the card's config,
 * else the shapes with the legacy hints; `opts` (architecture) and `overrides` (the rest) on top.
 *
 * @example
 * const { model, card } = sptSegWithCard(tensors, hintsFromMetadata(metadata, path), {}, {}, path);
 */
export function sptSegWithCard(
  dict: ReadonlyMap<string, Tensor>, hints: FileHints, opts: SptLoadOptions = {}, overrides: CardOverrides = {}, source = '<state dict>',
): CardedSptSeg {
  if (hints.card) {
    const { model, ignoredKeys } = sptSegFromConfig(dict, configWithOptions(hints.card.config, opts), source);
    const card = withOverrides({ ...hints.card, config: model.config }, overrides, source, hints.classNames);
    return { model, card, gaps: [], ignoredKeys };
  }
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as SptLoadOptions;
  const arch: SptLoadOptions = { visionHeads: hints.visionHeads, hiloGate: hints.hiloGate, ...given };
  const { model, ignoredKeys } = sptSegFromStateDict(dict, arch, source);
  const gaps: CardGap[] = [];
  const v = model.config.encoder.vision;
  if (arch.visionHeads === undefined) gaps.push({ field: 'config.encoder.vision.heads', assumed: `width / 64 = ${v.heads} (CLIP's rule)` });
  if (arch.hiloGate === undefined && model.config.decoder.attention === 'hilo') gaps.push({ field: 'config.decoder.hilo.gate', assumed: "'clamp' (the official gate)" });
  const { card, gaps: more } = completeCard(model.config, {
    normalization: overrides.normalization, templates: overrides.templates, offset: overrides.offset, background: overrides.background,
    classNames: hints.classNames,
  });
  const named = overrides.classes || overrides.seen ? withOverrides(card, { classes: overrides.classes, seen: overrides.seen }, source, hints.classNames) : card;
  return { model, card: named, gaps: [...gaps, ...more.filter((g) => g.field !== 'classes' || !named.classes)], ignoredKeys };
}

/**
 * Read a safetensors file of SPT-SEG weights (official names), build the model and its card.
 *
 * @example
 * const { model, card, gaps } = await loadSptSegWithCard('runs/world/weights.safetensors');
 * card.input.normalization;   // { mean: [127.5, 127.5, 127.5], std: [63.75, 63.75, 63.75] }
 */
export async function loadSptSegWithCard(path: string, opts: SptLoadOptions = {}, overrides: CardOverrides = {}): Promise<CardedSptSeg> {
  const { loadSafetensors } = await nodeFiles();
  const { tensors, metadata } = await loadSafetensors(path, 'float32');
  return sptSegWithCard(tensors, hintsFromMetadata(metadata, path), opts, overrides, path);
}

/**
 * Read a safetensors file of SPT-SEG weights (official names) and build the model (its card's config
 * when it has one; see `loadSptSegWithCard` for the card itself).
 *
 * @example
 * const model = await loadSptSeg('spt_voc.safetensors', { hiloHeads: 8 });
 */
export async function loadSptSeg(path: string, opts: SptLoadOptions = {}): Promise<SptSeg> {
  return (await loadSptSegWithCard(path, opts)).model;
}
