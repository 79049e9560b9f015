/**
 * Standard layers with PyTorch's parameter names, shapes and default initialisation:
 * Linear (weight [out, in]), LayerNorm, Embedding, Dropout, and the containers ModuleList and
 * Sequential. Each forward is one call into `functional/`. Random initial values come from
 * `init.ts`, so that `skipInit(() => new Model())` builds without drawing them.
 */
import { ones, zeros } from '../creation.ts';
import { dropout, layerNorm, linear } from '../functional/layers.ts';
import { embedding } from '../ops/gather.ts';
import type { Tensor } from '../tensor.ts';
import { initNormal, initUniform } from './init.ts';
import { Module, Parameter } from './module.ts';

/** Anything with a tensor-to-tensor forward. */
export interface Layer {
  forward(x: Tensor): Tensor;
}

/**
 * y = x Wᵀ + b, as torch.nn.Linear: weight [out, in] and bias [out] drawn U(-1/√in, 1/√in).
 *
 * @example
 * const fc = new Linear(768, 512);
 * fc.forward(randn([2, 768])).shape;   // [2, 512]
 */
export class Linear extends Module implements Layer {
  weight: Parameter;
  bias: Parameter | null;

  /** PyTorch's init: weight and bias ~ U(-1/√in, 1/√in) (kaiming_uniform with a = √5). */
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = new Parameter(initUniform([outFeatures, inFeatures], -bound, bound));
    this.bias = bias ? new Parameter(initUniform([outFeatures], -bound, bound)) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims, as torch.nn.LayerNorm (weight 1, bias 0).
 *
 * @example
 * new LayerNorm(768).forward(x);   // x [B, N, 768]
 */
export class LayerNorm extends Module implements Layer {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];

  constructor(normalizedShape: number | number[], readonly eps = 1e-5, elementwiseAffine = true) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    this.weight = elementwiseAffine ? new Parameter(ones(this.normalizedShape)) : null;
    this.bias = elementwiseAffine ? new Parameter(zeros(this.normalizedShape)) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps, this.normalizedShape);
  }
}

/**
 * A lookup table [numEmbeddings, embeddingDim] indexed by int32 ids, as torch.nn.Embedding (weights N(0, 1)).
 *
 * @example
 * new Embedding(49408, 512).forward(tensor([[49406, 49407]], { dtype: 'int32' })).shape;   // [1, 2, 512]
 */
export class Embedding extends Module {
  weight: Parameter;

  /** PyTorch's init: N(0, 1). */
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    this.weight = new Parameter(initNormal([numEmbeddings, embeddingDim]));
  }

  /** ids (int32, any shape) → [...ids.shape, D]. */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}

/**
 * Zero each element with probability `p` and scale the rest by 1/(1-p) in training mode; identity in eval.
 *
 * @example
 * const drop = new Dropout(0.1);
 * drop.eval().forward(x);   // x itself
 */
export class Dropout extends Module implements Layer {
  constructor(readonly p = 0.5) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

/**
 * A list of modules whose parameters are named by index: `resblocks.0.ln_1.weight`.
 *
 * @example
 * const blocks = new ModuleList([new Linear(4, 4), new Linear(4, 4)]);   // keys 0.weight, 1.weight, ...
 */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];

  constructor(items: M[] = []) {
    super();
    this.items = items;
  }

  override namedChildren(): [string, Module][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  get length(): number { return this.items.length; }
  at(i: number): M { return this.items[i]; }
  push(m: M): void { this.items.push(m); }
  [Symbol.iterator](): Iterator<M> { return this.items[Symbol.iterator](); }
}

/**
 * Layers applied one after another; parameters named by index like ModuleList.
 *
 * @example
 * const mlp = new Sequential(new Linear(4, 8), new Dropout(0.1), new Linear(8, 2));
 * mlp.forward(randn([3, 4])).shape;   // [3, 2]
 */
export class Sequential extends ModuleList<Module & Layer> implements Layer {
  constructor(...layers: (Module & Layer)[]) {
    super(layers);
  }

  forward(x: Tensor): Tensor {
    return this.items.reduce((h, layer) => layer.forward(h), x);
  }
}
