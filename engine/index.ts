/**
 * The public engine API. Names follow PyTorch so that a PyTorch user feels at home:
 *
 *   import { tensor, randn, manualSeed, noGrad } from './engine/index.ts';
 *   manualSeed(0);
 *   const w = randn([3, 2], { requiresGrad: true });
 *   const loss = tensor([[1, 2, 3]]).matmul(w).relu().sum();
 *   loss.backward();            // w.grad now holds dloss/dw
 *
 * Importing this module registers two backends: "wasm" (WebAssembly SIMD on every core, the
 * default wherever it can run) and "cpu" (the reference loops, the default otherwise).
 * `setBackend('cpu')` or `useDevice(...)` (kernels/select.ts) chooses another; gpu.js is there too.
 */
import { registerBackend } from '../kernels/backend.ts';
import { CpuBackend } from '../kernels/cpu/index.ts';
import { createWasmBackend } from '../kernels/wasm/index.ts';

registerBackend('cpu', () => new CpuBackend());
registerBackend('wasm', () => createWasmBackend());

export { getBackend, setBackend, registerBackend, backendNames } from '../kernels/backend.ts';
export type { Backend, DType, Storage, TypedArray } from '../kernels/backend.ts';
export { Tensor, type Operand } from './tensor.ts';
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions } from './autograd.ts';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, arange, eye,
  randn, rand, uniform, normal, randint, truncNormal,
  type TensorOptions, type RandomOptions, type NestedArray,
} from './creation.ts';
export { manualSeed, Generator, defaultGenerator, type GeneratorState } from './rng.ts';
export { cat, stack, chunk, pad, slice } from './ops/slice.ts';
export { where, clamp, eq, ne, lt, le, gt, ge } from './ops/where.ts';
export { add, sub, mul, div, pow, maximum, minimum } from './ops/binary.ts';
export { neg, exp, log, sqrt, abs, sin, cos, relu, sigmoid, tanh, erf, sign } from './ops/unary.ts';
export { sum, max, argmax } from './ops/reduce.ts';
export { reshape, permute, transpose, expand, flip, squeeze, unsqueeze, flatten } from './ops/movement.ts';
export { matmul, matmulT } from './ops/matmul.ts';
export { gather, indexSelect, embedding } from './ops/gather.ts';
export { mean, variance, norm } from './functional/stats.ts';
export { softmax, logSoftmax, gelu, quickGelu } from './functional/activation.ts';
export { linear, layerNorm, dropout } from './functional/layers.ts';
export {
  crossEntropy, binaryCrossEntropyWithLogits, mseLoss, type CrossEntropyOptions, type Reduction,
} from './functional/loss.ts';
export { scaledDotProductAttention, causalMask, type AttentionOptions } from './functional/attention.ts';
export { tidy, dispose, type TensorContainer, type KeepList } from './memory.ts';
