/** Optimizers and schedules: `import { AdamW, polyLr } from './engine/optim/index.ts'`. */
export { Optimizer, type ParamGroup, type ResolvedGroup } from './optimizer.ts';
export { SGD, type SGDOptions } from './sgd.ts';
export { AdamW, type AdamWOptions, type AdamState } from './adamw.ts';
export { clipGradNorm, gradNorm } from './clip.ts';
export { polyLr, type PolyOptions, type LrSchedule } from './schedule.ts';
export type { StateTree, StateObject } from './state.ts';
