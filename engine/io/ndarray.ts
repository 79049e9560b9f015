/**
 * Tensor <-> ndarray interop (scijs `ndarray`: a flat array seen through a shape, strides and an offset).
 *
 * Does: `toNdarray(t)` gives a dense row-major ndarray over the tensor's values (its own typed array:
 *   Float32Array, Float64Array or Int32Array by dtype); `fromNdarray(a)` makes a tensor from any
 *   ndarray view (sliced, stepped, flipped, transposed: the strides are walked, so the view need not be
 *   dense), float32 unless the array holds float64 or a dtype is asked for; integer arrays -> int32.
 * Does not: share memory with the tensor (a backend owns a tensor's storage, which may be a GPU
 *   texture, so `toNdarray` reads the values back and `fromNdarray` copies), or keep autograd links.
 * Used by train/data, whose crops and flips are zero-copy ndarray views of decoded images.
 */
import ndarray from 'ndarray';
import { tensor } from '../creation.ts';
import { noGrad } from '../autograd.ts';
import type { DType, TypedArray } from '../../kernels/backend.ts';
import type { Tensor } from '../tensor.ts';

export type NdArray<D extends ndarray.Data = ndarray.Data> = ndarray.NdArray<D>;

/** A dense row-major ndarray of the tensor's values, shape = t.shape (a 0-d tensor gives shape []). */
export function toNdarray(t: Tensor): NdArray<TypedArray> {
  const values = noGrad(() => t.data());
  return ndarray(values, [...t.shape]);
}

/** The values of an ndarray view in row-major order of its shape (strides and offset honoured). */
export function ndarrayValues(a: NdArray): Float64Array {
  const { shape, stride, offset, data } = a;
  const out = new Float64Array(shape.reduce((s, n) => s * n, 1));
  const d = shape.length;
  if (out.length === 0) return out;
  const idx = new Array<number>(d).fill(0);
  let at = offset;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[at];
    // odometer increment over the last axis first
    for (let k = d - 1; k >= 0; k--) {
      idx[k]++;
      at += stride[k];
      if (idx[k] < shape[k]) break;
      at -= stride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** A tensor with an ndarray's values and shape (a copy). */
export function fromNdarray(a: NdArray, dtype?: DType): Tensor {
  const integer = a.data instanceof Int32Array || a.data instanceof Uint8Array || a.data instanceof Uint8ClampedArray
    || a.data instanceof Int8Array || a.data instanceof Int16Array || a.data instanceof Uint16Array || a.data instanceof Uint32Array;
  const target: DType = dtype ?? (a.data instanceof Float64Array ? 'float64' : integer ? 'int32' : 'float32');
  return tensor(ndarrayValues(a), [...a.shape], { dtype: target });
}
