/** Optimizers and schedules: `import { AdamW, polyLr } from './engine/optim/index.ts'`. */
export { Optimizer, type ParamGroup, type ResolvedGroup } from './optimizer.ts';
export { SGD, type SGDOptions } from './sgd.ts';
export { AdamW, type AdamWOptions, type AdamState } from './adamw.ts';
export { clipGradNorm } from './clip.ts';
export { polyLr, type PolyOptions } from './schedule.ts';
