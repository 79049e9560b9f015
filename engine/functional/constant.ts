/**
 * Constant matrices for the composites built from matmul (bilinear resize, average pooling, DFT):
 * a float64 array turned into a tensor on the backend and in the dtype of the tensor it will meet.
 *
 * Does: put the constant where its operand lives (`like.storage.backend`), never on the global
 *   backend, so a composite works whatever backend its input was made on.
 * Does not: track gradients (constants are leaves without requiresGrad).
 */
import { getBackend } from '../device.ts';
import { Tensor } from '../tensor.ts';

/** `values` as a tensor of `shape` on like's backend and dtype (the global backend in float32 without one). */
export function constantLike(values: Float64Array, shape: readonly number[], like?: Tensor): Tensor {
  const storage = like ? like.storage.backend.fromArray(values, like.dtype) : getBackend().fromArray(values, 'float32');
  return new Tensor(storage, shape);
}
