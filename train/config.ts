/**
 * The configuration of a segmentation training run (`spt-seg train --config run.json`): one typed
 * object with a comment per field, its defaults (ZegCLIP's VOC recipe, method.md §4.1-4.2), a JSON
 * reader that checks every field, and `key=value` overrides from the command line.
 *
 * Does: parse and validate (unknown keys, wrong types and out-of-range values are errors naming the
 *   file and the key path, e.g. `run.json: train.lr must be a positive number, got "fast"`); merge
 *   overrides such as `train.steps=200` or `loss.ignoreMode=mask` (values are parsed as JSON when they
 *   parse, else taken as strings).
 * Does not: open datasets or build models (train/segmentation.ts does, from this object).
 */
import type { DatasetSpec } from './data/dataset.ts';

export interface SegTrainConfig {
  /** The training data (data/dataset.ts): `{ "kind": "voc", "root": "data/VOCdevkit/VOC2012", ... }`. */
  dataset: DatasetSpec | null;
  /** Held-out data for `spt-seg eval` (same form); null: the dataset's validation split. */
  valDataset: DatasetSpec | null;
  model: {
    /** A CLIP checkpoint (OpenAI .pt / safetensors / HF) the image encoder starts from. */
    clip: string | null;
    /** An SPT-SEG checkpoint (official names) to start from instead; its shapes fix the architecture. */
    init: string | null;
    /** Prompt tokens per layer (10 for VOC, 100 for COCO-Stuff; method.md §1.1). */
    numTokens: number;
    /** Decoder layers (3) and width (the CLIP embedding width when null). */
    decoderLayers: number;
    /** Train the spectral filter complex_weight (method.md §1.3: recommended true). */
    trainSpectral: boolean;
    /** Text embeddings file (cached); computed from `clip` with the templates when missing. */
    textEmbeddings: string | null;
    /** 'voc' (one template) or 'coco' (15-template ensemble), method.md §6.3. */
    templates: 'voc' | 'coco';
  };
  train: {
    /** 'inductive' (unseen pixels ignored) or 'transductive' (pseudo-labels, method.md §4.4). */
    setting: 'inductive' | 'transductive';
    steps: number;
    /** Images per optimizer step, across accumulation (16 in the paper: 4 GPUs × 4). */
    batchSize: number;
    /** Micro-batches per step: batchSize / accumulate images are in memory at once. */
    accumulate: number;
    /** Crop side (512 for ViT-B/16 at its spectral grid of 32 × 32). */
    crop: number;
    /** Base learning rate; backbone and decode_head parameters get ×lrMult (mmcv custom_keys). */
    lr: number;
    lrMult: number;
    weightDecay: number;
    warmupIters: number;
    /** Poly power and final learning rate. */
    power: number;
    minLr: number;
    /** Clip the gradient norm (null: no clipping, as the official recipe). */
    clipNorm: number | null;
    checkpointEvery: number;
    seed: number;
    /** Loader worker threads (0: decode in the main thread, still ahead of the model). */
    workers: number;
    /** What a corrupt or missing sample does. */
    onBadSample: 'skip' | 'fail';
  };
  loss: {
    focal: number;
    ssim: number;
    dice: number;
    /** 'reference' (ignored pixels are negatives, as the official code) or 'mask' (left out). */
    ignoreMode: 'reference' | 'mask';
  };
  /** Where checkpoints, logs and pictures go. */
  out: string;
}

export const TRAIN_DEFAULTS: SegTrainConfig = {
  dataset: null,
  valDataset: null,
  model: {
    clip: null, init: null, numTokens: 10, decoderLayers: 3, trainSpectral: true, textEmbeddings: null, templates: 'voc',
  },
  train: {
    setting: 'inductive', steps: 20000, batchSize: 16, accumulate: 1, crop: 512, lr: 2e-5, lrMult: 10,
    weightDecay: 0.01, warmupIters: 1500, power: 0.9, minLr: 1e-6, clipNorm: null, checkpointEvery: 1000,
    seed: 0, workers: 1, onBadSample: 'fail',
  },
  loss: { focal: 100, ssim: 1, dice: 0, ignoreMode: 'reference' },
  out: 'runs/train',
};

