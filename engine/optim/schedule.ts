/**
 * Learning-rate schedules as functions of the iteration (0-based), with a state dict.
 *
 * `polyLr` is mmcv's PolyLrUpdaterHook with linear warmup, the schedule of ZegCLIP / SPT-SEG
 * (method.md §4.1: power 0.9, min_lr 1e-6, 1500 warmup iters, warmup_ratio 1e-6):
 *   regular(it) = (base - min) · (1 - it/max)^power + min
 *   warmup(it)  = regular(it) · (1 - (1 - it/warmupIters) · (1 - warmupRatio))   for it < warmupIters
 *
 * The value depends only on the iteration, which the training loop owns and saves; the schedule's
 * state is its settings. `stateDict()` returns them and `loadStateDict()` replaces them, so a run
 * resumed from a checkpoint follows the saved schedule even when built with other settings.
 */
import { asNumber, asObject, type StateObject, type StateTree } from './state.ts';

/** Settings of `polyLr` (defaults: power 0.9, minLr 1e-6, no warmup, warmupRatio 1e-6). */
export interface PolyOptions {
  baseLr: number;
  maxIters: number;
  power?: number;
  minLr?: number;
  warmupIters?: number;
  warmupRatio?: number;
}

/** A learning rate per iteration, whose settings can be saved and restored. */
export interface LrSchedule {
  (iter: number): number;
  stateDict(): StateObject;
  loadStateDict(state: StateTree): void;
}

const POLY_KEYS = ['baseLr', 'maxIters', 'power', 'minLr', 'warmupIters', 'warmupRatio'] as const;
type PolySettings = Required<PolyOptions>;

/**
 * mmcv's poly schedule with linear warmup (see the header): `schedule(iter)` is the learning rate of 0-based `iter`.
 *
 * @example
 * const schedule = polyLr({ baseLr: 2e-4, maxIters: 20000, warmupIters: 1500 });
 * opt.lr = schedule(iter);
 */
export function polyLr(opts: PolyOptions): LrSchedule {
  let cfg: PolySettings = { power: 0.9, minLr: 1e-6, warmupIters: 0, warmupRatio: 1e-6, ...opts };
  const schedule = (iter: number): number => {
    const { baseLr, maxIters, power, minLr, warmupIters, warmupRatio } = cfg;
    const progress = Math.min(iter, maxIters) / maxIters;
    const regular = (baseLr - minLr) * (1 - progress) ** power + minLr;
    if (iter >= warmupIters) return regular;
    const k = (1 - iter / warmupIters) * (1 - warmupRatio);
    return regular * (1 - k);
  };
  return Object.assign(schedule, {
    stateDict: (): StateObject => ({ type: 'polyLr', ...cfg }),
    loadStateDict: (state: StateTree): void => {
      const where = 'polyLr.loadStateDict';
      const s = asObject(state, where);
      if (s.type !== 'polyLr') throw new Error(`${where}: the state dict is not a polyLr schedule's (type ${JSON.stringify(s.type)})`);
      const next = {} as Record<(typeof POLY_KEYS)[number], number>;
      for (const key of POLY_KEYS) next[key] = asNumber(s[key], `${where}: "${key}"`);
      cfg = next;
    },
  });
}
