/**
 * The strided copy of Backend.copy in WebAssembly, one 2-D tile per call (float32):
 *
 *   copy_tile(src, dst, rows, cols, ssRow, sdRow, ssCol, sdCol)
 *     for r < rows, j < cols:  dst[r·sdRow + j·sdCol] = src[r·ssRow + j·ssCol]
 *
 * with byte addresses and byte strides (any sign: a flip walks backwards). Rows whose both strides are
 * one float (4 bytes) copy four floats per instruction (v128 load + store), then the 0-3 left over one
 * at a time; any other row (a transpose's column walk, a broadcast's stride 0) copies one float at a
 * time. That scalar loop is still about twice the JavaScript one on the same arrays (a [16, 64, 64]
 * transpose: 36 against 84 µs), as wasm's loads and stores need no bounds check of their own.
 *
 * Does not: the outer axes (the host walks them, `copy.ts`), overlapping source and destination (the
 * host sends those to the reference, whose element order defines the result), or other dtypes.
 */
import { f32, forRange, get, i32, ifThen, set, v128, ValType, type Func, type Module } from './assembler.ts';

function emitTile(f: Func): void {
  const [src, dst, rows, cols, ssRow, sdRow, ssCol, sdCol] = f.params;
  const [r, j, a, b, vecEnd] = Array.from({ length: 5 }, () => f.local(ValType.i32));
  const at = (base: typeof a, index: typeof j) => i32.add(get(base), i32.shl(get(index), i32.const(2)));
  f.body = [
    ...set(vecEnd, i32.and(get(cols), i32.const(~3))),
    ...forRange(r, i32.const(0), get(rows), i32.const(1),
      ifThen(i32.and(i32.eq(get(ssCol), i32.const(4)), i32.eq(get(sdCol), i32.const(4))),
        // contiguous row: four floats at a time, then the leftovers
        [forRange(j, i32.const(0), get(vecEnd), i32.const(4), v128.store(at(dst, j), v128.load(at(src, j)))),
          forRange(j, get(vecEnd), get(cols), i32.const(1), f32.store(at(dst, j), f32.load(at(src, j))))],
        // any other row: one float at a time along the two strides
        [set(a, get(src)), set(b, get(dst)),
          forRange(j, i32.const(0), get(cols), i32.const(1),
            f32.store(get(b), f32.load(get(a))),
            set(a, i32.add(get(a), get(ssCol))),
            set(b, i32.add(get(b), get(sdCol))))]),
      set(src, i32.add(get(src), get(ssRow))),
      set(dst, i32.add(get(dst), get(sdRow)))),
  ];
}

/** Add `copy_tile` to the module. */
export function addCopy(mod: Module): void {
  const I = ValType.i32;
  emitTile(mod.func('copy_tile', [I, I, I, I, I, I, I, I]));
}
