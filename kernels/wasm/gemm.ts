/**
 * The WebAssembly side of float32 matmul: a register-tiled SIMD microkernel, the loops that walk
 * one block of C with it, and `gemm_run`, the task loop every thread (main or worker) executes.
 *
 * What it does not: packing, batching or threads. `matmul.ts` packs A and B into panels in the shared
 * memory and writes a job (the `Job` fields below); each thread then calls `gemm_run(job)`, which
 * grabs blocks of C with an atomic counter until none are left.
 *
 * Glossary: C (m × n) = A (m × k) · B (k × n). MR × NR is the tile of C one microkernel call owns
 * (NR = 4·NV, NV f32x4 vectors per row); a "panel" of A is MR rows × all k, of B all k × NR columns.
 *
 * The packed layouts (made by `pack.ts`, padded with zeros to whole panels):
 *   A panel p:  element (row p·MR + i, col kk) at float  p·k·MR + kk·MR + i
 *   B panel q:  element (row kk, col q·NR + j) at float  q·k·NR + kk·NR + j
 * so at step kk the microkernel reads MR consecutive floats of A and NR consecutive floats of B.
 * C is padded too (ldc = a whole number of NR columns), so every tile is a full MR × NR tile and the
 * kernel has no edge cases; the host copies out the m × n part.
 */
import {
  block, br, brIf, call, f32x4, forRange, get, i32, ifThen, loop, set, v128, ValType,
  type Code, type Func, type Local, type Module,
} from './assembler.ts';

/** Shape of the register tile (the cache blocks are chosen per call by `matmul.ts`). */
export interface GemmShape {
  /** Rows of C per microkernel tile (one f32 of A splatted per row per k step). */
  mr: number;
  /** f32x4 vectors of C per row of the tile: NR = 4·nv columns. */
  nv: number;
  /** Use relaxed-SIMD fused multiply-add (only when the engine validates it). */
  fma: boolean;
}

/** Field indices (i32 slots) of a job in the shared memory, written by the host. */
export const Job = {
  tasks: 0, // number of C blocks (over all batches)
  tilesN: 1, // C blocks per block-row
  tilesPerBatch: 2, // C blocks per matrix
  mcPanels: 3, // A panels (of MR rows) per C block
  ncPanels: 4, // B panels (of NR columns) per C block
  mPanels: 5, // A panels in one matrix
  nPanels: 6, // B panels in one matrix
  k: 7,
  kc: 8, // k steps per cache block
  aPtr: 9, aBatchBytes: 10, // packed A, and bytes between batch matrices (0 = broadcast)
  bPtr: 11, bBatchBytes: 12,
  cPtr: 13, ldcBytes: 14, cBatchBytes: 15,
  next: 16, // the task counter, taken with an atomic fetch-add
  size: 17,
} as const;

/**
 * micro(a, b, c, ldc, kc, accumulate): C[MR × NR] (+)= Apanel[kc × MR]ᵀ · Bpanel[kc × NR].
 *
 * The trick: the MR × NR tile of C lives in MR·NV v128 locals for the whole k loop, so the inner
 * loop touches memory only to read A and B, never C. Per k step it loads NV vectors of B, and
 * for each of the MR rows splats one float of A into all four lanes and does NV multiply-adds.
 * For the default 4 × 8 tile: 2 + 4 loads feed 8 multiplies and 8 adds (64 flops), so the loop is
 * bound by arithmetic, not memory. V8 keeps wasm locals in registers when they fit, and x86-64 has
 * 16 xmm registers: 8 accumulators + 2 B vectors + 1 splat + 1 product is 12; bigger tiles spill
 * to the stack and get slower (measurements in `module.ts`).
 */
function emitMicro(f: Func, { mr, nv, fma }: GemmShape): void {
  const [a, b, c, ldc, kc, accumulate] = f.params;
  const acc: Local[][] = [];
  for (let r = 0; r < mr; r++) acc.push(Array.from({ length: nv }, () => f.local(ValType.v128)));
  const bv = Array.from({ length: nv }, () => f.local(ValType.v128));
  const av = f.local(ValType.v128);
  const end = f.local(ValType.i32);
  const row = f.local(ValType.i32);

  // Address of row r of the C tile: c + r·ldc (recomputed at load and store, outside the hot loop).
  const rowAddr = (r: number): Code => i32.add(get(c), i32.mul(get(ldc), i32.const(r)));
  const load: Code[] = [];
  const store: Code[] = [];
  const zero: Code[] = [];
  for (let r = 0; r < mr; r++) {
    load.push(set(row, rowAddr(r)));
    store.push(set(row, rowAddr(r)));
    for (let v = 0; v < nv; v++) {
      load.push(set(acc[r][v], v128.load(get(row), 16 * v)));
      store.push(v128.store(get(row), get(acc[r][v]), 16 * v));
      zero.push(set(acc[r][v], v128.const([0, 0, 0, 0])));
    }
  }

  // One k step: NV loads of B, then MR splats of A, each feeding NV multiply-adds.
  const step: Code[] = [];
  for (let v = 0; v < nv; v++) step.push(set(bv[v], v128.load(get(b), 16 * v)));
  for (let r = 0; r < mr; r++) {
    step.push(set(av, v128.load32Splat(get(a), 4 * r)));
    for (let v = 0; v < nv; v++) {
      step.push(set(acc[r][v], fma
        ? f32x4.relaxedMadd(get(av), get(bv[v]), get(acc[r][v]))
        : f32x4.add(get(acc[r][v]), f32x4.mul(get(av), get(bv[v])))));
    }
  }

  f.body = [
    ...ifThen(get(accumulate), load, zero),
    ...set(end, i32.add(get(a), i32.mul(get(kc), i32.const(mr * 4)))),
    // do { step; a += MR floats; b += NR floats } while (a < end): kc >= 1 always.
    ...loop(
      ...step,
      set(a, i32.add(get(a), i32.const(mr * 4))),
      set(b, i32.add(get(b), i32.const(nv * 16))),
      brIf(0, i32.ltS(get(a), get(end))),
    ),
    ...store.flat(),
  ];
}

