/**
 * The public training API: losses and metrics (more exports are added beside these, one line each).
 */
export { sigmoidFocalLoss, type FocalOptions } from './losses/focal.ts';
export { ssim, ssimMap, ssimLoss, gaussianWindow, type SSIMOptions, type SSIMMeanOptions } from './losses/ssim.ts';
export { diceLoss, type DiceOptions } from './losses/dice.ts';
export { sptLoss, prepareTargets, type SPTLossOptions, type SPTLossTerms, type PreparedTargets, type IgnoreMode } from './losses/spt-loss.ts';
export { ConfusionMatrix, formatMetricsTable, nanmean, harmonicMean, type SegMetrics, type MetricsSplit, type LabelMap } from './metrics.ts';
