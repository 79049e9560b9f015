/**
 * `Module`: a tree of named parameters, as in PyTorch.
 *
 * A module's parameters and sub-modules are simply its properties; their names (and the dotted
 * paths built from them) are the checkpoint keys, so loading a checkpoint is a name lookup:
 *
 *   class Block extends Module { ln_1 = new LayerNorm(64); attn = new Attention(64); }
 *   new Block().stateDict()  // Map { 'ln_1.weight' => ..., 'ln_1.bias' => ..., 'attn.…' => ... }
 *
 * Buffers (non-trainable tensors saved in the state dict) are registered with `registerBuffer`.
 * Not here: any layer (see layers.ts).
 */
import { Tensor } from '../tensor.ts';
import { fmtShape } from '../shape.ts';

/**
 * A tensor that a module trains: requiresGrad is on from the start.
 *
 * @example
 * this.scale = new Parameter(ones([1]));   // a trainable leaf, found by parameters()
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape);
    this.requiresGrad = requiresGrad && data.dtype !== 'int32';
  }
}

export interface LoadOptions {
  /** Require the keys to match exactly (default true). Shape mismatches are errors either way. */
  strict?: boolean;
}

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * A PyTorch-style module: parameters, buffers and submodules are found by walking its fields (names
 * become the state-dict keys), with train/eval mode, `stateDict`/`loadStateDict` and `zeroGrad`.
 *
 * @example
 * class Head extends Module { fc = new Linear(512, 20); forward(x: Tensor) { return this.fc.forward(x); } }
 * new Head().stateDict().keys();   // 'fc.weight', 'fc.bias'
 */
export class Module {
  /** Dropout and similar layers behave differently when training. */
  training = true;
  private readonly bufferNames = new Set<string>();

  /** Direct sub-modules with their names (properties that hold modules, in definition order). */
  namedChildren(): [string, Module][] {
    return Object.entries(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /** Every sub-module, depth-first, with dotted names; this module itself is ''. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** Parameters with their dotted names, e.g. `transformer.resblocks.0.attn.in_proj_weight`. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, value] of Object.entries(this)) {
      if (value instanceof Parameter) out.push([join(prefix, name), value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedParameters(join(prefix, name)));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const name of this.bufferNames) out.push([join(prefix, name), (this as unknown as Record<string, Tensor>)[name]]);
    for (const [name, child] of this.namedChildren()) out.push(...child.namedBuffers(join(prefix, name)));
    return out;
  }

  /** Store a non-trainable tensor under `name` that still belongs in the state dict. */
  protected registerBuffer(name: string, value: Tensor): void {
    this.bufferNames.add(name);
    (this as unknown as Record<string, Tensor>)[name] = value;
  }

  /** Every parameter and buffer by dotted name. The tensors are the module's own (not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copy values into this module's parameters and buffers by name. Every problem is reported at
   * once: shape mismatches always throw; missing and unexpected keys throw when `strict`.
   */
  loadStateDict(dict: Map<string, Tensor> | Record<string, Tensor>, opts: LoadOptions = {}): LoadResult {
    const strict = opts.strict ?? true;
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [key, target] of own) {
      const src = given.get(key);
      if (src && (src.ndim !== target.ndim || src.shape.some((s, i) => s !== target.shape[i]))) {
        mismatched.push(`  ${key}: expected shape ${fmtShape(target.shape)}, got ${fmtShape(src.shape)}`);
      }
    }
    const problems: string[] = [];
    if (mismatched.length > 0) problems.push(`size mismatch for ${mismatched.length} key(s):\n${mismatched.join('\n')}`);
    if (strict && missingKeys.length > 0) problems.push(`missing key(s): ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected key(s): ${unexpectedKeys.join(', ')}`);
    if (problems.length > 0) throw new Error(`Error(s) in loading state dict for ${this.constructor.name}:\n${problems.join('\n')}`);
    for (const [key, target] of own) {
      const src = given.get(key);
      if (src) target.assign(src);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Set training mode on this module and every sub-module. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clear the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Switch every parameter's requiresGrad (freezing a tower, for example). */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
