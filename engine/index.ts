/**
 * The public engine API. Names follow PyTorch so that a PyTorch user feels at home:
 *
 *   import { tensor, randn, manualSeed, noGrad } from './engine/index.ts';
 *   manualSeed(0);
 *   const w = randn([3, 2], { requiresGrad: true });
 *   const loss = tensor([[1, 2, 3]]).matmul(w).relu().sum();
 *   loss.backward();            // w.grad now holds dloss/dw
 *
 * The device: "wasm" (WebAssembly SIMD on every core) wherever it can run, else "cpu" (the reference
 * loops). `useDevice('cpu' | 'wasm' | 'gpu' | 'gpu:<mode>')` (engine/device.ts) chooses another;
 * each backend is created once, so tensors made before and after a second selection still meet.
 */
export { useDevice, device, getBackend, setBackend, resolveDeviceName, backendNames, DEVICE_NAMES } from './device.ts';
export type { Backend, DType, Storage, TypedArray } from '../kernels/backend.ts';
export { Tensor, type Operand } from './tensor.ts';
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions, type GradNode } from './autograd.ts';
export {
  tensor, asTensor, zeros, ones, full, zerosLike, onesLike, arange, eye,
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
export { conv2d, conv2dChannelsLast, type Conv2dOptions } from './functional/conv.ts';
export {
  crossEntropy, binaryCrossEntropyWithLogits, mseLoss, type CrossEntropyOptions, type Reduction,
} from './functional/loss.ts';
export { scaledDotProductAttention, causalMask, type AttentionOptions } from './functional/attention.ts';
export { interpolate, resize2d, bilinearMatrix, bilinearWeights, type InterpolateOptions } from './functional/interpolate.ts';
export { normalize, type NormalizeOptions } from './functional/normalize.ts';
export { avgPool2d } from './functional/pool.ts';
export { windowPartition, windowReverse, padTo } from './functional/window.ts';
export { rfft2, irfft2, type FftNorm, type FftOptions } from './ops/fft.ts';
export { correlate1d } from './ops/correlate.ts';
export { complexMul } from './functional/complex.ts';
export { tidy, dispose, memory, trackMemory, type TensorContainer, type KeepList } from './memory.ts';
export type { MemoryInfo } from '../kernels/backend.ts';