/** Allowed values of the string fields that are enumerations. */
const CHOICES: Record<string, readonly string[]> = {
  'model.templates': ['voc', 'coco'],
  'train.setting': ['inductive', 'transductive'],
  'train.onBadSample': ['skip', 'fail'],
  'loss.ignoreMode': ['reference', 'mask'],
};
/** Fields that must be integers ≥ 1 (the rest of the numbers only need to be finite and ≥ 0). */
const POSITIVE_INTS = new Set(['train.steps', 'train.batchSize', 'train.accumulate', 'train.crop', 'model.numTokens', 'model.decoderLayers']);
/** Fields that take free-form objects (checked by the code that uses them). */
const OPAQUE = new Set(['dataset', 'valDataset']);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Merge `user` over `base`, checking each key against the defaults' shape. */
function merge(base: Json, user: Json, path: string, source: string): Json {
  if (OPAQUE.has(path)) {
    if (user !== null && (typeof user !== 'object' || Array.isArray(user))) throw new ConfigError(`${source}: ${path} must be an object or null`);
    return user;
  }
  if (base !== null && typeof base === 'object' && !Array.isArray(base)) {
    if (user === null || typeof user !== 'object' || Array.isArray(user)) throw new ConfigError(`${source}: ${path || 'the config'} must be an object`);
    const out: { [k: string]: Json } = { ...base };
    for (const [k, v] of Object.entries(user)) {
      const p = path ? `${path}.${k}` : k;
      if (!Object.hasOwn(base, k)) throw new ConfigError(`${source}: unknown key "${p}" (known: ${Object.keys(base).map((n) => (path ? `${path}.${n}` : n)).join(', ')})`);
      out[k] = merge(base[k], v, p, source);
    }
    return out;
  }
  return checkLeaf(base, user, path, source);
}

function checkLeaf(base: Json, v: Json, path: string, source: string): Json {
  const nullable = NULLABLE.has(path);
  if (v === null) {
    if (nullable) return null;
    throw new ConfigError(`${source}: ${path} may not be null`);
  }
  const expected = typeof base === 'object' && base === null ? NULLABLE_TYPES[path] : typeof base;
  if (typeof v !== expected) throw new ConfigError(`${source}: ${path} must be a ${expected}, got ${JSON.stringify(v)}`);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`${source}: ${path} must be a finite number ≥ 0, got ${v}`);
    if (POSITIVE_INTS.has(path) && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${source}: ${path} must be a positive integer, got ${v}`);
  }
  const choices = CHOICES[path];
  if (choices && !choices.includes(v as string)) throw new ConfigError(`${source}: ${path} must be one of ${choices.join(', ')}, got "${String(v)}"`);
  return v;
}

/** Fields whose default is null, and the type they take otherwise. */
const NULLABLE_TYPES: Record<string, string> = {
  'model.clip': 'string', 'model.init': 'string', 'model.textEmbeddings': 'string', 'train.clipNorm': 'number',
};
const NULLABLE = new Set(Object.keys(NULLABLE_TYPES));

/** Parse a JSON config (merged over the defaults); `source` names the file in errors. */
export function parseTrainConfig(text: string, source = '<config>', base: SegTrainConfig = TRAIN_DEFAULTS): SegTrainConfig {
  let user: Json;
  try {
    user = JSON.parse(text) as Json;
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return finish(merge(base as unknown as Json, user, '', source) as unknown as SegTrainConfig, source);
}

/** Apply `key.path=value` overrides (from `--set`), in order. */
export function applyOverrides(cfg: SegTrainConfig, overrides: readonly string[], source = '--set'): SegTrainConfig {
  let out = cfg;
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${source}: expected key=value, got "${o}"`);
    const keys = o.slice(0, eq).trim().split('.');
    const raw = o.slice(eq + 1);
    let value: Json;
    try {
      value = JSON.parse(raw) as Json;
    } catch {
      value = raw;
    }
    let user: Json = value;
    for (let i = keys.length - 1; i >= 0; i--) user = { [keys[i]]: user };
    out = finish(merge(out as unknown as Json, user, '', source) as unknown as SegTrainConfig, source);
  }
  return out;
}

/** Cross-field checks. */
function finish(cfg: SegTrainConfig, source: string): SegTrainConfig {
  if (cfg.train.batchSize % cfg.train.accumulate !== 0) {
    throw new ConfigError(`${source}: train.batchSize (${cfg.train.batchSize}) must be a multiple of train.accumulate (${cfg.train.accumulate})`);
  }
  if (cfg.train.minLr > cfg.train.lr * cfg.train.lrMult) {
    throw new ConfigError(`${source}: train.minLr (${cfg.train.minLr}) is above the learning rate (${cfg.train.lr} × ${cfg.train.lrMult})`);
  }
  return cfg;
}
