/**
 * Packing: the WebAssembly functions that copy a matrix into the panel layout the microkernel reads
 * (see `gemm.ts`): panel p holds rows p·R .. p·R + R - 1, and at depth d their R values side by side,
 *   dst[(p·depth + d)·R + i] = X(p·R + i, d),   zero for rows past the end.
 * A is packed with R = MR (rows = m, depth = k), B with R = NR seen from its columns (rows = n).
 *
 * Why pack at all: the microkernel then reads both operands strictly sequentially, 16 bytes at a
 * time, whatever the shapes and transposes were; and panels padded with zeros let it run only whole
 * tiles. Packing is O(n²) against the product's O(n³), so it is nearly free when done at memory speed,
 * which is why it is written here in SIMD rather than in a JavaScript loop (about 5× slower).
 *
 * Two source layouts, two functions per R:
 *   pack<R>_n(src, ld, rows, depth, dst)  X(row, d) = src[d·ld + row]: the R values of one depth
 *                                         are already side by side, copy R/4 vectors per depth step
 *                                         (B, or a transposed A).
 *   pack<R>_t(src, ld, rows, depth, dst)  X(row, d) = src[row·ld + d]: the values of one depth are ld
 *                                         apart, so read 4 rows × 4 depths and transpose the 4 × 4
 *                                         block in registers with 8 shuffles (A, or a transposed B).
 * Rows past the end and the depth % 4 leftovers go through a plain scalar loop.
 */
import {
  f32, forRange, get, i32, ifThen, set, v128, ValType, type Code, type Func, type Local, type Module,
} from './assembler.ts';

/** Byte indices for i8x16.shuffle, by f32 lane: lanes 0-3 from the first vector, 4-7 from the second. */
const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

/**
 * The 4 × 4 transpose: rows r0..r3 = (a0 a1 a2 a3), (b..), (c..), (d..) become columns
 * (a0 b0 c0 d0), (a1 b1 c1 d1), ... by interleaving pairs of rows, then pairs of pairs.
 */
function transpose4(f: Func, rows: Code[]): { setup: Code[]; columns: Code[] } {
  const [t0, t1, t2, t3] = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)];
  return {
    setup: [
      set(t0, v128.shuffle(rows[0], rows[1], lanes(0, 4, 1, 5))), // a0 b0 a1 b1
      set(t1, v128.shuffle(rows[0], rows[1], lanes(2, 6, 3, 7))), // a2 b2 a3 b3
      set(t2, v128.shuffle(rows[2], rows[3], lanes(0, 4, 1, 5))), // c0 d0 c1 d1
      set(t3, v128.shuffle(rows[2], rows[3], lanes(2, 6, 3, 7))), // c2 d2 c3 d3
    ],
    columns: [
      v128.shuffle(get(t0), get(t2), lanes(0, 1, 4, 5)), // a0 b0 c0 d0
      v128.shuffle(get(t0), get(t2), lanes(2, 3, 6, 7)), // a1 b1 c1 d1
      v128.shuffle(get(t1), get(t3), lanes(0, 1, 4, 5)), // a2 b2 c2 d2
      v128.shuffle(get(t1), get(t3), lanes(2, 3, 6, 7)), // a3 b3 c3 d3
    ],
  };
}

function emitPack(f: Func, r: number, transposed: boolean): void {
  const [src, ld, rows, depth, dst] = f.params;
  const [p, panels, full, d, i, out, o, s, vecDepth] = Array.from({ length: 9 }, () => f.local(ValType.i32));
  const bytes = (x: Code): Code => i32.shl(x, i32.const(2));
  // Address of X(row, dd) in the source.
  const srcAt = (row: Code, dd: Code): Code => i32.add(get(src), bytes(transposed
    ? i32.add(i32.mul(row, get(ld)), dd)
    : i32.add(i32.mul(dd, get(ld)), row)));
  const firstRow = (): Code => i32.mul(get(p), i32.const(r));

  // Address of depth dd of the current panel in the destination (its row i is 4·i bytes further).
  const dstAt = (dd: Code): Code => i32.add(get(out), bytes(i32.mul(dd, i32.const(r))));

  // Any panel, any depth range, one value at a time: the edges (rows i >= full are zeros).
  const scalar = (fromDepth: Code): Code => forRange(d, fromDepth, get(depth), i32.const(1),
    forRange(i, i32.const(0), i32.const(r), i32.const(1),
      set(o, i32.add(dstAt(get(d)), bytes(get(i)))),
      ifThen(i32.ltS(get(i), get(full)),
        [f32.store(get(o), f32.load(srcAt(i32.add(firstRow(), get(i)), get(d))))],
        [f32.store(get(o), f32.const(0))])));

  let fullPanel: Code[];
  if (!transposed) {
    // One depth step = R contiguous source values = R/4 vector copies.
    const copies: Code[] = [set(s, srcAt(firstRow(), get(d))), set(o, dstAt(get(d)))];
    for (let v = 0; v < r / 4; v++) copies.push(v128.store(get(o), v128.load(get(s), 16 * v), 16 * v));
    fullPanel = [forRange(d, i32.const(0), get(depth), i32.const(1), ...copies)];
  } else {
    // Four depth steps at a time: for each group of 4 rows, 4 loads, a transpose, 4 stores.
    const block: Code[] = [];
    for (let g = 0; g < r / 4; g++) {
      const rowsOf: Local[] = [0, 1, 2, 3].map(() => f.local(ValType.v128));
      block.push(set(s, srcAt(i32.add(firstRow(), i32.const(4 * g)), get(d))));
      rowsOf.forEach((row, q) => block.push(set(row, v128.load(i32.add(get(s), i32.mul(get(ld), i32.const(4 * q)))))));
      const { setup, columns } = transpose4(f, rowsOf.map((row) => get(row)));
      block.push(...setup, set(o, dstAt(get(d))));
      // Column q holds depth d + q of rows 4g..4g+3: R floats further per depth, 4 per group.
      columns.forEach((column, q) => block.push(v128.store(get(o), column, 4 * (q * r + 4 * g))));
    }
    fullPanel = [forRange(d, i32.const(0), get(vecDepth), i32.const(4), ...block), scalar(get(vecDepth))];
  }

  f.body = [
    ...set(vecDepth, i32.and(get(depth), i32.const(~3))),
    ...set(panels, i32.divS(i32.add(get(rows), i32.const(r - 1)), i32.const(r))),
    ...forRange(p, i32.const(0), get(panels), i32.const(1),
      set(full, i32.sub(get(rows), firstRow())),
      set(out, i32.add(get(dst), bytes(i32.mul(i32.mul(get(p), get(depth)), i32.const(r))))),
      ifThen(i32.geS(get(full), i32.const(r)), fullPanel, [scalar(i32.const(0))])),
  ];
}

/** Name of the packing export for panels of `r` rows from a source laid out as described above. */
export const packName = (r: number, transposed: boolean): `pack${string}` => `pack${r}_${transposed ? 't' : 'n'}`;

/** Add pack<R>_n and pack<R>_t for each R in `widths` (MR and NR). */
export function addPacking(mod: Module, widths: number[]): void {
  const { i32: I } = ValType;
  for (const r of new Set(widths)) {
    emitPack(mod.func(packName(r, false), [I, I, I, I, I]), r, false);
    emitPack(mod.func(packName(r, true), [I, I, I, I, I]), r, true);
  }
}
