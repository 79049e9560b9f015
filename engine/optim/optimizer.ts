/**
 * What every optimizer shares: parameter groups with mmcv-style multipliers, `zeroGrad`, and a
 * base learning rate that schedules set. Per-parameter state (momentum, Adam moments) lives in the
 * optimizer, keyed by the parameter, never on the tensor.
 *
 *   effective lr of a group           = optimizer.lr · group.lrMult
 *   effective weight decay of a group = optimizer.weightDecay · group.decayMult
 */
import type { Tensor } from '../tensor.ts';

export interface ParamGroup {
  params: Tensor[];
  /** Multiplies the optimizer's lr for this group (mmcv `lr_mult`; default 1). */
  lrMult?: number;
  /** Multiplies the optimizer's weight decay for this group (mmcv `decay_mult`; default 1). */
  decayMult?: number;
  /** A label for logs ("backbone", "head", ...). */
  name?: string;
}

export interface ResolvedGroup {
  params: Tensor[];
  lrMult: number;
  decayMult: number;
  name: string;
}

export abstract class Optimizer {
  readonly groups: ResolvedGroup[];
  /** Base learning rate; a schedule updates it every step. */
  lr: number;
  weightDecay: number;
  /** Number of `step()` calls so far. */
  stepCount = 0;

  constructor(params: Tensor[] | ParamGroup[], lr: number, weightDecay: number) {
    const list: ParamGroup[] = params.length > 0 && 'params' in (params[0] as object)
      ? (params as ParamGroup[])
      : [{ params: params as Tensor[] }];
    this.groups = list.map((g, i) => ({
      params: g.params, lrMult: g.lrMult ?? 1, decayMult: g.decayMult ?? 1, name: g.name ?? `group${i}`,
    }));
    const seen = new Set<Tensor>();
    for (const g of this.groups) {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`a parameter appears in more than one group (group "${g.name}")`);
        seen.add(p);
      }
    }
    this.lr = lr;
    this.weightDecay = weightDecay;
  }

  /** Apply one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    for (const g of this.groups) {
      const lr = this.lr * g.lrMult;
      const wd = this.weightDecay * g.decayMult;
      for (const p of g.params) if (p.grad !== null) this.update(p, p.grad, lr, wd);
    }
  }

  /** The update rule for one parameter, run with grad recording off by `step`. */
  protected abstract update(p: Tensor, grad: Tensor, lr: number, weightDecay: number): void;

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  /**
   * The tensors the optimizer carries from step to step (moments, momentum buffers). They are
   * replaced by new tensors every step, so ask again after each `step()`; with the parameters they
   * are what a training step wrapped in `tidy` must keep (engine/memory.ts).
   */
  stateTensors(): Tensor[] {
    return [];
  }

  /** Every parameter of every group, in order (the index is the key in state dicts). */
  allParams(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }
}
