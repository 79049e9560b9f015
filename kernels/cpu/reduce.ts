/**
 * Reductions over the last axis of an [outer, inner] block: sum, max, argmax.
 * Sums accumulate in a JS double (more accurate than float32 accumulation on any device).
 * max / argmax propagate NaN like torch (the first NaN wins).
 */
import { type DType, type ReduceOp, type TypedArray } from '../backend.ts';
import { allocArray } from './pool.ts';

export function reduce(op: ReduceOp, x: TypedArray, outer: number, inner: number, dtype: DType): TypedArray {
  const out = allocArray(op === 'argmax' ? 'int32' : dtype, outer);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    if (op === 'sum') {
      let s = 0;
      for (let i = 0; i < inner; i++) s += x[base + i];
      out[o] = s;
      continue;
    }
    let best = -Infinity;
    let arg = 0;
    for (let i = 0; i < inner; i++) {
      const v = x[base + i];
      if (v !== v) { best = NaN; arg = i; break; }
      if (v > best || i === 0) { best = v; arg = i; }
    }
    out[o] = op === 'max' ? best : arg;
  }
  return out;
}
