/**
 * CLIP checkpoints: read the three layouts people have, build a `CLIP`, write our canonical file.
 *
 * Does:
 *  - detect the container by its first bytes: a zip (`PK\x03\x04`) is a PyTorch archive (OpenAI's
 *    TorchScript `ViT-B-16.pt`, read by engine/io/torchscript.ts), anything else must be safetensors;
 *  - detect the layout by its keys: OpenAI (`visual.conv1.weight`, ...) or Hugging Face `CLIPModel`
 *    (`vision_model.embeddings.patch_embedding.weight`, ...), and map HF keys to OpenAI's with the
 *    table of method.md §5.4 (q/k/v concatenated into in_proj, the two projections transposed);
 *  - drop what is not a weight: `input_resolution`, `context_length`, `vocab_size`, `*.attn_mask`
 *    (OpenAI), `*.position_ids` (HF); convert F16/BF16/F64 to float32;
 *  - take the config from our `__metadata__` (`clip_config` JSON) or infer it from shapes
 *    (`inferClipConfig`; head counts from `vision_heads`/`text_heads` metadata or from the archive's
 *    `num_heads` attributes when present);
 *  - load with strict checks: every wrong shape is named with expected vs actual, missing and
 *    unexpected keys are listed, all in one error that starts with the file name;
 *  - write one canonical file: OpenAI keys, float32, config in `__metadata__` (`saveClip`,
 *    `convertCheckpoint`).
 * Does not: ResNet CLIPs, sharded HF checkpoints (`model-00001-of-0000N.safetensors`), or the legacy
 *   (pre-1.6, non-zip) torch format (refused by the archive reader). An HF `pytorch_model.bin` in
 *   torch's zip format takes the torch-zip + HF path (checked by hand; no committed fixture).
 * The functions on bytes are pure; the ones on paths load node:fs and engine/io/files.ts lazily
 * (`nodeFiles`), so `model/` still bundles for a browser.
 *
 * Glossary: D tower width, E embedding width (shapes of the projections).
 */
import { asTensor, tensor } from '../engine/index.ts';
import { skipInit } from '../engine/nn/index.ts';
import { parseSafetensors, serializeSafetensors, toFloat32, type RawTensor } from '../engine/io/safetensors.ts';
import { readTorchArchive } from '../engine/io/torchscript.ts';
import { CLIP, inferClipConfig, parseClipConfig, type CLIPConfig, type HeadHints } from './clip.ts';

export type CheckpointContainer = 'safetensors' | 'torch-zip';
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

/** 'torch-zip' for PyTorch zip archives, 'safetensors' otherwise (the parser then validates it). */
export function detectContainer(bytes: Uint8Array): CheckpointContainer {
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
  return zip ? 'torch-zip' : 'safetensors';
}

/** Which naming a state dict uses, from its keys. */
export function detectLayout(keys: Iterable<string>, source: string): CheckpointLayout {
  const all = [...keys];
  if (all.includes('visual.conv1.weight') || all.some((k) => k.startsWith('visual.transformer.'))) return 'openai';
  if (all.some((k) => k.startsWith('vision_model.') || k.startsWith('text_model.'))) return 'hf';
  throw new Error(`${source}: not a CLIP checkpoint in OpenAI or Hugging Face layout (first keys: ${all.slice(0, 5).join(', ') || 'none'})`);
}

