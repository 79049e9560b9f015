/**
 * The model card: what an SPT-SEG weights file says besides its tensors, so that it is used as it was
 * trained, whoever loads it (`spt-seg segment`, `eval`, `info`, the web page) and after any conversion
 * (`spt-seg export` / `import` carry it across the PyTorch border).
 *
 *   cardMetadata(card)                 { spt_seg: '<json>' }: the safetensors __metadata__ entry
 *   readCard(metadata, 'w.safetensors') the card of a file, or null; errors name the file and the field
 *   parseCard(json, source)            the same from the JSON text (a .pt's or an mmseg meta's entry)
 *   completeCard(config, known)        a card from what is known, and the gaps filled with defaults
 *   withOverrides(card, flags, source) command-line values over a card
 *   describeCard(card)                 lines for the command line
 *   backgroundLabels(probs, C, rule)   the label of each pixel under the card's background rule
 *
 * The schema, format 'spt-seg/1' (one JSON object):
 *   config     SptSegConfig (segmenter.ts), the whole architecture, including what the shapes do not
 *              show: vision heads, HiLo heads / alpha / window / gate, spectral blocks, cross heads.
 *   input      size [h, w]: the model's input (spectral grid × patch); normalization { mean, std } per
 *              RGB channel on the 0..255 pixel scale, x' = (x − mean) / std (mmseg's img_norm_cfg):
 *              ImageNet's for VOC (model/preprocess.ts), 127.5 / 63.75 = (x/255 − 0.5) / 0.25 for the
 *              shapes world (train/world/batch.ts imagesOf).
 *   classes?   names in train-id order; seen and unseen ids (disjoint, together 0..C−1).
 *   text?      templates the class names are embedded with (['a photo of a {}'] for VOC and the world).
 *   inference  offset: subtracted from the seen classes' probabilities before the argmax (0.1, the
 *              paper's inductive setting; the world's is tuned on validation scenes). background:
 *              { rule: 'none' } (every pixel gets a class, the official test) or { rule: 'threshold',
 *              below: p }: a pixel whose largest class probability, after the offset, is below p is
 *              background (label 255 in masks; the web page's "Background below" box, 0.2 for the world).
 * Where it is stored: safetensors `__metadata__.spt_seg`; a torch.save state dict's
 * `_metadata['']['spt_seg']` and an mmseg checkpoint's `meta.spt_seg` (spt-interop.ts). Files written
 * before the card carry `vision_heads` / `hilo_gate` metadata, which spt-weights.ts still reads.
 * Does not: read files (spt-weights.ts, spt-interop.ts) or check a config against tensor shapes
 * (spt-weights.ts `sptSegFromCard`).
 *
 * Glossary: C classes, P pixels.
 */
import { IMAGENET_MEAN, IMAGENET_STD } from './preprocess.ts';
import type { SptSegConfig } from './segmenter.ts';

/** The safetensors metadata key (and .pt / mmseg entry name) of the card. */
export const CARD_KEY = 'spt_seg';
/** The schema version this code writes and reads. */
export const CARD_FORMAT = 'spt-seg/1';

/** Per-channel (RGB) mean and std on the 0..255 pixel scale: x' = (x − mean) / std. */
export interface CardNormalization {
  mean: number[];
  std: number[];
}

/** How a pixel becomes background: never, or when its largest class probability is below `below`. */
export type BackgroundRule = { rule: 'none' } | { rule: 'threshold'; below: number };

/** Class names in train-id order and the split. */
export interface CardClasses {
  names: string[];
  seen: number[];
  unseen: number[];
}

/** Everything a weights file needs besides its tensors (see the header). */
export interface SptSegCard {
  format: typeof CARD_FORMAT;
  config: SptSegConfig;
  input: { size: [number, number]; normalization: CardNormalization };
  classes?: CardClasses;
  text?: { templates: string[] };
  inference: { offset: number; background: BackgroundRule };
}

/** mmseg's ImageNet normalisation, the one ZegCLIP / SPT-SEG use (model/preprocess.ts). */
export const IMAGENET_NORMALIZATION: Readonly<CardNormalization> = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
/** The shapes world's (x/255 − 0.5) / 0.25 on the 0..255 scale. */
export const WORLD_NORMALIZATION: Readonly<CardNormalization> = { mean: [127.5, 127.5, 127.5], std: [63.75, 63.75, 63.75] };
/** The official inference: the inductive offset 0.1, no background. */
export const OFFICIAL_INFERENCE: Readonly<SptSegCard['inference']> = { offset: 0.1, background: { rule: 'none' } };

