/**
 * The model cards (model/model-card.ts) of the models this project trains, written with their weights:
 *
 *   worldCard(model, { offset })          `spt-seg world`: the shapes world's 12 classes and split, its
 *                                         (x/255 − 0.5) / 0.25 normalisation, one template, the offset
 *                                         tuned on validation scenes, background below 0.2 (the page's)
 *   datasetCard(model, dataset, opts)     `spt-seg train`: the dataset's classes and split, ImageNet's
 *                                         normalisation (the loader's), 0.1 (inductive) or 0, no background
 *
 *   await saveSafetensors(path, model.stateDict(), cardMetadata(worldCard(model, { offset: 0 })));
 *
 * Does not: train, evaluate or write files (cli/commands/world.ts, train.ts).
 */
import { IMAGENET_NORMALIZATION, inputSizeOf, OFFICIAL_INFERENCE, WORLD_NORMALIZATION, type SptSegCard } from '../model/model-card.ts';
import type { SptSeg } from '../model/segmenter.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from './world/classes.ts';
import { ZERO_SHOT_TEMPLATE } from './world/probe.ts';

/**
 * The web page's background threshold for the world (page/index.html "Background below"): the world
 * has no background class and training pushes every class down on background pixels, so pixels where
 * no class reaches 0.2 are shown as background.
 */
export const WORLD_BACKGROUND_BELOW = 0.2;

/**
 * The card of an SPT-SEG trained on the shapes world; `offset` is the seen-class offset the run tuned.
 *
 * @example
 * cardMetadata(worldCard(model, { offset: rows[0].offset }));   // { spt_seg: '{"format":"spt-seg/1",...}' }
 */
export function worldCard(model: SptSeg, o: { offset: number }): SptSegCard {
  const ids = WORLD_CLASS_NAMES.map((_, c) => c);
  const seen: readonly number[] = DEFAULT_SPLIT.seen, unseen: readonly number[] = DEFAULT_SPLIT.unseen;
  return {
    format: 'spt-seg/1',
    config: model.config,
    input: { size: inputSizeOf(model.config), normalization: { mean: [...WORLD_NORMALIZATION.mean], std: [...WORLD_NORMALIZATION.std] } },
    classes: { names: [...WORLD_CLASS_NAMES], seen: ids.filter((c) => seen.includes(c)), unseen: ids.filter((c) => unseen.includes(c)) },
    text: { templates: [ZERO_SHOT_TEMPLATE] },
    inference: { offset: o.offset, background: { rule: 'threshold', below: WORLD_BACKGROUND_BELOW } },
  };
}

/** What `datasetCard` needs of a dataset (train/data/dataset.ts SegDataset has it). */
export interface CardDataset {
  classNames: readonly string[];
  seenIds: readonly number[];
  unseenIds: readonly number[];
}

/**
 * The card of an SPT-SEG trained by `spt-seg train` on a dataset: ImageNet normalisation (the data
 * loader's), the offset of the setting (0.1 inductive, 0 transductive, method.md §4.5), no background.
 *
 * @example
 * datasetCard(model, dataset, { setting: 'inductive', templates: VOC_TEMPLATES });
 */
export function datasetCard(model: SptSeg, dataset: CardDataset, o: { setting: 'inductive' | 'transductive'; templates: readonly string[] }): SptSegCard {
  return {
    format: 'spt-seg/1',
    config: model.config,
    input: { size: inputSizeOf(model.config), normalization: { mean: [...IMAGENET_NORMALIZATION.mean], std: [...IMAGENET_NORMALIZATION.std] } },
    classes: { names: [...dataset.classNames], seen: [...dataset.seenIds], unseen: [...dataset.unseenIds] },
    text: { templates: [...o.templates] },
    inference: { offset: o.setting === 'transductive' ? 0 : OFFICIAL_INFERENCE.offset, background: { rule: 'none' } },
  };
}
