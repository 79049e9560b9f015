/**
 * The bridge between file-format arrays (`RawTensor`, see safetensors.ts) and engine `Tensor`s.
 * Floating point data (F16, BF16, F32, F64) becomes float32 tensors unless a dtype is asked for;
 * integer data becomes int32 (I64 values must fit). No file access here (see files.ts).
 */
import { asTensor, tensor } from '../creation.ts';
import { noGrad } from '../autograd.ts';
import type { DType } from '../../kernels/backend.ts';
import type { Tensor } from '../tensor.ts';
import { toFloat32, toFloat64, type RawTensor, type StDType } from './safetensors.ts';

const INTEGER: readonly StDType[] = ['I64', 'I32', 'U8'];

/**
 * A tensor holding a raw array's values (a copy, exactly one), float32 / int32 unless `dtype` is given.
 * F16 / BF16 decode straight into the target's array, which the tensor then takes (engine/creation.ts
 * `asTensor`), with no float64 step in between; I64 is checked to fit a double.
 */
export function tensorFromRaw(raw: RawTensor, name = '<tensor>', dtype?: DType): Tensor {
  const target: DType = dtype ?? (INTEGER.includes(raw.dtype) ? 'int32' : 'float32');
  if (raw.dtype === 'F32' || raw.dtype === 'I32' || raw.dtype === 'F64' || raw.dtype === 'U8') {
    return tensor(raw.data as ArrayLike<number>, raw.shape, { dtype: target });
  }
  if (target === 'float32') return asTensor(toFloat32(raw, name), raw.shape); // F16 / BF16 / I64
  return tensor(toFloat64(raw, name), raw.shape, { dtype: target });
}

/** A raw array with a tensor's values: F32, F64 or I32 by the tensor's dtype. */
export function tensorToRaw(t: Tensor): RawTensor {
  const data = noGrad(() => t.data());
  const dtype: StDType = t.dtype === 'float64' ? 'F64' : t.dtype === 'int32' ? 'I32' : 'F32';
  return { dtype, shape: [...t.shape], data };
}

/**
 * Every raw tensor of a parsed file as engine tensors; `source` (the file) starts each decoding error
 * (an I64 beyond 2^53, say), before the tensor's name.
 */
export function tensorsFromRaw(raws: Map<string, RawTensor>, dtype?: DType, source?: string): Map<string, Tensor> {
  return new Map([...raws].map(([name, raw]) => [name, tensorFromRaw(raw, source === undefined ? name : `${source}: ${name}`, dtype)]));
}
