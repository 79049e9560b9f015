/**
 * The 1-D correlation of Backend.correlate1d in WebAssembly SIMD (float32):
 *   out[o, i, j] = Σ_t w[t] · x[o, i + t − r, j]   over the taps that land inside the axis (zero padding),
 * K = 2r + 1 taps, added in ascending t. This is the Gaussian blur of SSIM (train/losses/ssim.ts).
 *
 * Two kernels, by which axis the four SIMD lanes run along:
 *   corr_rows(x, out, w, outer, n, inner, r)   inner >= 4: lanes along j (the contiguous inner axis),
 *       each tap is a whole row, so the taps that fall off an end are skipped for all four lanes at once;
 *   corr_last(x, out, w, rows, n, r, pad)      inner = 1: lanes along i itself. Each row is copied into a
 *       scratch row `pad` with r zeros at both ends, so every tap reads four neighbours with one unaligned
 *       load and the edges need no test (a tap on the padding adds w·0, which changes no sum).
 * The 0-3 leftover outputs of a row run through the same vector code on lane 0 (load32Splat), so every
 * output is computed by the same instructions whichever lane it lands in.
 *
 * Why the sums are bit for bit those of the band-matrix matmul this replaced (G[i, j] = w[j − i + r]):
 * the GEMM microkernel (gemm.ts) accumulates each output in one lane, from 0, over k in ascending order,
 * with the same multiply-add (fused when `fma`); here the terms are the same products in the same
 * order, minus the band's zeros, and adding ±0 to a sum that started at +0 never changes it. (With an
 * infinite input the matmul spread NaN = 0·∞ along the whole axis; this, like torch's conv, does not.)
 * Does not: the host side (where the operands lie, which kernel, any copies: `correlate.ts`),
 * float64 or int32, inner 2 or 3 (the backend uses the reference for those), or threads.
 */
import { f32, f32x4, forRange, get, i32, set, v128, ValType, type Code, type Func, type Local, type Module } from './assembler.ts';

/** acc + a·b on four lanes, fused when the engine has relaxed SIMD (as the GEMM does). */
const madd = (fma: boolean) => (a: Code, b: Code, acc: Code): Code =>
  (fma ? f32x4.relaxedMadd(a, b, acc) : f32x4.add(acc, f32x4.mul(a, b)));

/** How many outputs one pass of the tap loop computes: 4 vectors of 4, 1 vector, or lane 0 of one. */
interface Width { vectors: number; lanes: number }
const BLOCK: Width = { vectors: 4, lanes: 16 }, VECTOR: Width = { vectors: 1, lanes: 4 }, LANE: Width = { vectors: 1, lanes: 1 };

/**
 * The tap loop of `width` outputs: acc[v] = Σ_t w[t] · (the vector at src + 16·v), with src stepping
 * `step` bytes per tap. The trick that makes it fast: one splat of w[t] feeds all four vectors of a
 * block, and the loop's bookkeeping (counter, pointer, branch) is paid once per four multiply-adds.
 * A single lane (the 0-3 leftovers of a row) reads its one float with load32Splat into all lanes.
 */
function tapLoop(f: Func, fma: boolean, acc: Local[], width: Width, w: Local, t: Local, src: Local,
  tFrom: Code, tTo: Local, step: Code): Code {
  const fmadd = madd(fma);
  const wt = f.local(ValType.v128);
  const body: Code[] = [set(wt, v128.load32Splat(i32.add(get(w), i32.shl(get(t), i32.const(2)))))];
  for (let v = 0; v < width.vectors; v++) {
    const xv = width.lanes === 1 ? v128.load32Splat(get(src)) : v128.load(get(src), 16 * v);
    body.push(set(acc[v], fmadd(get(wt), xv, get(acc[v]))));
  }
  body.push(set(src, i32.add(get(src), step)));
  return [
    ...acc.slice(0, width.vectors).flatMap((a) => set(a, v128.const([0, 0, 0, 0]))),
    ...forRange(t, tFrom, get(tTo), i32.const(1), ...body),
  ];
}

/** Store `width` outputs from acc at address `at`. */
function storeAcc(acc: Local[], width: Width, at: Code): Code {
  if (width.lanes === 1) return f32.store(at, f32x4.extractLane(get(acc[0]), 0));
  return acc.slice(0, width.vectors).flatMap((a, v) => v128.store(at, get(a), 16 * v));
}

