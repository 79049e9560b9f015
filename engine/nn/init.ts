/**
 * Parameter initialisers (PyTorch's nn.init), and a construction mode that skips them.
 *
 * Module constructors draw their random parameters through `initUniform` / `initNormal`. Inside
 * `skipInit(() => new CLIP(cfg))` those return zero-filled tensors of the right shape and dtype
 * instead: a model about to receive a checkpoint does not spend seconds drawing ~150 M random
 * numbers that the load overwrites at once (torch.nn.utils.skip_init, or building on the meta
 * device). The default generator is not advanced while skipping, so a seeded run that builds a
 * model this way draws the same numbers afterwards as one that never built it.
 *
 * Deterministic initial values (LayerNorm's ones, biases' zeros) are cheap and made as usual.
 * A model built under `skipInit` holds zeros, not a trained or random model: load every parameter
 * before using it (`Module.loadStateDict` with `strict: true` checks that).
 */
import { normal, uniform, zeros } from '../creation.ts';
import type { Tensor } from '../tensor.ts';

let skipping = 0;

/**
 * Run `build` (synchronous: a Promise result throws) with random initialisation switched off, and
 * return what it returns. Nests; the mode ends with the call, even when `build` throws.
 *
 * @example
 * const model = skipInit(() => new CLIP(CLIP_VIT_B_16));   // weights to be loaded next
 */
export function skipInit<T>(build: () => T): T {
  skipping++;
  try {
    const out = build();
    if (out instanceof Promise) throw new Error('skipInit: `build` must be synchronous (construct the modules, then await the load)');
    return out;
  } finally {
    skipping--;
  }
}

/**
 * True inside `skipInit`.
 *
 * @example
 * skipInit(() => isInitSkipped());   // true
 */
export function isInitSkipped(): boolean {
  return skipping > 0;
}

/**
 * U(low, high) samples from the default generator (nn.init.uniform_); zeros inside `skipInit`.
 *
 * @example
 * this.weight = new Parameter(initUniform([out, inp], -bound, bound));
 */
export function initUniform(shape: readonly number[], low: number, high: number): Tensor {
  return skipping > 0 ? zeros(shape) : uniform(shape, low, high);
}

/**
 * N(mean, std²) samples from the default generator (nn.init.normal_); zeros inside `skipInit`.
 *
 * @example
 * this.prompt = new Parameter(initNormal([1, 10, 768], 0, 0.02));
 */
export function initNormal(shape: readonly number[], mean = 0, std = 1): Tensor {
  return skipping > 0 ? zeros(shape) : normal(shape, mean, std);
}
