/**
 * From a training config to the objects a run needs: the dataset, the model, the class text
 * embeddings. `spt-seg train` and `spt-seg eval` both start here, for a dataset on disk (VOC,
 * COCO-Stuff, a folder); the generated shapes world sets itself up in train/world/run.ts.
 *
 * Does: open the dataset (train/data/open.ts); build SPT-SEG either from an SPT-SEG checkpoint
 *   (`model.init`, official key names; its model card, else its shapes, fix the architecture, and the
 *   card is returned with the fields it lacked) or from a CLIP checkpoint
 *   (`model.clip`: the ViT's weights, fresh prompts, filter and decoder; the stored positional grid
 *   and the spectral filter are sized for `train.crop`); take the class text embeddings from the cache
 *   file `model.textEmbeddings` when it exists, else compute them with the CLIP text tower and the
 *   templates, and cache them (in the run folder when no file is named).
 * Does not: train (train/loop.ts + segmentation.ts) or print beyond the `log` callback.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Tensor } from '../engine/index.ts';
import {
  classTextEmbeddings, COCO_TEMPLATES, loadClip, loadTextEmbeddings, saveTextEmbeddings, VOC_TEMPLATES,
  type CLIP, type SptSeg, type SptSegConfig,
} from '../model/index.ts';
import type { CardGap, SptSegCard } from '../model/model-card.ts';
import { loadSptSegWithCard } from '../model/spt-weights.ts';
import { sptSegFromClip } from '../model/spt-init.ts';
import type { SegTrainConfig } from './config.ts';
import type { DatasetSpec, SegDataset } from './data/dataset.ts';
import { openDataset } from './data/open.ts';

export interface PreparedRun {
  dataset: SegDataset;
  model: SptSeg;
  /** Text embeddings of every class of the dataset [K, E], in train-id order. */
  text: Tensor;
  /** Where the text embeddings were read from or cached to. */
  textPath: string;
  /** The model card of `model.init` (null for a model built from a CLIP), and the fields its file lacked. */
  card: SptSegCard | null;
  gaps: CardGap[];
}

/** The SPT-SEG architecture for a CLIP vision tower at a crop size (method.md §1, §2.1 defaults). */
export function sptConfigForClip(clip: CLIP, cfg: SegTrainConfig): SptSegConfig {
  const v = clip.config.vision;
  const crop = cfg.train.crop;
  if (crop % v.patchSize !== 0) throw new Error(`train.crop (${crop}) must be a multiple of the CLIP patch size (${v.patchSize})`);
  const g = crop / v.patchSize;
  const E = clip.config.embedDim;
  return {
    encoder: { vision: { ...v, imageSize: crop }, numTokens: cfg.model.numTokens, deepLayers: v.layers - 1, spectralGrid: [g, g] },
    decoder: { embedDim: E, width: E, layers: cfg.model.decoderLayers, ffn: 4 * E },
  };
}

export async function prepareRun(cfg: SegTrainConfig, spec: DatasetSpec | null, log: (line: string) => void = () => {}): Promise<PreparedRun> {
  if (!spec) throw new Error('no dataset: set "dataset" in the config (e.g. {"kind": "voc", "root": "data/VOCdevkit/VOC2012"}) or pass --data');
  const dataset = openDataset(spec);
  if (dataset.length === 0) throw new Error(`the dataset at ${JSON.stringify(spec)} has no samples`);
  const { clip: clipPath, init } = cfg.model;
  if (!clipPath && !init) throw new Error('no weights: set model.clip (a CLIP checkpoint to start from) or model.init (an SPT-SEG checkpoint)');
  let clip: CLIP | null = null;
  const needClip = !init || !cfg.model.textEmbeddings || !existsSync(cfg.model.textEmbeddings);
  if (needClip) {
    if (!clipPath) throw new Error(`model.textEmbeddings ${cfg.model.textEmbeddings ? `(${cfg.model.textEmbeddings}) does not exist` : 'is not set'}, and without model.clip the class names cannot be embedded`);
    log(`loading CLIP from ${clipPath}`);
    clip = await loadClip(clipPath);
  }
  let model: SptSeg, card: SptSegCard | null = null, gaps: CardGap[] = [];
  if (init) {
    log(`loading SPT-SEG from ${init}`);
    ({ model, card, gaps } = await loadSptSegWithCard(init));
  } else {
    model = sptSegFromClip(clip!, sptConfigForClip(clip!, cfg));
  }
  const textPath = cfg.model.textEmbeddings ?? join(cfg.out, 'text-embeddings.safetensors');
  let text: Tensor;
  if (existsSync(textPath)) {
    text = await loadTextEmbeddings(textPath, dataset.classNames);
  } else {
    const templates = cfg.model.templates === 'coco' ? COCO_TEMPLATES : VOC_TEMPLATES;
    log(`embedding ${dataset.classNames.length} class names with ${templates.length} template(s)`);
    text = classTextEmbeddings(clip!, dataset.classNames, templates);
    mkdirSync(dirname(textPath), { recursive: true });
    await saveTextEmbeddings(textPath, text, dataset.classNames);
  }
  const E = model.config.decoder.embedDim;
  if (text.shape[1] !== E) throw new Error(`${textPath}: text embeddings are ${text.shape[1]}-d, the model expects ${E}-d`);
  return { dataset, model, text, textPath, card, gaps };
}