/**
 * tile(a, b, c, ldc, mp, np, k, kc): one block of C, mp A panels × np B panels, over all of k.
 * Loop order (GotoBLAS / BLIS): k in blocks of kc, then B panels, then A panels. The kc × NR
 * B panel stays in L1 while the mp A panels of this k block (mp·MR·kc floats) stream from L2.
 */
function emitTile(f: Func, micro: number, { mr, nv }: GemmShape): void {
  const [a, b, c, ldc, mp, np, k, kc] = f.params;
  const nr = 4 * nv;
  const pc = f.local(ValType.i32);
  const kk = f.local(ValType.i32);
  const ir = f.local(ValType.i32);
  const jr = f.local(ValType.i32);
  const left = f.local(ValType.i32);
  f.body = forRange(pc, i32.const(0), get(k), get(kc),
    set(left, i32.sub(get(k), get(pc))),
    set(kk, i32.minS(get(kc), get(left))),
    forRange(jr, i32.const(0), get(np), i32.const(1),
      forRange(ir, i32.const(0), get(mp), i32.const(1),
        call(micro,
          // A panel ir at k step pc: a + (ir·k + pc)·MR floats
          i32.add(get(a), i32.mul(i32.add(i32.mul(get(ir), get(k)), get(pc)), i32.const(mr * 4))),
          // B panel jr at k step pc: b + (jr·k + pc)·NR floats
          i32.add(get(b), i32.mul(i32.add(i32.mul(get(jr), get(k)), get(pc)), i32.const(nr * 4))),
          // C tile (ir, jr): c + ir·MR rows + jr·NR columns
          i32.add(get(c), i32.add(i32.mul(get(ir), i32.mul(get(ldc), i32.const(mr))), i32.mul(get(jr), i32.const(nr * 4)))),
          get(ldc), get(kk), i32.gtS(get(pc), i32.const(0))),
      ),
    ),
  );
}

/**
 * gemm_run(job): take C blocks from the job's counter until there are none left. The main thread
 * and every worker run this same loop on the same job, so a fast thread simply takes more blocks.
 */
function emitRun(f: Func, tile: number, { mr, nv }: GemmShape): void {
  const [job] = f.params;
  const nr = 4 * nv;
  const field = (name: keyof typeof Job): Code => i32.load(get(job), 4 * Job[name]);
  const [t, bi, rest, ti, tj, i0, j0] = Array.from({ length: 7 }, () => f.local(ValType.i32));
  f.body = block(loop(
    set(t, i32.atomicAdd(get(job), i32.const(1), 4 * Job.next)),
    brIf(1, i32.geS(get(t), field('tasks'))),
    // task t -> batch bi, block row ti, block column tj
    set(bi, i32.divS(get(t), field('tilesPerBatch'))),
    set(rest, i32.sub(get(t), i32.mul(get(bi), field('tilesPerBatch')))),
    set(ti, i32.divS(get(rest), field('tilesN'))),
    set(tj, i32.sub(get(rest), i32.mul(get(ti), field('tilesN')))),
    set(i0, i32.mul(get(ti), field('mcPanels'))), // first A panel of the block
    set(j0, i32.mul(get(tj), field('ncPanels'))), // first B panel of the block
    call(tile,
      i32.add(i32.add(field('aPtr'), i32.mul(get(bi), field('aBatchBytes'))),
        i32.mul(i32.mul(get(i0), field('k')), i32.const(mr * 4))),
      i32.add(i32.add(field('bPtr'), i32.mul(get(bi), field('bBatchBytes'))),
        i32.mul(i32.mul(get(j0), field('k')), i32.const(nr * 4))),
      i32.add(i32.add(field('cPtr'), i32.mul(get(bi), field('cBatchBytes'))),
        i32.add(i32.mul(i32.mul(get(i0), i32.const(mr)), field('ldcBytes')), i32.mul(get(j0), i32.const(nr * 4)))),
      field('ldcBytes'),
      // the last block in each direction may be smaller (min evaluates its operands twice: loads, cheap)
      i32.minS(field('mcPanels'), i32.sub(field('mPanels'), get(i0))),
      i32.minS(field('ncPanels'), i32.sub(field('nPanels'), get(j0))),
      field('k'), field('kc')),
    br(0),
  ));
}

/** Add `gemm_micro`, `gemm_tile` and `gemm_run` to the module. */
export function addGemm(mod: Module, shape: GemmShape): void {
  const { i32: I } = ValType;
  const micro = mod.func('gemm_micro', [I, I, I, I, I, I]);
  emitMicro(micro, shape);
  const tile = mod.func('gemm_tile', [I, I, I, I, I, I, I, I]);
  emitTile(tile, micro.index, shape);
  const run = mod.func('gemm_run', [I]);
  emitRun(run, tile.index, shape);
}