/**
 * A card that does not parse, or a flag that contradicts it: the message names the file and the field.
 *
 * @example
 * try { readCard(metadata, path); } catch (e) { if (e instanceof ModelCardError) console.error(e.message); }
 */
export class ModelCardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCardError';
  }
}

/**
 * The safetensors metadata entry that carries `card`.
 *
 * @example
 * await saveSafetensors(path, model.stateDict(), cardMetadata(card));
 */
export function cardMetadata(card: SptSegCard): Record<string, string> {
  return { [CARD_KEY]: JSON.stringify(card) };
}

/**
 * The card of a file from its safetensors metadata, or null when it has none.
 *
 * @example
 * readCard(parseSafetensors(bytes, path).metadata, path)?.inference.offset;
 */
export function readCard(metadata: Readonly<Record<string, string>>, source: string): SptSegCard | null {
  const json = metadata[CARD_KEY];
  return json === undefined ? null : parseCard(json, `${source}: __metadata__.${CARD_KEY}`);
}

/**
 * Parse and check a card's JSON; `source` names the file and where in it. Only the known fields are
 * kept (a fresh object: nothing else in the JSON travels on).
 *
 * @example
 * parseCard(archive.strings.get('meta.spt_seg') as string, 'spt.pth: meta.spt_seg');
 */
export function parseCard(json: string, source: string): SptSegCard {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ModelCardError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return new CardReader(source).card(raw);
}

/**
 * One field of a card that a file did not say, and what was put there instead (null: left out; for
 * `classes`, what is known of them: the names of an official mmseg checkpoint's meta.CLASSES).
 */
export interface CardGap {
  field: 'config.encoder.vision.heads' | 'config.decoder.hilo.gate' | 'input.normalization' | 'classes' | 'inference.offset' | 'inference.background';
  assumed: string | null;
}

/** What is known of a card besides the config; the rest is filled from the official defaults. */
export interface KnownCardParts {
  normalization?: CardNormalization;
  classes?: CardClasses;
  templates?: string[];
  offset?: number;
  background?: BackgroundRule;
  /** Class names known without their split (mmseg's meta.CLASSES), reported with the gap. */
  classNames?: string[];
}

/**
 * A card for `config` from what is known, and each field filled by a default (or left out) instead.
 *
 * @example
 * const { card, gaps } = completeCard(model.config, {});   // gaps: normalization, classes, offset, background
 */
export function completeCard(config: SptSegConfig, known: KnownCardParts): { card: SptSegCard; gaps: CardGap[] } {
  const gaps: CardGap[] = [];
  const or = <T>(value: T | undefined, fallback: T, field: CardGap['field'], assumed: string): T => {
    if (value !== undefined) return value;
    gaps.push({ field, assumed });
    return fallback;
  };
  const normalization = or(known.normalization, { ...IMAGENET_NORMALIZATION }, 'input.normalization', 'ImageNet mean/std (the official SPT-SEG pipeline)');
  const offset = or(known.offset, OFFICIAL_INFERENCE.offset, 'inference.offset', `${OFFICIAL_INFERENCE.offset} (the paper's inductive setting)`);
  const background = or(known.background, OFFICIAL_INFERENCE.background, 'inference.background', 'none (every pixel gets a class)');
  if (!known.classes) gaps.push({ field: 'classes', assumed: known.classNames ? `the file names the classes ${known.classNames.join(', ')}` : null });
  const card: SptSegCard = {
    format: CARD_FORMAT, config, input: { size: inputSizeOf(config), normalization },
    ...(known.classes && { classes: known.classes }),
    ...(known.templates && { text: { templates: known.templates } }),
    inference: { offset, background },
  };
  return { card, gaps };
}

/** The input size a config builds (segmenter.ts `inputSize`): the spectral grid (or stored grid) × patch. */
export function inputSizeOf(config: SptSegConfig): [number, number] {
  const { spectralGrid, vision } = config.encoder;
  const g = spectralGrid ?? [vision.imageSize / vision.patchSize, vision.imageSize / vision.patchSize];
  return [g[0] * vision.patchSize, g[1] * vision.patchSize];
}

