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

export class Dropout extends Module implements Layer {
  constructor(readonly p = 0.5) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

/** A list of modules whose parameters are named by index: `resblocks.0.ln_1.weight`. */
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

/** Layers applied one after another; parameters named by index like ModuleList. */
export class Sequential extends ModuleList<Module & Layer> implements Layer {
  constructor(...layers: (Module & Layer)[]) {
    super(layers);
  }

  forward(x: Tensor): Tensor {
    return this.items.reduce((h, layer) => layer.forward(h), x);
  }
}
