/**
 * CLIP checkpoints: interpret the keys of the layouts people have, build a `CLIP`, write our canonical file.
 *
 * Does:
 *  - detect the layout by its keys: OpenAI (`visual.conv1.weight`, ...) or Hugging Face `CLIPModel`
 *    (`vision_model.embeddings.patch_embedding.weight`, ...); HF keys are mapped to OpenAI's by
 *    hf-mapping.ts (method.md §5.4);
 *  - drop what is not a weight: `input_resolution`, `context_length`, `vocab_size`, `*.attn_mask`
 *    (OpenAI), `*.position_ids` (HF); convert F16/BF16/F64 to float32;
 *  - take the config from our `__metadata__` (`clip_config` JSON) or infer it from shapes
 *    (`inferClipConfig` in clip.ts; head counts from `vision_heads`/`text_heads` metadata or from the
 *    archive's `num_heads` attributes when present);
 *  - load with strict checks: every wrong shape is named with expected vs actual, missing and
 *    unexpected keys are listed, all in one error that starts with the file name;
 *  - write one canonical file: OpenAI keys, float32, config in `__metadata__` (`saveClip`,
 *    `convertCheckpoint`).
 * Elsewhere: telling a torch zip from safetensors and reading raw tensors (checkpoint-read.ts), the
 *   HF -> OpenAI key map (hf-mapping.ts), config inference (clip.ts), lazy node:fs (node-files.ts).
 * Does not: ResNet CLIPs, sharded HF checkpoints (`model-00001-of-0000N.safetensors`), or the legacy
 *   (pre-1.6, non-zip) torch format (refused by the archive reader). An HF `pytorch_model.bin` in
 *   torch's zip format takes the torch-zip + HF path (checked by hand; no committed fixture).
 * The functions on bytes are pure; the ones on paths load node:fs lazily, so `model/` still bundles
 * for a browser.
 */
import { asTensor, tensor } from '../engine/index.ts';
import { skipInit } from '../engine/nn/index.ts';
import { serializeSafetensors, toFloat32, type RawTensor } from '../engine/io/safetensors.ts';
import { readCheckpointBytes, type CheckpointContainer } from './checkpoint-read.ts';
import { CLIP, inferClipConfig, parseClipConfig, type CLIPConfig, type HeadHints } from './clip.ts';
import { hfToOpenAI } from './hf-mapping.ts';
import { nodeFiles } from './node-files.ts';

/** Which key naming a CLIP state dict uses: OpenAI's (`visual.conv1.weight`) or Hugging Face's (`vision_model.*`). */
export type CheckpointLayout = 'openai' | 'hf';

/** A checkpoint in memory, mapped to OpenAI's keys, every tensor float32. */
export interface ClipCheckpoint {
  tensors: Map<string, RawTensor>;
  config: CLIPConfig;
  container: CheckpointContainer;
  layout: CheckpointLayout;
  /** dtypes found in the file (before conversion to float32), e.g. ['F16', 'F32']. */
  sourceDtypes: string[];
  /** Keys that were dropped as non-weights. */
  dropped: string[];
}

const OPENAI_NON_WEIGHTS = /^(input_resolution|context_length|vocab_size)$|(^|\.)attn_mask$/;
const HF_NON_WEIGHTS = /(^|\.)position_ids$/;

/**
 * Which naming a state dict uses, from its keys.
 *
 * @example
 * detectLayout(['vision_model.embeddings.class_embedding'], 'model.safetensors');   // 'hf'
 */
export function detectLayout(keys: Iterable<string>, source: string): CheckpointLayout {
  const all = [...keys];
  if (all.includes('visual.conv1.weight') || all.some((k) => k.startsWith('visual.transformer.'))) return 'openai';
  if (all.some((k) => k.startsWith('vision_model.') || k.startsWith('text_model.'))) return 'hf';
  throw new Error(`${source}: not a CLIP checkpoint in OpenAI or Hugging Face layout (first keys: ${all.slice(0, 5).join(', ') || 'none'})`);
}

/**
 * Parse a checkpoint file held in memory into OpenAI keys and float32 tensors, with its config.
 *
 * @example
 * const ckpt = readClipCheckpoint(await readFile('ViT-B-16.pt'), 'ViT-B-16.pt');
 * ckpt.layout;   // 'openai'
 */
export function readClipCheckpoint(bytes: Uint8Array, source = '<buffer>'): ClipCheckpoint {
  const { container, tensors: raw, metadata, scalars } = readCheckpointBytes(bytes, source);
  const hints: HeadHints = {
    visionHeads: scalars.get('visual.transformer.resblocks.0.attn.num_heads'),
    textHeads: scalars.get('transformer.resblocks.0.attn.num_heads'),
  };
  if (metadata.vision_heads) hints.visionHeads = Number(metadata.vision_heads);
  if (metadata.text_heads) hints.textHeads = Number(metadata.text_heads);
  const layout = detectLayout(raw.keys(), source);
  const sourceDtypes = [...new Set([...raw.values()].map((t) => t.dtype))].sort();
  const dropped: string[] = [];
  const kept = new Map<string, RawTensor>();
  const skip = layout === 'openai' ? OPENAI_NON_WEIGHTS : HF_NON_WEIGHTS;
  for (const [key, t] of raw) {
    if (skip.test(key)) dropped.push(key);
    else kept.set(key, asFloat32(t, key, source));
  }
  const tensors = layout === 'hf' ? hfToOpenAI(kept, source) : kept;
  const shapes = new Map([...tensors].map(([k, t]) => [k, t.shape]));
  const config = metadata.clip_config ? parseClipConfig(metadata.clip_config, `${source}: __metadata__.clip_config`) : inferClipConfig(shapes, hints);
  return { tensors, config, container, layout, sourceDtypes, dropped };
}

