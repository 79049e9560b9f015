/**
 * Stochastic gradient descent with momentum, as torch.optim.SGD:
 *
 *   g ← g + wd·p                      (coupled weight decay)
 *   b ← momentum·b + (1 - dampening)·g   (b = g on the first step)
 *   p ← p - lr·(nesterov ? g + momentum·b : b)
 */
import { noGrad } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, type ParamGroup } from './optimizer.ts';
import { asBoolean, asNumber, stateTensorFor, type StateObject } from './state.ts';

/** torch.optim.SGD's settings: lr, momentum, dampening, weight decay (default 0) and Nesterov. */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov and (coupled, L2) weight decay, as torch.optim.SGD.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** Momentum buffers, by parameter. */
  readonly buffers = new Map<Tensor, Tensor>();

  constructor(params: Tensor[] | ParamGroup[], opts: SGDOptions) {
    super(params, opts.lr, opts.weightDecay ?? 0);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
  }

  override stateTensors(): Tensor[] {
    return [...this.buffers.values()];
  }

  protected readonly typeName = 'SGD';

  protected hyperParams(): StateObject {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov };
  }

  protected parseHyperParams(h: StateObject, where: string): () => void {
    const momentum = asNumber(h.momentum, `${where}.momentum`);
    const dampening = asNumber(h.dampening, `${where}.dampening`);
    const nesterov = asBoolean(h.nesterov, `${where}.nesterov`);
    return () => { this.momentum = momentum; this.dampening = dampening; this.nesterov = nesterov; };
  }

  protected paramState(p: Tensor): StateObject | null {
    const b = this.buffers.get(p);
    return b === undefined ? null : { momentumBuffer: b };
  }

  protected parseParamState(p: Tensor, saved: StateObject, where: string): () => void {
    const b = stateTensorFor(saved.momentumBuffer, p, `${where}.momentumBuffer`);
    return () => { this.buffers.set(p, b); };
  }

  protected clearState(): void {
    this.buffers.clear();
  }

  protected update(p: Tensor, grad: Tensor, lr: number, wd: number): void {
    noGrad(() => {
      let g = wd !== 0 ? grad.add(p.mul(wd)) : grad;
      if (this.momentum !== 0) {
        const prev = this.buffers.get(p);
        const buf = prev === undefined ? g.detach() : prev.mul(this.momentum).add(g.mul(1 - this.dampening));
        this.buffers.set(p, buf); // the first buffer is a Tensor object of its own (torch clones g)
        g = this.nesterov ? g.add(buf.mul(this.momentum)) : buf;
      }
      p.assign(p.sub(g.mul(lr)));
    });
  }
}
