/**
 * SPT-SEG checkpoints across the PyTorch border (method.md §9, "Official parameter names"): what
 * `spt-seg export` and `spt-seg import` do, so that prompts and decoder trained here continue in the
 * official code (clearxu/SPT on ZegCLIP / mmsegmentation) and a PyTorch-trained model runs here.
 *
 *   await exportSptSeg('runs/voc/weights.safetensors', 'spt.pth', { format: 'pt', mmseg: true });
 *   await exportSptSeg('runs/voc/checkpoint.safetensors', 'spt.safetensors', { base: 'init.safetensors' });
 *   await importSptSeg('iter_20000.pth', 'spt.safetensors');
 *
 * Inputs (by content, not by name): a safetensors state dict under the official names; a spt-seg
 *   training checkpoint (train/checkpoint.ts: the trainable tensors as `model/<key>` plus optimizer
 *   state, recognised by its "spt-seg.checkpoint" metadata), whose frozen tensors come from `base`; a
 *   `torch.save`d state dict (read by engine/io/torchscript.ts's restricted unpickler: a pickle naming
 *   any global off its allow-list is refused). mmseg checkpoints `{"state_dict": ..., "meta": ...,
 *   "optimizer": ...}` are unwrapped (tensors outside "state_dict" are dropped and reported), and a
 *   DistributedDataParallel `module.` prefix is stripped.
 * Checked: every key and shape against the architecture inferred from the shapes (spt-weights.ts);
 *   each missing, unexpected or mis-shaped key is named with both shapes. Keys of modules the official
 *   forward never calls (proj_fre, self_attn, norm1, h_proj, text_encoder.*) are dropped and reported.
 * The model card (model-card.ts) travels with the weights: read from safetensors `__metadata__.spt_seg`,
 *   a torch.save state dict's `_metadata['']['spt_seg']` or an mmseg checkpoint's `meta.spt_seg` (older
 *   safetensors: `vision_heads` / `hilo_gate`; official mmseg checkpoints: class names from
 *   `meta.CLASSES`), completed from the official defaults where the input has none (each such field is
 *   reported in `gaps`, for the command to warn by name), with the caller's overrides on top.
 * Output: the model's state dict under the official names, float32 (complex_weight [Gh, Gw/2+1, D, 2]),
 *   with its card, as safetensors or as a torch.save zip (engine/io/torch-writer.ts; `mmseg` wraps it
 *   in {"meta", "state_dict"}, the card and class names in meta). Byte-stable: the same weights and
 *   card always give the same file.
 * Does not: convert CLIP-only checkpoints (that is `spt-seg convert`), or carry optimizer state across
 *   (the official code starts a fresh AdamW; `load_from=` loads weights only).
 */
import { noGrad, type Tensor } from '../engine/index.ts';
import { skipInit } from '../engine/nn/index.ts';
import { serializeSafetensors, type RawTensor } from '../engine/io/safetensors.ts';
import { serializeTorchArchive } from '../engine/io/torch-writer.ts';
import { tensorsFromRaw } from '../engine/io/tensors.ts';
import { readCheckpointBytes, type CheckpointContainer } from './checkpoint-read.ts';
import { CARD_KEY, completeCard, parseCard, type CardGap, type CardOverrides, type SptSegCard } from './model-card.ts';
import { nodeFiles } from './node-files.ts';
import { SptSeg, type SptSegConfig } from './segmenter.ts';
import {
  configWithOptions, hintsFromMetadata, inferSptSegConfig, isUnused, loadOptionsOf, sptSegFromStateDict, sptSegWithCard, SptWeightsError,
  type CardedSptSeg, type FileHints, type SptLoadOptions,
} from './spt-weights.ts';

/** The two file formats `exportSptSeg` writes: safetensors or a torch.save zip. */
export type SptFileFormat = 'safetensors' | 'pt';
/** What an input file turned out to be: a checkpoint container, or a spt-seg training checkpoint. */
export type SptContainer = CheckpointContainer | 'training-checkpoint';

/** The metadata key train/checkpoint.ts marks a training checkpoint with. */
const CHECKPOINT_KEY = 'spt-seg.checkpoint';
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** A state dict read from some container, before it is checked. */
export interface RawStateDict {
  tensors: Map<string, RawTensor>;
  container: SptContainer;
  /** Tensors that are not model weights (mmseg's optimizer state, a checkpoint's Adam moments). */
  dropped: string[];
  /** The prefix removed from every key ("state_dict.", "module.", "model/"), or "" for none. */
  unwrapped: string;
  /** What the file says of itself: its model card, or an older file's hints. */
  hints: FileHints;
}