/** Values given on the command line (or in code) that replace a card's. */
export interface CardOverrides {
  normalization?: CardNormalization;
  /** Class names; with `seen` (names), the split. */
  classes?: string[];
  seen?: string[];
  templates?: string[];
  offset?: number;
  background?: BackgroundRule;
}

/**
 * `card` with `o` on top. Classes: `classes` + `seen` make a new split; `seen` alone re-splits the
 * card's (or `knownNames`') names; `classes` alone keeps the card's split when the names are the same.
 *
 * @example
 * withOverrides(card, { offset: 0, background: { rule: 'threshold', below: 0.3 } }, 'w.safetensors');
 */
export function withOverrides(card: SptSegCard, o: CardOverrides, source: string, knownNames?: string[]): SptSegCard {
  const out: SptSegCard = { ...card, input: { ...card.input }, inference: { ...card.inference } };
  if (o.normalization) out.input.normalization = o.normalization;
  if (o.templates) out.text = { templates: o.templates };
  if (o.offset !== undefined) out.inference.offset = o.offset;
  if (o.background) out.inference.background = o.background;
  if (o.classes || o.seen) {
    const names = o.classes ?? card.classes?.names ?? knownNames;
    if (!names) throw new ModelCardError(`${source}: the seen classes are given but the file names no classes: give the class names too`);
    const same = card.classes !== undefined && card.classes.names.join('\n') === names.join('\n');
    if (!o.seen && !same) throw new ModelCardError(`${source}: class names given without the seen ones: say which classes the model was trained on`);
    const seenNames = o.seen ?? card.classes!.seen.map((c) => card.classes!.names[c]);
    const missing = seenNames.find((n) => !names.includes(n));
    if (missing !== undefined) throw new ModelCardError(`${source}: seen class "${missing}" is not one of the classes (${names.join(', ')})`);
    const ids = names.map((_, c) => c);
    out.classes = { names: [...names], seen: ids.filter((c) => seenNames.includes(names[c])), unseen: ids.filter((c) => !seenNames.includes(names[c])) };
  }
  return new CardReader(source).card(JSON.parse(JSON.stringify(out))); // the same checks as a file's
}

/**
 * The card in a few lines: input, normalisation, classes, templates, offset, background.
 *
 * @example
 * describeCard(card);   // ['input     64x64, normalised (x − 127.5) / 63.75 (= (x/255 − 0.5) / 0.25)', ...]
 */
export function describeCard(card: SptSegCard): string[] {
  const { size, normalization } = card.input;
  const c = card.classes;
  return [
    `input       ${size[0]}x${size[1]}, normalised ${describeNormalization(normalization)}`,
    `classes     ${c ? `${c.names.length}: ${c.names.join(', ')} (unseen: ${c.unseen.map((i) => c.names[i]).join(', ') || 'none'})` : 'not recorded'}`,
    `templates   ${card.text ? card.text.templates.map((t) => JSON.stringify(t)).join(', ') : 'not recorded'}`,
    `inference   seen-class offset ${card.inference.offset}; background ${describeBackground(card.inference.background)}`,
  ];
}

/** "ImageNet mean/std", "(x − 127.5) / 63.75 (= (x/255 − 0.5) / 0.25)" or the values per channel. */
export function describeNormalization(n: CardNormalization): string {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (same(n.mean, IMAGENET_NORMALIZATION.mean) && same(n.std, IMAGENET_NORMALIZATION.std)) return 'with ImageNet mean/std';
  if (n.mean.every((m) => m === n.mean[0]) && n.std.every((s) => s === n.std[0])) {
    return `(x − ${n.mean[0]}) / ${n.std[0]} (= (x/255 − ${+(n.mean[0] / 255).toFixed(6)}) / ${+(n.std[0] / 255).toFixed(6)})`;
  }
  return `with mean [${n.mean.join(', ')}], std [${n.std.join(', ')}] (0..255 scale)`;
}

/** "none (every pixel gets a class)" or "where no class reaches 0.2". */
export function describeBackground(b: BackgroundRule): string {
  return b.rule === 'none' ? 'none (every pixel gets a class)' : `where no class reaches ${b.below} (label 255)`;
}