/** Parse a checkpoint file held in memory into OpenAI keys and float32 tensors, with its config. */
export function readClipCheckpoint(bytes: Uint8Array, source = '<buffer>'): ClipCheckpoint {
  const container = detectContainer(bytes);
  let raw: Map<string, RawTensor>;
  let metadata: Record<string, string> = {};
  const hints: HeadHints = {};
  if (container === 'torch-zip') {
    const archive = readTorchArchive(bytes, source);
    raw = archive.tensors;
    hints.visionHeads = archive.scalars.get('visual.transformer.resblocks.0.attn.num_heads');
    hints.textHeads = archive.scalars.get('transformer.resblocks.0.attn.num_heads');
  } else {
    const parsed = parseSafetensors(bytes, source);
    raw = parsed.tensors;
    metadata = parsed.metadata;
    if (metadata.vision_heads) hints.visionHeads = Number(metadata.vision_heads);
    if (metadata.text_heads) hints.textHeads = Number(metadata.text_heads);
  }
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
// Hugging Face CLIPModel -> OpenAI (method.md §5.4)

const HF_TOP: Readonly<Record<string, string>> = {
  'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
  'vision_model.embeddings.class_embedding': 'visual.class_embedding',
  'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
  'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight', // sic: HF spells it "layrnorm"
  'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
  'vision_model.post_layernorm.weight': 'visual.ln_post.weight',
  'vision_model.post_layernorm.bias': 'visual.ln_post.bias',
  'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
  'text_model.embeddings.position_embedding.weight': 'positional_embedding',
  'text_model.final_layer_norm.weight': 'ln_final.weight',
  'text_model.final_layer_norm.bias': 'ln_final.bias',
  'logit_scale': 'logit_scale',
};
/** HF stores the projections as Linear weights [E, D]; OpenAI multiplies x @ proj with proj [D, E]. */
const HF_TRANSPOSED: Readonly<Record<string, string>> = {
  'visual_projection.weight': 'visual.proj',
  'text_projection.weight': 'text_projection',
};
/** Per-layer renames (the key after `encoder.layers.i.`). q/k/v are handled separately. */
const HF_LAYER: Readonly<Record<string, string>> = {
  'layer_norm1.weight': 'ln_1.weight', 'layer_norm1.bias': 'ln_1.bias',
  'layer_norm2.weight': 'ln_2.weight', 'layer_norm2.bias': 'ln_2.bias',
  'mlp.fc1.weight': 'mlp.c_fc.weight', 'mlp.fc1.bias': 'mlp.c_fc.bias',
  'mlp.fc2.weight': 'mlp.c_proj.weight', 'mlp.fc2.bias': 'mlp.c_proj.bias',
  'self_attn.out_proj.weight': 'attn.out_proj.weight', 'self_attn.out_proj.bias': 'attn.out_proj.bias',
};
const HF_LAYER_KEY = /^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$/;
const HF_QKV = /^self_attn\.([qkv])_proj\.(weight|bias)$/;

/** Rename a Hugging Face CLIPModel state dict (float32 tensors) to OpenAI's keys and layouts. */
export function hfToOpenAI(hf: Map<string, RawTensor>, source = '<hf>'): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  const unexpected: string[] = [];
  // in_proj target -> the q, k, v pieces found so far
  const qkv = new Map<string, Partial<Record<'q' | 'k' | 'v', [string, RawTensor]>>>();
  for (const [key, t] of hf) {
    if (key in HF_TOP) { out.set(HF_TOP[key], t); continue; }
    if (key in HF_TRANSPOSED) { out.set(HF_TRANSPOSED[key], transpose2d(t, key, source)); continue; }
    const m = HF_LAYER_KEY.exec(key);
    if (!m) { unexpected.push(key); continue; }
    const prefix = `${m[1] === 'vision_model' ? 'visual.' : ''}transformer.resblocks.${m[2]}.`;
    const part = HF_QKV.exec(m[3]);
    if (part) {
      const target = `${prefix}attn.in_proj_${part[2]}`;
      const pieces = qkv.get(target) ?? {};
      pieces[part[1] as 'q' | 'k' | 'v'] = [key, t];
      qkv.set(target, pieces);
    } else if (m[3] in HF_LAYER) {
      out.set(prefix + HF_LAYER[m[3]], t);
    } else {
      unexpected.push(key);
    }
  }
  if (unexpected.length > 0) throw new Error(`${source}: unexpected key(s) for a Hugging Face CLIPModel: ${unexpected.join(', ')}`);
  for (const [target, pieces] of qkv) out.set(target, concatQkv(target, pieces, source));
  return out;
}

