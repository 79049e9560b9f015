/**
 * Learning-rate schedules as plain functions of the iteration (0-based).
 *
 * `polyLr` is mmcv's PolyLrUpdaterHook with linear warmup, the schedule of ZegCLIP / SPT-SEG
 * (method.md §4.1: power 0.9, min_lr 1e-6, 1500 warmup iters, warmup_ratio 1e-6):
 *   regular(it) = (base - min) · (1 - it/max)^power + min
 *   warmup(it)  = regular(it) · (1 - (1 - it/warmupIters) · (1 - warmupRatio))   for it < warmupIters
 */

export interface PolyOptions {
  baseLr: number;
  maxIters: number;
  power?: number;
  minLr?: number;
  warmupIters?: number;
  warmupRatio?: number;
}

export function polyLr(opts: PolyOptions): (iter: number) => number {
  const { baseLr, maxIters, power = 0.9, minLr = 1e-6, warmupIters = 0, warmupRatio = 1e-6 } = opts;
  return (iter: number) => {
    const progress = Math.min(iter, maxIters) / maxIters;
    const regular = (baseLr - minLr) * (1 - progress) ** power + minLr;
    if (iter >= warmupIters) return regular;
    const k = (1 - iter / warmupIters) * (1 - warmupRatio);
    return regular * (1 - k);
  };
}