function emitRows(f: Func, fma: boolean): void {
  const [x, out, w, outer, n, inner, r] = f.params;
  const [o, i, j, t, tFirst, tEnd, blockEnd, vecEnd, src, rowBytes] = Array.from({ length: 10 }, () => f.local(ValType.i32));
  const acc = Array.from({ length: 4 }, () => f.local(ValType.v128));
  const outAt = (): Code => i32.add(get(out), i32.shl(i32.add(i32.mul(get(i), get(inner)), get(j)), i32.const(2)));
  // `width` outputs from column j: the taps of rows i + t − r, t in [tFirst, tEnd), one row apart.
  const outputs = (width: Width): Code => [
    ...set(src, i32.add(get(x), i32.add(i32.mul(i32.sub(i32.add(get(i), get(tFirst)), get(r)), get(rowBytes)),
      i32.shl(get(j), i32.const(2))))),
    ...tapLoop(f, fma, acc, width, w, t, src, get(tFirst), tEnd, get(rowBytes)),
    ...storeAcc(acc, width, outAt()),
  ];
  f.body = [
    ...set(rowBytes, i32.shl(get(inner), i32.const(2))),
    ...set(blockEnd, i32.and(get(inner), i32.const(~15))),
    ...set(vecEnd, i32.and(get(inner), i32.const(~3))),
    ...forRange(o, i32.const(0), get(outer), i32.const(1),
      forRange(i, i32.const(0), get(n), i32.const(1),
        // the taps inside the axis: t from max(0, r − i) up to min(2r, n − 1 − i + r), inclusive
        set(tFirst, i32.maxS(i32.const(0), i32.sub(get(r), get(i)))),
        set(tEnd, i32.add(i32.minS(i32.add(get(r), get(r)), i32.add(i32.sub(i32.sub(get(n), i32.const(1)), get(i)), get(r))), i32.const(1))),
        forRange(j, i32.const(0), get(blockEnd), i32.const(16), outputs(BLOCK)),
        forRange(j, get(blockEnd), get(vecEnd), i32.const(4), outputs(VECTOR)),
        forRange(j, get(vecEnd), get(inner), i32.const(1), outputs(LANE))),
      set(x, i32.add(get(x), i32.mul(get(n), get(rowBytes)))),
      set(out, i32.add(get(out), i32.mul(get(n), get(rowBytes))))),
  ];
}

function emitLast(f: Func, fma: boolean): void {
  const [x, out, w, rows, n, r, pad] = f.params;
  const [row, i, t, taps, blockEnd, vecEnd, src] = Array.from({ length: 7 }, () => f.local(ValType.i32));
  const acc = Array.from({ length: 4 }, () => f.local(ValType.v128));
  const at = (base: Code, index: Code): Code => i32.add(base, i32.shl(index, i32.const(2)));
  // `width` outputs from i: padded index i + t is x index i + t − r; each tap one float further.
  const outputs = (width: Width): Code => [
    ...set(src, at(get(pad), get(i))),
    ...tapLoop(f, fma, acc, width, w, t, src, i32.const(0), taps, i32.const(4)),
    ...storeAcc(acc, width, at(get(out), get(i))),
  ];
  f.body = [
    ...set(taps, i32.add(i32.add(get(r), get(r)), i32.const(1))),
    ...set(blockEnd, i32.and(get(n), i32.const(~15))),
    ...set(vecEnd, i32.and(get(n), i32.const(~3))),
    // the zero ends of the scratch row: [0, r) and [r + n, 2r + n)
    ...forRange(i, i32.const(0), get(r), i32.const(1),
      f32.store(at(get(pad), get(i)), f32.const(0)),
      f32.store(at(get(pad), i32.add(i32.add(get(i), get(r)), get(n))), f32.const(0))),
    ...forRange(row, i32.const(0), get(rows), i32.const(1),
      forRange(i, i32.const(0), get(vecEnd), i32.const(4), // this row into the middle of the scratch row
        v128.store(at(get(pad), i32.add(get(i), get(r))), v128.load(at(get(x), get(i))))),
      forRange(i, get(vecEnd), get(n), i32.const(1),
        f32.store(at(get(pad), i32.add(get(i), get(r))), f32.load(at(get(x), get(i))))),
      forRange(i, i32.const(0), get(blockEnd), i32.const(16), outputs(BLOCK)),
      forRange(i, get(blockEnd), get(vecEnd), i32.const(4), outputs(VECTOR)),
      forRange(i, get(vecEnd), get(n), i32.const(1), outputs(LANE)),
      set(x, at(get(x), get(n))),
      set(out, at(get(out), get(n)))),
  ];
}

/** Add `corr_rows` and `corr_last` to the module (`fma`: the GEMM's multiply-add, for the same sums). */
export function addCorrelate(mod: Module, fma: boolean): void {
  const I = ValType.i32;
  emitRows(mod.func('corr_rows', [I, I, I, I, I, I, I]), fma);
  emitLast(mod.func('corr_last', [I, I, I, I, I, I, I]), fma);
}
