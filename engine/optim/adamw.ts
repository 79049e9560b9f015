/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, written in the same order as
 * torch.optim.AdamW so that float32 runs match it step for step:
 *
 *   p ← p · (1 - lr·wd)                                   decay, outside the gradient
 *   m ← β1·m + (1 - β1)·g        v ← β2·v + (1 - β2)·g²   moment estimates
 *   p ← p - (lr / (1 - β1ᵗ)) · m / (√v / √(1 - β2ᵗ) + ε)  bias-corrected step
 */
import { noGrad } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, type ParamGroup } from './optimizer.ts';
import { asArray, asNumber, stateTensorFor, type StateObject } from './state.ts';

/** torch.optim.AdamW's settings (betas default [0.9, 0.999], eps 1e-8). */
export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  /** Default 0.01, as torch.optim.AdamW. */
  weightDecay?: number;
}

/** One parameter's Adam state: the step count and the first and second moment estimates. */
export interface AdamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/**
 * Adam with decoupled weight decay, as torch.optim.AdamW (defaults betas [0.9, 0.999], eps 1e-8, weightDecay 0.01).
 *
 * @example
 * const opt = new AdamW(trainableParameters(model).map(([, p]) => p), { lr: 2e-4, weightDecay: 0.01 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class AdamW extends Optimizer {
  betas: [number, number];
  eps: number;
  readonly state = new Map<Tensor, AdamState>();

  constructor(params: Tensor[] | ParamGroup[], opts: AdamWOptions) {
    super(params, opts.lr, opts.weightDecay ?? 0.01);
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
  }

  override stateTensors(): Tensor[] {
    return [...this.state.values()].flatMap((s) => [s.expAvg, s.expAvgSq]);
  }

  protected readonly typeName = 'AdamW';

  protected hyperParams(): StateObject {
    return { betas: [...this.betas], eps: this.eps };
  }

  protected parseHyperParams(h: StateObject, where: string): () => void {
    const b = asArray(h.betas, `${where}.betas`);
    if (b.length !== 2) throw new Error(`${where}.betas: expected two numbers, got ${b.length}`);
    const betas: [number, number] = [asNumber(b[0], `${where}.betas[0]`), asNumber(b[1], `${where}.betas[1]`)];
    const eps = asNumber(h.eps, `${where}.eps`);
    return () => { this.betas = betas; this.eps = eps; };
  }

  protected paramState(p: Tensor): StateObject | null {
    const s = this.state.get(p);
    return s === undefined ? null : { step: s.step, expAvg: s.expAvg, expAvgSq: s.expAvgSq };
  }

  protected parseParamState(p: Tensor, saved: StateObject, where: string): () => void {
    const s: AdamState = {
      step: asNumber(saved.step, `${where}.step`),
      expAvg: stateTensorFor(saved.expAvg, p, `${where}.expAvg`),
      expAvgSq: stateTensorFor(saved.expAvgSq, p, `${where}.expAvgSq`),
    };
    return () => { this.state.set(p, s); };
  }

  protected clearState(): void {
    this.state.clear();
  }

  protected update(p: Tensor, g: Tensor, lr: number, wd: number): void {
    const [b1, b2] = this.betas;
    noGrad(() => {
      let s = this.state.get(p);
      if (s === undefined) {
        s = { step: 0, expAvg: g.mul(0), expAvgSq: g.mul(0) };
        this.state.set(p, s);
      }
      s.step++;
      const decayed = wd !== 0 ? p.mul(1 - lr * wd) : p;
      s.expAvg = s.expAvg.add(g.sub(s.expAvg).mul(1 - b1)); // lerp toward g, as torch does
      s.expAvgSq = s.expAvgSq.mul(b2).add(g.mul(g).mul(1 - b2));
      const bc1 = 1 - b1 ** s.step;
      const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
      const denom = s.expAvgSq.sqrt().div(bc2Sqrt).add(this.eps);
      p.assign(decayed.sub(s.expAvg.div(denom).mul(lr / bc1)));
    });
  }
}