/**
 * Parse the bytes of any supported container into an (unchecked) official-name state dict.
 *
 * @example
 * readSptStateDict(bytes, 'iter_20000.pth').unwrapped;   // 'state_dict.' for an mmseg checkpoint
 */
export function readSptStateDict(bytes: Uint8Array, source: string): RawStateDict {
  const { container, tensors, metadata, strings } = readCheckpointBytes(bytes, source);
  if (metadata[CHECKPOINT_KEY] !== undefined) return { ...strip(tensors, 'model/', 'training-checkpoint'), hints: { card: null } };
  const hints = container === 'safetensors' ? hintsFromMetadata(metadata, source) : torchHints(strings, source);
  return { ...unwrap(tensors, container), hints };
}

/** Where a torch file keeps the card (dotted names of engine/io/torchscript.ts), and how to say it. */
const TORCH_CARD_PLACES: [string, string][] = [
  [`meta.${CARD_KEY}`, `meta['${CARD_KEY}']`],
  [`_metadata..${CARD_KEY}`, `_metadata['']['${CARD_KEY}']`],
  [`state_dict._metadata..${CARD_KEY}`, `state_dict._metadata['']['${CARD_KEY}']`],
];

/** The card of a torch file (mmseg meta, or the state dict's `_metadata`), and mmseg's class names. */
function torchHints(strings: ReadonlyMap<string, string | string[]>, source: string): FileHints {
  const place = TORCH_CARD_PLACES.find(([key]) => typeof strings.get(key) === 'string');
  const card = place ? parseCard(strings.get(place[0]) as string, `${source}: ${place[1]}`) : null;
  const names = strings.get('meta.CLASSES');
  return { card, ...(Array.isArray(names) && { classNames: names }) };
}

/** mmseg's {"state_dict": ...} (flattened by the reader to "state_dict.<key>"), then DDP's "module.". */
function unwrap(tensors: Map<string, RawTensor>, container: SptContainer): Omit<RawStateDict, 'hints'> {
  const wrapped = [...tensors.keys()].some((k) => k.startsWith('state_dict.'));
  const out = wrapped ? strip(tensors, 'state_dict.', container) : { tensors, container, dropped: [], unwrapped: '' };
  if (out.tensors.size > 0 && [...out.tensors.keys()].every((k) => k.startsWith('module.'))) {
    const inner = strip(out.tensors, 'module.', container);
    return { ...inner, dropped: out.dropped, unwrapped: out.unwrapped + 'module.' };
  }
  return out;
}

/** Keep the keys under `prefix` (without it); the others are dropped. */
function strip(tensors: Map<string, RawTensor>, prefix: string, container: SptContainer): Omit<RawStateDict, 'hints'> {
  const kept = new Map<string, RawTensor>(), dropped: string[] = [];
  for (const [k, t] of tensors) {
    if (k.startsWith(prefix)) kept.set(k.slice(prefix.length), t);
    else dropped.push(k);
  }
  return { tensors: kept, container, dropped, unwrapped: prefix };
}

/** What checking a state dict against its inferred architecture finds. */
export interface StateDictProblems {
  missing: string[];
  unexpected: string[];
  mismatched: string[];
}

/**
 * Check every key and shape of an official-name state dict against the architecture its shapes
 * imply; returns the config and the known-unused keys, or throws an SptWeightsError that names each
 * missing, unexpected or mis-shaped key with both shapes.
 *
 * @example
 * const { config, ignoredKeys } = checkSptStateDict(shapes);   // throws naming each bad key
 */
export function checkSptStateDict(
  shapes: ReadonlyMap<string, readonly number[]>, opts: SptLoadOptions = {}, source = '<state dict>',
): { config: SptSegConfig; ignoredKeys: string[] } {
  const attention = shapes.has('decode_head.decoder_1.layers.0.hlfs.prompt') ? 'hilo' : 'cross';
  const ignoredKeys = [...shapes.keys()].filter((k) => isUnused(k, attention));
  const used = new Map([...shapes].filter(([k]) => !isUnused(k, attention)));
  const config = inferSptSegConfig(used, opts, source);
  const expected = new Map([...skipInit(() => new SptSeg(config)).stateDict()].map(([k, t]) => [k, t.shape]));
  const p: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
  for (const [k, want] of expected) {
    const got = used.get(k);
    if (!got) p.missing.push(`  missing key ${k}: expected shape ${fmt(want)}, not in the file`);
    else if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      p.mismatched.push(`  size mismatch for ${k}: expected shape ${fmt(want)} (from the inferred architecture), got ${fmt(got)}`);
    }
  }
  for (const [k, got] of used) {
    if (!expected.has(k)) p.unexpected.push(`  unexpected key ${k}: shape ${fmt(got)}, no such parameter in the inferred architecture`);
  }
  const all = [...p.missing, ...p.unexpected, ...p.mismatched];
  if (all.length > 0) throw new StateDictError(source, p, `${source}: ${all.length} problem(s) against the architecture inferred from the shapes:\n${all.join('\n')}`);
  return { config, ignoredKeys };
}

