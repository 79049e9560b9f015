/**
 * Raw safetensors arrays (see safetensors.ts) decoded to numbers: F16 through a 65,536-entry lookup
 * table built on first use, BF16 as the top half of a float32, I64 checked to fit a double exactly
 * (else `SafetensorsError` with code `I64_RANGE`). Exact for every dtype in float64; float32 output
 * rounds integers as a Float32Array store does.
 * Does not: parse or write files (safetensors.ts), or make tensors (tensors.ts).
 */
import { SafetensorsError, type RawData, type RawTensor } from './safetensors.ts';


/** IEEE 754 half-precision bits -> number (exact). */
export function f16BitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits -> number (exact): the top half of a float32. */
export function bf16BitsToFloat(h: number): number {
  scratchU32[0] = h << 16;
  return scratchF32[0];
}
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Decode any dtype to float32 (ints round to the nearest float32, as a Float32Array store does). */
export function toFloat32(raw: RawTensor, name = '<tensor>'): Float32Array {
  if (raw.dtype === 'F32') return (raw.data as Float32Array).slice();
  const out = new Float32Array(raw.data.length);
  decodeInto(raw, out, name);
  return out;
}

/** Decode any dtype to float64 (exact for every dtype; I64 values beyond 2^53 throw `I64_RANGE`). */
export function toFloat64(raw: RawTensor, name = '<tensor>'): Float64Array {
  const out = new Float64Array(raw.data.length);
  decodeInto(raw, out, name);
  return out;
}

function decodeInto(raw: RawTensor, out: Float32Array | Float64Array, name: string): void {
  const d = raw.data;
  switch (raw.dtype) {
    case 'F16': {
      const table = f16Table(); // one load per element instead of a branchy decode
      for (let i = 0; i < d.length; i++) out[i] = table[d[i] as number];
      return;
    }
    case 'BF16': for (let i = 0; i < d.length; i++) out[i] = bf16BitsToFloat(d[i] as number); return;
    case 'I64': return decodeI64(d as BigInt64Array, out, name);
    default: out.set(d as Exclude<RawData, BigInt64Array>);
  }
}

/** Every half-precision bit pattern's value, as float32 (exact: F16 is a subset of F32). Built on first use. */
let F16_TABLE: Float32Array | null = null;
function f16Table(): Float32Array {
  if (F16_TABLE === null) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16BitsToFloat(h);
  }
  return F16_TABLE;
}

function decodeI64(d: BigInt64Array, out: Float32Array | Float64Array, name: string): void {
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    const n = Number(v);
    if (BigInt(n) !== v) {
      throw new SafetensorsError('I64_RANGE', `${name}: I64 value ${v} at index ${i} does not fit exactly in a double`);
    }
    out[i] = n;
  }
}
