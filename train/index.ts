/**
 * The public training API: losses and metrics (more exports are added beside these, one line each).
 */
export { sigmoidFocalLoss, type FocalOptions } from './losses/focal.ts';
export { ssim, ssimMap, ssimLoss, gaussianWindow, type SSIMOptions, type SSIMMeanOptions } from './losses/ssim.ts';
export { diceLoss, type DiceOptions } from './losses/dice.ts';
export { sptLoss, prepareTargets, type SPTLossOptions, type SPTLossTerms, type PreparedTargets, type IgnoreMode } from './losses/spt-loss.ts';
export { ConfusionMatrix, formatMetricsTable, nanmean, harmonicMean, type SegMetrics, type MetricsSplit, type LabelMap } from './metrics.ts';
export { type SegDataset, type SegSample, type DatasetSpec, BadSampleError, reduceZeroLabel } from './data/dataset.ts';
export { VOCDataset, VOC_CLASSES, VOC_UNSEEN_IDS, type VOCOptions, type VOCSplitPart } from './data/voc.ts';
export { COCOStuffDataset, ZeroCOCOStuffDataset, COCO_STUFF_CLASSES, COCO_STUFF_UNSEEN_IDS, type COCOStuffOptions } from './data/coco-stuff.ts';
export { FolderDataset, type FolderOptions } from './data/folder.ts';
export { openDataset } from './data/open.ts';
export { trainTransform, testTransform, testResizeSize, rescaleSize, normalizationStats, type AugmentOptions, type AugmentedSample, type Normalization } from './data/augment.ts';
export { SegLoader, type LoaderOptions, type SegBatch, type DataPosition, type LoaderReport, type LoaderState, type SkippedSample } from './data/loader.ts';