/**
 * A state dict that does not fit its inferred architecture; `problems` says how.
 *
 * @example
 * if (err instanceof StateDictError) console.error(err.message);
 */
export class StateDictError extends SptWeightsError {
  constructor(readonly source: string, readonly problems: StateDictProblems, message: string) {
    super(message);
    this.name = 'StateDictError';
  }
}

/**
 * Check (see `checkSptStateDict`) and build the model from an official-name state dict.
 *
 * @example
 * const { model } = sptSegFromOfficial(tensorsFromRaw(readSptStateDict(bytes, path).tensors, 'float32'));
 */
export function sptSegFromOfficial(dict: ReadonlyMap<string, Tensor>, opts: SptLoadOptions = {}, source = '<state dict>'): { model: SptSeg; ignoredKeys: string[] } {
  checkSptStateDict(new Map([...dict].map(([k, t]) => [k, t.shape])), opts, source);
  return sptSegFromStateDict(dict, opts, source);
}

/**
 * The model's whole state dict under the official names as float32 arrays, in the model's order.
 *
 * @example
 * officialStateDict(model).get('backbone.complex_weight')!.shape;   // [32, 17, 768, 2]
 */
export function officialStateDict(model: SptSeg): Map<string, RawTensor> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(noGrad(() => t.data())) }]));
}

/** Options of `serializeSptSeg`: the file format, for .pt the mmseg wrapper, and the card. */
export interface SerializeOptions {
  format?: SptFileFormat;
  /** (.pt only) wrap as an mmseg checkpoint {"meta": ..., "state_dict": ...}. */
  mmseg?: boolean;
  /** The model card to store (default: the model's config with the official defaults, `completeCard`). */
  card?: SptSegCard;
}

/**
 * The bytes of an official-name weights file for `model` with its card (deterministic): safetensors
 * `__metadata__.spt_seg`; a .pt's state dict `_metadata['']['spt_seg']`; an mmseg checkpoint's
 * `meta.spt_seg` (and `meta.CLASSES`, the class names, as mmseg's own checkpoints have).
 *
 * @example
 * await writeFile('spt.pth', serializeSptSeg(model, { format: 'pt', card }));
 */
export function serializeSptSeg(model: SptSeg, opts: SerializeOptions = {}): Uint8Array {
  const tensors = officialStateDict(model);
  const card = JSON.stringify(opts.card ?? completeCard(model.config, {}).card);
  if ((opts.format ?? 'safetensors') === 'safetensors') {
    if (opts.mmseg) throw new Error('the mmseg wrapping is a .pt layout: use it with format "pt"');
    return serializeSafetensors(tensors, { format: 'pt', [CARD_KEY]: card });
  }
  if (!opts.mmseg) return serializeTorchArchive(tensors, { metadata: { '': { [CARD_KEY]: card } } });
  const names = opts.card?.classes?.names;
  return serializeTorchArchive(tensors, { wrap: { meta: { exported_by: 'spt-seg', [CARD_KEY]: card, ...(names && { CLASSES: names }) } } });
}

/** What `exportSptSeg` / `importSptSeg` read, dropped and wrote. */
export interface InteropReport {
  container: SptContainer;
  /** The prefix stripped from the input's keys ("" for none). */
  unwrapped: string;
  /** Input tensors that are not weights (optimizer state...), not written. */
  dropped: string[];
  /** Weights of modules the official forward never calls, not written. */
  ignoredKeys: string[];
  /** Tensors taken from `base` (export of a training checkpoint), else 0. */
  fromBase: number;
  keys: number;
  parameters: number;
  config: SptSegConfig;
  /** The card written with the weights. */
  card: SptSegCard;
  /** Fields of the card the input did not say (filled with the official defaults, or left out). */
  gaps: CardGap[];
}

/** Options of both commands: a card to use instead of the input's, and settings that override it. */
export interface InteropOptions extends SptLoadOptions {
  /** The card to write (its config checked against the shapes), instead of the input's own or none. */
  card?: SptSegCard;
  overrides?: CardOverrides;
}

/**
 * The model card of a file: a card's JSON (`.json`), or any weights file `readSptStateDict` reads.
 *
 * @example
 * const card = await readCardFile('runs/voc/weights.safetensors');   // for the .pth the official code trained
 */