function asFloat32(t: RawTensor, key: string, source: string): RawTensor {
  if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) {
    throw new Error(`${source}: ${key} holds ${t.dtype} values; a CLIP weight must be floating point`);
  }
  return t.dtype === 'F32' ? t : { dtype: 'F32', shape: t.shape, data: toFloat32(t, key) };
}

// ---------------------------------------------------------------------------------------------
// Building and saving

/**
 * A CLIP with the checkpoint's weights. Shape mismatches, missing and unexpected keys all throw.
 * Built under `skipInit`: no random initial weights are drawn, since the strict load replaces them all.
 * `share`: the weights become views of the checkpoint's arrays (`asTensor`, no copy) on backends
 * that hold host memory; only for arrays nobody else keeps or writes (a file just read, as `loadClip`).
 *
 * @example
 * const clip = clipFromCheckpoint(readClipCheckpoint(bytes, 'model.safetensors'), 'model.safetensors');
 */
export function clipFromCheckpoint(ckpt: ClipCheckpoint, source = '<checkpoint>', share = false): CLIP {
  const model = skipInit(() => new CLIP(ckpt.config));
  const make = share ? asTensor : tensor;
  const dict = new Map([...ckpt.tensors].map(([k, t]) => [k, make(t.data as Float32Array, t.shape)]));
  try {
    model.loadStateDict(dict);
  } catch (err) {
    throw new Error(`${source}: checkpoint does not fit CLIP ${describeConfig(ckpt.config)}\n${(err as Error).message}`);
  }
  return model.eval();
}

/**
 * Parse and build in one step, from bytes.
 *
 * @example
 * const clip = clipFromBytes(new Uint8Array(await (await fetch(url)).arrayBuffer()), url);
 */
export function clipFromBytes(bytes: Uint8Array, source = '<buffer>', share = false): CLIP {
  return clipFromCheckpoint(readClipCheckpoint(bytes, source), source, share);
}

/**
 * Our canonical file: OpenAI keys, float32, the config as JSON in `__metadata__.clip_config`.
 *
 * @example
 * const bytes = serializeClip(clip);   // clipFromBytes(bytes) gives the same model back
 */
export function serializeClip(model: CLIP): Uint8Array {
  const tensors = new Map<string, RawTensor>();
  for (const [key, t] of model.stateDict()) {
    tensors.set(key, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data()) });
  }
  return serializeSafetensors(tensors, { format: 'pt', producer: 'spt-seg', clip_config: JSON.stringify(model.config) });
}

/**
 * One line: "ViT/16 (width 768, 12 layers, 12 heads, image 224), text (...), embed 512".
 *
 * @example
 * describeConfig(CLIP_VIT_B_16);   // 'ViT/16 (width 768, 12 layers, 12 heads, image 224), ...'
 */
export function describeConfig(c: CLIPConfig): string {
  const v = c.vision, t = c.text;
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  return `ViT/${v.patchSize} (width ${v.width}, ${n(v.layers, 'layer')}, ${n(v.heads, 'head')}, image ${v.imageSize}), ` +
    `text (width ${t.width}, ${n(t.layers, 'layer')}, ${n(t.heads, 'head')}, context ${t.contextLength}, ` +
    `vocab ${t.vocabSize}), embed ${c.embedDim}`;
}

// ---------------------------------------------------------------------------------------------
// Files (Node)

/**
 * Load any supported CLIP checkpoint file (format detected from its content), in eval mode.
 *
 * @example
 * const clip = await loadClip('ViT-B-16.pt');   // OpenAI .pt, OpenAI or HF safetensors
 */
export async function loadClip(path: string): Promise<CLIP> {
  const { readFile } = await nodeFiles();
  return clipFromBytes(await readFile(path), path, true); // the bytes are ours alone: share them
}

/**
 * Write `model` as our canonical safetensors file (atomically).
 *
 * @example
 * await saveClip(await loadClip('ViT-B-16.pt'), 'clip-b16.safetensors');
 */
export async function saveClip(model: CLIP, path: string): Promise<void> {
  const { writeFileAtomic } = await nodeFiles();
  await writeFileAtomic(path, serializeClip(model));
}

/** What `convertCheckpoint` read and wrote. */
export interface ConvertResult {
  config: CLIPConfig;
  container: CheckpointContainer;
  layout: CheckpointLayout;
  sourceDtypes: string[];
  dropped: string[];
  parameters: number;
}

/**
 * Convert an OpenAI `.pt`, an OpenAI-layout or a Hugging Face safetensors file into our canonical
 * float32 safetensors (OpenAI keys, config in `__metadata__`). The weights are loaded into a CLIP
 * first, so a file is only written when every key and shape checks out.
 *
 * @example
 * const { layout, parameters } = await convertCheckpoint('ViT-B-16.pt', 'clip-b16.safetensors');
 */
export async function convertCheckpoint(inPath: string, outPath: string): Promise<ConvertResult> {
  const { readFile } = await nodeFiles();
  const ckpt = readClipCheckpoint(await readFile(inPath), inPath);
  const model = clipFromCheckpoint(ckpt, inPath);
  await saveClip(model, outPath);
  const { config, container, layout, sourceDtypes, dropped } = ckpt;
  return { config, container, layout, sourceDtypes, dropped, parameters: model.numParameters() };
}