/**
 * The label of each pixel from probabilities [C, P] (sigmoid, seen-class offset already subtracted):
 * the argmax over classes (the first on ties, as `argmax`), or −1 where the rule makes it background.
 *
 * @example
 * backgroundLabels(probs, 3, { rule: 'threshold', below: 0.2 });   // Int32Array [P], −1 = background
 */
export function backgroundLabels(probs: ArrayLike<number>, C: number, rule: BackgroundRule): Int32Array {
  const P = probs.length / C;
  const threshold = rule.rule === 'none' ? -Infinity : rule.below;
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

// ---------------------------------------------------------------------------------------------
// Checking a card's JSON, field by field

type Json = Record<string, unknown>;
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 80) ?? String(v));

/** Reads the known fields of a card into a fresh object; each error names the source and the field. */
class CardReader {
  constructor(private readonly source: string) {}

  private fail(path: string, want: string, got: unknown): never {
    throw new ModelCardError(`${this.source}: field ${path} must be ${want}, got ${show(got)}`);
  }
  private obj(v: unknown, path: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Json;
  }
  private int(v: unknown, path: string, min = 1): number {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > 2 ** 24) this.fail(path, `an integer ≥ ${min}`, v);
    return v as number;
  }
  private num(v: unknown, path: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(path, `a number${min > -Infinity ? ` in [${min}, ${max}]` : ''}`, v);
    return v;
  }
  private oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (!allowed.includes(v as T)) this.fail(path, allowed.map((a) => `'${a}'`).join(' or '), v);
    return v as T;
  }
  private ints(v: unknown, path: string, min: number, length?: number): number[] {
    if (!Array.isArray(v) || (length !== undefined && v.length !== length)) this.fail(path, length ? `${length} integers` : 'a list of integers', v);
    return v.map((x, i) => this.int(x, `${path}[${i}]`, min));
  }
  private strings(v: unknown, path: string): string[] {
    if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.trim() !== '')) this.fail(path, 'a non-empty list of non-empty strings', v);
    return [...(v as string[])];
  }
  /** `read(v)` when the field is present, else nothing (the key is left out). */
  private opt<K extends string, T>(o: Json, key: K, read: (v: unknown) => T): { [P in K]?: T } {
    return (o[key] === undefined ? {} : { [key]: read(o[key]) }) as { [P in K]?: T };
  }

  card(v: unknown): SptSegCard {
    const c = this.obj(v, '(the card)');
    if (c.format !== CARD_FORMAT) this.fail('format', `'${CARD_FORMAT}' (the model card version this spt-seg reads)`, c.format);
    const config = this.config(c.config);
    const input = this.obj(c.input, 'input');
    const size = this.ints(input.size, 'input.size', 1, 2) as [number, number];
    const want = inputSizeOf(config);
    if (size[0] !== want[0] || size[1] !== want[1]) this.fail('input.size', `[${want.join(', ')}] (the input the config builds)`, size);
    const norm = this.obj(input.normalization, 'input.normalization');
    const channels = (x: unknown, path: string, min: number) => {
      if (!Array.isArray(x) || x.length !== 3) this.fail(path, '3 numbers (R, G, B) on the 0..255 scale', x);
      return x.map((n, i) => this.num(n, `${path}[${i}]`, min, 255));
    };
    const normalization = { mean: channels(norm.mean, 'input.normalization.mean', 0), std: channels(norm.std, 'input.normalization.std', 1e-6) };
    const inf = this.obj(c.inference, 'inference');
    const bg = this.obj(inf.background, 'inference.background');
    const rule = this.oneOf(bg.rule, 'inference.background.rule', ['none', 'threshold'] as const);
    const background: BackgroundRule = rule === 'none' ? { rule } : { rule, below: this.num(bg.below, 'inference.background.below', 0, 1) };
    const text = c.text === undefined ? undefined : this.obj(c.text, 'text');
    const templates = text && this.strings(text.templates, 'text.templates');
    templates?.forEach((t, i) => { if (!t.includes('{}')) this.fail(`text.templates[${i}]`, 'a template with {} for the class name', t); });
    return {
      format: CARD_FORMAT, config, input: { size, normalization },
      ...(c.classes !== undefined && { classes: this.classes(c.classes) }),
      ...(templates && { text: { templates } }),
      inference: { offset: this.num(inf.offset, 'inference.offset', -1, 1), background },
    };
  }

  private classes(v: unknown): CardClasses {
    const c = this.obj(v, 'classes');
    const names = this.strings(c.names, 'classes.names');
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) this.fail('classes.names', 'distinct names', dup);
    const seen = this.ints(c.seen, 'classes.seen', 0), unseen = this.ints(c.unseen, 'classes.unseen', 0);
    const all = [...seen, ...unseen].sort((a, b) => a - b);
    if (all.length !== names.length || all.some((id, i) => id !== i)) {
      this.fail('classes.seen / classes.unseen', `disjoint ids that together are 0..${names.length - 1}`, { seen, unseen });
    }
    return { names, seen, unseen };
  }

  private config(v: unknown): SptSegConfig {
    const c = this.obj(v, 'config');
    const e = this.obj(c.encoder, 'config.encoder'), d = this.obj(c.decoder, 'config.decoder');
    const vi = this.obj(e.vision, 'config.encoder.vision');
    const vk = (k: string, min = 1) => this.int(vi[k], `config.encoder.vision.${k}`, min);
    const vision = {
      imageSize: vk('imageSize'), patchSize: vk('patchSize'), width: vk('width'), layers: vk('layers'), heads: vk('heads'), outputDim: vk('outputDim'),
      ...this.opt(vi, 'stem', (x) => this.oneOf(x, 'config.encoder.vision.stem', ['patch', 'conv'] as const)),
      ...this.opt(vi, 'stemWidths', (x) => this.ints(x, 'config.encoder.vision.stemWidths', 1)),
    };
    if (vision.width % vision.heads !== 0) this.fail('config.encoder.vision.heads', `a divisor of the width ${vision.width}`, vision.heads);
    const grid = e.spectralGrid === null ? null : this.ints(e.spectralGrid, 'config.encoder.spectralGrid', 1, 2) as [number, number];
    const flag = <K extends string>(o: Json, k: K, path: string) => this.opt(o, k, (x) => (typeof x === 'boolean' ? x : this.fail(path, 'true or false', x)));
    const hilo = d.hilo === undefined ? undefined : this.obj(d.hilo, 'config.decoder.hilo');
    return {
      encoder: {
        vision, numTokens: this.int(e.numTokens, 'config.encoder.numTokens'), deepLayers: this.int(e.deepLayers, 'config.encoder.deepLayers', 0), spectralGrid: grid,
        ...this.opt(e, 'spectralBlocks', (x) => this.int(x, 'config.encoder.spectralBlocks', 0)),
        ...this.opt(e, 'promptDropout', (x) => this.num(x, 'config.encoder.promptDropout', 0, 1)),
        ...flag(e, 'clsQuirk', 'config.encoder.clsQuirk'), ...flag(e, 'p1FromResidual', 'config.encoder.p1FromResidual'),
      },
      decoder: {
        embedDim: this.int(d.embedDim, 'config.decoder.embedDim'), width: this.int(d.width, 'config.decoder.width'),
        layers: this.int(d.layers, 'config.decoder.layers'), ffn: this.int(d.ffn, 'config.decoder.ffn'),
        ...this.opt(d, 'attention', (x) => this.oneOf(x, 'config.decoder.attention', ['hilo', 'cross'] as const)),
        ...(hilo && {
          hilo: {
            ...this.opt(hilo, 'heads', (x) => this.int(x, 'config.decoder.hilo.heads')),
            ...this.opt(hilo, 'alpha', (x) => this.num(x, 'config.decoder.hilo.alpha', 0, 1)),
            ...this.opt(hilo, 'windowSize', (x) => this.int(x, 'config.decoder.hilo.windowSize')),
            ...this.opt(hilo, 'attnDrop', (x) => this.num(x, 'config.decoder.hilo.attnDrop', 0, 1)),
            ...this.opt(hilo, 'gate', (x) => this.oneOf(x, 'config.decoder.hilo.gate', ['clamp', 'soft'] as const)),
          },
        }),
        ...this.opt(d, 'crossHeads', (x) => this.int(x, 'config.decoder.crossHeads')),
        ...this.opt(d, 'dropout', (x) => this.num(x, 'config.decoder.dropout', 0, 1)),
      },
    };
  }
}
