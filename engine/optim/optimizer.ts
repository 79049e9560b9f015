/**
 * What every optimizer shares: parameter groups with mmcv-style multipliers, `zeroGrad`, and a
 * base learning rate that schedules set. Per-parameter state (momentum, Adam moments) lives in the
 * optimizer, keyed by the parameter, never on the tensor.
 *
 *   effective lr of a group           = optimizer.lr · group.lrMult
 *   effective weight decay of a group = optimizer.weightDecay · group.decayMult
 *
 * `stateDict()` / `loadStateDict()` save and restore everything a resumed run needs, as
 * torch.optim.Optimizer.state_dict does: parameters are referred to by their index in
 * `allParams()` (the same model built the same way gives the same order), and the tree holds
 *   { type, lr, weightDecay, stepCount, hyper: {betas, eps | momentum, ...},
 *     paramGroups: [{ name, lrMult, decayMult, lr, weightDecay, params: [index...] }],
 *     state: { [index]: { step, expAvg, expAvgSq } | { momentumBuffer } } }
 * (a group's `lr` and `weightDecay` are the effective values at save time, for people reading the
 * file; the multipliers are what is restored). The state tensors are the optimizer's own (never
 * mutated in place, replaced every step), so the tree is a snapshot; save it before the next step
 * where a `tidy` scope frees replaced state (gpu.js).
 */
import type { Tensor } from '../tensor.ts';
import { asArray, asNumber, asObject, asString, type StateObject, type StateTree } from './state.ts';

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

/**
 * The base of `SGD` and `AdamW`: parameter groups with mmcv-style lr and decay multipliers, `step`,
 * `zeroGrad`, and a state dict for resuming (see the header).
 *
 * @example
 * const opt = new AdamW([{ params: decoder, lrMult: 10 }, { params: prompts }], { lr: 2e-5 });
 * opt.lr = schedule(iter); opt.step(); opt.zeroGrad();
 */
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

  /** Everything needed to resume: hyperparameters, group settings, step counts, per-parameter state. */
  stateDict(): StateObject {
    const state: Record<string, StateTree> = {};
    this.allParams().forEach((p, i) => {
      const s = this.paramState(p);
      if (s !== null) state[String(i)] = s;
    });
    let index = 0;
    return {
      type: this.typeName,
      lr: this.lr,
      weightDecay: this.weightDecay,
      stepCount: this.stepCount,
      hyper: this.hyperParams(),
      paramGroups: this.groups.map((g) => ({
        name: g.name, lrMult: g.lrMult, decayMult: g.decayMult,
        lr: this.lr * g.lrMult, weightDecay: this.weightDecay * g.decayMult,
        params: g.params.map(() => index++),
      })),
      state,
    };
  }

  /**
   * Restore what `stateDict()` saved, into an optimizer over the same parameters (same groups, same
   * order, same shapes). Checks everything before changing anything; errors name the entry.
   */
  loadStateDict(dict: StateTree): void {
    const type = this.typeName;
    const where = `${type}.loadStateDict`;
    const sd = asObject(dict, where);
    const savedType = asString(sd.type, `${where}: "type"`);
    if (savedType !== type) throw new Error(`${where}: the state dict is from a ${savedType} optimizer, not ${type}`);
    const groups = asArray(sd.paramGroups, `${where}: "paramGroups"`).map((g, i) => asObject(g, `${where}: paramGroups[${i}]`));
    if (groups.length !== this.groups.length) {
      throw new Error(`${where}: the state dict has ${groups.length} parameter groups, this optimizer ${this.groups.length}`);
    }
    const settings = groups.map((g, i) => {
      const at = `${where}: paramGroups[${i}]`;
      const n = asArray(g.params, `${at}.params`).length;
      if (n !== this.groups[i].params.length) {
        throw new Error(`${at} ("${this.groups[i].name}") has ${n} parameters in the state dict, ${this.groups[i].params.length} here`);
      }
      return { lrMult: asNumber(g.lrMult, `${at}.lrMult`), decayMult: asNumber(g.decayMult, `${at}.decayMult`) };
    });
    const lr = asNumber(sd.lr, `${where}: "lr"`);
    const weightDecay = asNumber(sd.weightDecay, `${where}: "weightDecay"`);
    const stepCount = asNumber(sd.stepCount, `${where}: "stepCount"`);
    const hyper = asObject(sd.hyper, `${where}: "hyper"`);
    const saved = asObject(sd.state, `${where}: "state"`);
    const params = this.allParams();
    for (const key of Object.keys(saved)) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= params.length) {
        throw new Error(`${where}: state for parameter "${key}", but there are ${params.length} parameters`);
      }
    }
    // Parse every entry first (this throws on a bad one), then commit.
    const perParam = params.map((p, i) => (Object.hasOwn(saved, String(i))
      ? this.parseParamState(p, asObject(saved[String(i)], `${where}: state.${i}`), `${where}: state.${i}`)
      : null));
    const commitHyper = this.parseHyperParams(hyper, `${where}: hyper`);
    commitHyper();
    this.lr = lr;
    this.weightDecay = weightDecay;
    this.stepCount = stepCount;
    settings.forEach((s, i) => Object.assign(this.groups[i], s));
    this.clearState();
    params.forEach((p, i) => { if (perParam[i] !== null) perParam[i]!(); });
  }

  /** The optimizer's name in state dicts ("AdamW", "SGD"); a literal, since bundlers rename classes. */
  protected abstract readonly typeName: string;
  /** Hyperparameters of the update rule (betas, eps, momentum, ...), for the state dict. */
  protected abstract hyperParams(): StateObject;
  /** Check saved hyperparameters (throw on a missing or mistyped entry); return a function that sets them. */
  protected abstract parseHyperParams(hyper: StateObject, where: string): () => void;
  /** The state of one parameter (null when it has none yet). */
  protected abstract paramState(p: Tensor): StateObject | null;
  /** Check one parameter's saved state; return a function that installs it. */
  protected abstract parseParamState(p: Tensor, saved: StateObject, where: string): () => void;
  /** Forget all per-parameter state. */
  protected abstract clearState(): void;
}