/** q, k, v stacked along dim 0, the row order of nn.MultiheadAttention's in_proj. */
function concatQkv(target: string, pieces: Partial<Record<'q' | 'k' | 'v', [string, RawTensor]>>, source: string): RawTensor {
  const missing = (['q', 'k', 'v'] as const).filter((p) => !pieces[p]);
  if (missing.length > 0) {
    const have = Object.values(pieces).map((p) => p[0]).join(', ');
    throw new Error(`${source}: ${target} needs q, k and v projections; found only ${have} (missing ${missing.map((p) => `${p}_proj`).join(', ')})`);
  }
  const [q, k, v] = (['q', 'k', 'v'] as const).map((p) => pieces[p]!);
  for (const [key, t] of [k, v]) {
    if (t.shape.join() !== q[1].shape.join()) {
      throw new Error(`${source}: ${key} has shape [${t.shape}], expected [${q[1].shape}] like ${q[0]}`);
    }
  }
  const n = q[1].data.length;
  const data = new Float32Array(3 * n);
  [q, k, v].forEach(([, t], i) => data.set(t.data as Float32Array, i * n));
  return { dtype: 'F32', shape: [3 * q[1].shape[0], ...q[1].shape.slice(1)], data };
}

function transpose2d(t: RawTensor, key: string, source: string): RawTensor {
  if (t.shape.length !== 2) throw new Error(`${source}: ${key} has shape [${t.shape}], expected a matrix [E, D]`);
  const [r, c] = t.shape;
  const src = t.data as Float32Array;
  const data = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = src[i * c + j];
  return { dtype: 'F32', shape: [c, r], data };
}

// ---------------------------------------------------------------------------------------------
// Building and saving

/**
 * A CLIP with the checkpoint's weights. Shape mismatches, missing and unexpected keys all throw.
 * Built under `skipInit`: no random initial weights are drawn, since the strict load replaces them all.
 * `share`: the weights become views of the checkpoint's arrays (`asTensor`, no copy) on backends
 * that hold host memory; only for arrays nobody else keeps or writes (a file just read, as `loadClip`).
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

/** Parse and build in one step, from bytes. */
export function clipFromBytes(bytes: Uint8Array, source = '<buffer>', share = false): CLIP {
  return clipFromCheckpoint(readClipCheckpoint(bytes, source), source, share);
}

/** Our canonical file: OpenAI keys, float32, the config as JSON in `__metadata__.clip_config`. */
export function serializeClip(model: CLIP): Uint8Array {
  const tensors = new Map<string, RawTensor>();
  for (const [key, t] of model.stateDict()) {
    tensors.set(key, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data()) });
  }
  return serializeSafetensors(tensors, { format: 'pt', producer: 'spt-seg', clip_config: JSON.stringify(model.config) });
}

/** One line: "ViT/16 (width 768, 12 layers, 12 heads, image 224), text (...), embed 512". */
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
 * Node's file functions, loaded on first use. The specifiers are variables so that browser bundlers
 * leave these imports alone (a browser never calls the path-based functions below).
 */
async function nodeFiles() {
  const fsModule = 'node:fs/promises', ioModule = '../engine/io/files.ts';
  const [fs, io] = await Promise.all([
    import(fsModule) as Promise<typeof import('node:fs/promises')>,
    import(ioModule) as Promise<typeof import('../engine/io/files.ts')>,
  ]);
  return { readFile: fs.readFile, writeFileAtomic: io.writeFileAtomic };
}

/** Load any supported CLIP checkpoint file (format detected from its content). */
export async function loadClip(path: string): Promise<CLIP> {
  const { readFile } = await nodeFiles();
  return clipFromBytes(await readFile(path), path, true); // the bytes are ours alone: share them
}

/** Write `model` as our canonical safetensors file (atomically). */
export async function saveClip(model: CLIP, path: string): Promise<void> {
  const { writeFileAtomic } = await nodeFiles();
  await writeFileAtomic(path, serializeClip(model));
}

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
 */
export async function convertCheckpoint(inPath: string, outPath: string): Promise<ConvertResult> {
  const { readFile } = await nodeFiles();
  const ckpt = readClipCheckpoint(await readFile(inPath), inPath);
  const model = clipFromCheckpoint(ckpt, inPath);
  await saveClip(model, outPath);
  const { config, container, layout, sourceDtypes, dropped } = ckpt;
  return { config, container, layout, sourceDtypes, dropped, parameters: model.numParameters() };
}
