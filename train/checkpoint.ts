/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped, in one
 * safetensors file written atomically.
 *
 * Does: serialise a *state tree* — nested objects and arrays whose leaves are tensors, numbers,
 *   strings, booleans or null — into one `.safetensors` file. Tensors go into the file's tensor
 *   table under their path in the tree (`model/backbone.prompt_embeddings`, `optimizer/state/3/expAvg`),
 *   keeping their dtype, so a float32 Adam moment comes back bit for bit; the rest of the tree goes
 *   into the header's `__metadata__` as JSON, with each tensor replaced by `{"$tensor": path}` and
 *   each non-finite number by `{"$number": "NaN" | "Infinity" | "-Infinity"}` (JSON has neither).
 *   The model's own weights are the subtree `model`, under their state-dict names, so any
 *   safetensors reader sees the weights with the names it expects, prefixed by `model/`.
 * Does not: decide what goes in the tree (train/loop.ts does: model, optimizer, schedule, RNG
 *   streams, data position, step, config), or convert to the official PyTorch layout (export does).
 *
 * Writes go through `writeFileAtomic` (temp file, fsync, rename): a run killed in the middle of a
 * save leaves the previous checkpoint whole, and a failed write (a full disk) leaves it untouched.
 */
import { readSafetensorsFile, writeSafetensorsFile } from '../engine/io/files.ts';
import { tensorFromRaw, tensorToRaw } from '../engine/io/tensors.ts';
import type { RawTensor } from '../engine/io/safetensors.ts';
import { Tensor } from '../engine/index.ts';
import type { StateTree } from '../engine/optim/index.ts';

/** A value a checkpoint can hold: a state tree, as optimizers, schedules and generators return. */
export type State = StateTree;

/** The metadata key under which the JSON skeleton of the tree is stored. */
const TREE_KEY = 'spt-seg.checkpoint';
const FORMAT_VERSION = 1;

export class CheckpointError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

/** Split a state tree into its JSON skeleton and a flat table of tensors keyed by path. */
export function flattenState(state: State): { skeleton: Json; tensors: Map<string, Tensor> } {
  const tensors = new Map<string, Tensor>();
  const walk = (value: State, path: string): Json => {
    if (value instanceof Tensor) {
      tensors.set(path, value);
      return { $tensor: path };
    }
    if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, join(path, String(i))));
    if (typeof value === 'object' && !ArrayBuffer.isView(value)) {
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith('$')) throw new Error(`checkpoint state: key "${k}" at "${path}" may not start with "$"`);
        out[k] = walk(v as State, join(path, k));
      }
      return out;
    }
    throw new Error(`checkpoint state: cannot store a ${describe(value)} at "${path || '<root>'}" (use tensors, numbers, strings, arrays or objects)`);
  };
  return { skeleton: walk(state, ''), tensors };
}

/** Rebuild a state tree from its skeleton and tensor table (the inverse of `flattenState`). */
export function unflattenState(skeleton: Json, tensors: Map<string, Tensor>, file = '<checkpoint>'): State {
  const walk = (value: Json): State => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      if (typeof value.$tensor === 'string') {
        const t = tensors.get(value.$tensor);
        if (!t) throw new CheckpointError(file, `the tree refers to tensor "${value.$tensor}", which the file does not hold`);
        return t;
      }
      if (typeof value.$number === 'string') return Number(value.$number);
      const out: { [key: string]: State } = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v);
      return out;
    }
    return value;
  };
  return walk(skeleton);
}

/** Write a state tree to `path` atomically. */
export async function saveCheckpoint(path: string, state: State): Promise<void> {
  const { skeleton, tensors } = flattenState(state);
  const raws = new Map<string, RawTensor>([...tensors].map(([k, t]) => [k, tensorToRaw(t)]));
  await writeSafetensorsFile(path, raws, { [TREE_KEY]: JSON.stringify({ version: FORMAT_VERSION, tree: skeleton }) });
}

/** Read a state tree written by `saveCheckpoint`; tensors keep the dtype they were saved with. */
export async function loadCheckpoint(path: string): Promise<State> {
  const parsed = await readSafetensorsFile(path);
  const header = parsed.metadata[TREE_KEY];
  if (header === undefined) {
    throw new CheckpointError(path, `not an spt-seg training checkpoint (no "${TREE_KEY}" metadata); a plain weights file is loaded with the model's loader instead`);
  }
  let doc: { version?: number; tree?: Json };
  try {
    doc = JSON.parse(header) as { version?: number; tree?: Json };
  } catch (err) {
    throw new CheckpointError(path, `its "${TREE_KEY}" metadata is not valid JSON (${(err as Error).message})`);
  }
  if (doc.version !== FORMAT_VERSION || doc.tree === undefined) {
    throw new CheckpointError(path, `checkpoint format version ${String(doc.version)} is not supported (this build reads version ${FORMAT_VERSION})`);
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of parsed.tensors) {
    const dtype = raw.dtype === 'F64' ? 'float64' : raw.dtype === 'I32' || raw.dtype === 'I64' ? 'int32' : 'float32';
    tensors.set(name, tensorFromRaw(raw, name, dtype));
  }
  return unflattenState(doc.tree, tensors, path);
}

/** The subtree at `key` of an object node, or an error naming the file and the key. */
export function child(state: State, key: string, file = '<checkpoint>'): State {
  if (state === null || typeof state !== 'object' || state instanceof Tensor || Array.isArray(state)) {
    throw new CheckpointError(file, `expected an object holding "${key}"`);
  }
  const value = (state as { readonly [k: string]: State })[key];
  if (value === undefined) throw new CheckpointError(file, `missing entry "${key}"`);
  return value;
}

/** The tensors of an object node of tensors (a module's state dict, say) as a Map. */
export function tensorMap(state: State, file = '<checkpoint>'): Map<string, Tensor> {
  if (state === null || typeof state !== 'object' || state instanceof Tensor || Array.isArray(state)) {
    throw new CheckpointError(file, 'expected an object of tensors');
  }
  const out = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(state as { readonly [k: string]: State })) {
    if (!(v instanceof Tensor)) throw new CheckpointError(file, `entry "${k}" is not a tensor`);
    out.set(k, v);
  }
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}/${key}`;
}

function describe(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} (convert it to a tensor or an array of numbers)`;
  return typeof value;
}