export async function readCardFile(path: string): Promise<SptSegCard> {
  const { readFile } = await nodeFiles();
  const bytes = await readFile(path);
  if (path.endsWith('.json')) return parseCard(new TextDecoder().decode(bytes), path);
  const { card } = readSptStateDict(bytes, path).hints;
  if (!card) throw new SptWeightsError(`${path} has no model card (written by spt-seg world, train, import or export)`);
  return card;
}

/**
 * Options of `exportSptSeg`: the output format, the overrides, and the base for a training checkpoint.
 */
export interface ExportOptions extends Omit<SerializeOptions, 'card'>, InteropOptions {
  /** The weights file that supplies the frozen tensors (and the card) of a training checkpoint. */
  base?: string;
}

/** Check every key and shape (`checkSptStateDict`), then build the model and its card (`sptSegWithCard`). */
function buildChecked(dict: Map<string, Tensor>, found: FileHints, opts: InteropOptions, source: string): CardedSptSeg {
  const { overrides, card, ...arch } = opts;
  const hints = card ? { ...found, card } : found;
  const checkOpts = hints.card ? loadOptionsOf(configWithOptions(hints.card.config, arch)) : arch;
  checkSptStateDict(new Map([...dict].map(([k, t]) => [k, t.shape])), checkOpts, source);
  return sptSegWithCard(dict, hints, arch, overrides, source);
}

/**
 * `spt-seg export`: any supported input -> official-name float32 safetensors or torch.save zip, with its card.
 *
 * @example
 * const report = await exportSptSeg('runs/voc/weights.safetensors', 'spt.pth', { format: 'pt', mmseg: true });
 */
export async function exportSptSeg(input: string, output: string, opts: ExportOptions = {}): Promise<InteropReport> {
  const { readFile, writeFileAtomic } = await nodeFiles();
  const src = readSptStateDict(await readFile(input), input);
  let dict = tensorsFromRaw(src.tensors, 'float32', input);
  let hints = src.hints, fromBase = 0;
  if (opts.base !== undefined) {
    const base = readSptStateDict(await readFile(opts.base), opts.base);
    if (base.container === 'training-checkpoint') throw new SptWeightsError(`--base ${opts.base}: a training checkpoint, not a weights file`);
    const frozen = [...tensorsFromRaw(base.tensors, 'float32', opts.base)].filter(([k]) => !dict.has(k));
    fromBase = frozen.length;
    dict = new Map([...frozen, ...dict]);
    hints = base.hints;
  }
  const { base: _base, format: _format, mmseg: _mmseg, ...interop } = opts;
  let built: CardedSptSeg;
  try {
    built = buildChecked(dict, hints, interop, input);
  } catch (err) {
    if (src.container === 'training-checkpoint' && opts.base === undefined) {
      throw new SptWeightsError(`${input} is a training checkpoint: it holds only the ${src.tensors.size} trainable tensors ` +
        '(model/*); pass --base <weights.safetensors> (SPT-SEG weights under the official names: the run\'s model.init, ' +
        `or a weights.safetensors of the same architecture) for the frozen ones. (${(err as Error).message.split('\n')[0]})`);
    }
    throw err;
  }
  await writeFileAtomic(output, serializeSptSeg(built.model, { format: opts.format, mmseg: opts.mmseg, card: built.card }));
  return report(src, built, fromBase);
}

/**
 * `spt-seg import`: a safetensors or torch.save (plain or mmseg) state dict -> spt-seg weights file
 * with its card.
 *
 * @example
 * const report = await importSptSeg('iter_20000.pth', 'spt.safetensors');   // report.gaps: what the file did not say
 */
export async function importSptSeg(input: string, output: string, opts: InteropOptions = {}): Promise<InteropReport> {
  const { readFile, writeFileAtomic } = await nodeFiles();
  const src = readSptStateDict(await readFile(input), input);
  if (src.container === 'training-checkpoint') {
    throw new SptWeightsError(`${input} is an spt-seg training checkpoint; use spt-seg export (with --base) to make a weights file`);
  }
  const built = buildChecked(tensorsFromRaw(src.tensors, 'float32', input), src.hints, opts, input);
  await writeFileAtomic(output, serializeSptSeg(built.model, { card: built.card }));
  return report(src, built, 0);
}

function report(src: RawStateDict, built: CardedSptSeg, fromBase: number): InteropReport {
  const sd = built.model.stateDict();
  return {
    container: src.container, unwrapped: src.unwrapped, dropped: src.dropped, ignoredKeys: built.ignoredKeys, fromBase,
    keys: sd.size, parameters: [...sd.values()].reduce((n, t) => n + t.size, 0), config: built.model.config, card: built.card, gaps: built.gaps,
  };
}
