/**
 * The compiled WebAssembly kernels and the one shared memory they work in.
 *
 * What it does: assembles the module at first use (see `assembler.ts`; no build step), checks that
 * the engine has what the kernels need (SIMD, shared memory, threads), instantiates it on the main
 * thread over a `WebAssembly.Memory({ shared: true })`, and hands out scratch space in that memory.
 * Worker threads (`pool.ts`) instantiate the same compiled `WebAssembly.Module` over the same memory.
 * Each backend has its own memory (and pool): kernels of one memory must not run two jobs at once.
 * The single-threaded kernels (elementwise, correlate, copy) run over unshared memories instead: a growable
 * one per backend for copies (`local`), and one fixed-size arena per process (`resident`, arena.ts)
 * where the CPU backends' float32 arrays live, so that those kernels work on them in place.
 *
 * What it does not: any arithmetic (that is `gemm.ts`, `pack.ts` and `elementwise.ts`), or threads.
 *
 * Memory map (bytes): [0, 64) pool control words, [64, 256) the current matmul job, [256, ...) a
 * scratch heap that each kernel call lays out from the start (calls never overlap: the backend is
 * synchronous and the workers only run inside a call).
 */
import { Module, f32x4, get, v128 } from './assembler.ts';
import { addCopy } from './copy-simd.ts';
import { addCorrelate } from './correlate-simd.ts';
import { addElementwise, type SimdUnaryOp } from './elementwise.ts';
import { addGemm, type GemmShape } from './gemm.ts';
import { addPacking } from './pack.ts';
import { allocArrayUninitialised, useFloat32Source } from '../cpu/pool.ts';
import { Arena, type ResidentKernels } from './arena.ts';

export const CONTROL_BYTES = 0;
export const JOB_BYTES = 64;
export const HEAP_BYTES = 256;
const PAGE = 65536;
/** 2 GiB: addresses stay positive i32s, so the kernels can compare them with signed compares. */
const MAX_PAGES = 32768;

export interface WasmKernels {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  readonly shape: GemmShape;
  /** Grow the memory so that the heap holds at least `bytes`; returns the heap's first byte. */
  reserve(bytes: number): number;
  /**
   * The elementwise kernels again, over a memory of their own that is NOT shared: they run on the
   * calling thread only, and V8 copies into and out of an unshared buffer with a plain memcpy, where
   * a SharedArrayBuffer takes a relaxed-atomic copy (measured 2.5-3× slower for 590K floats, both
   * directions). The matmul keeps the shared memory its workers need.
   */
  readonly local: LocalKernels;
  /**
   * The same single-threaded kernels once more, over a fixed-size unshared memory whose arena holds
   * the CPU backends' float32 arrays (arena.ts): there they read and write in place. Null where a
   * memory that large could not be made (then everything takes the copying path of `local`).
   */
  readonly resident: ResidentKernels<KernelExports> | null;
}

/** Single-threaded kernels over an unshared memory: the same exports and `reserve` contract. */
export interface LocalKernels {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  reserve(bytes: number): number;
}

/** The unary kernels (`SIMD_UNARY`): out[i] = f(x[i]) over n floats at byte addresses x, out. */
type UnaryKernels = Record<SimdUnaryOp, (x: number, out: number, n: number) => void>;

export interface KernelExports extends UnaryKernels {
  gemm_run(job: number): void;
  /** `pack4_n`, `pack8_t`, ...: see `pack.ts`. */
  [pack: `pack${string}`]: (src: number, ld: number, rows: number, depth: number, dst: number) => void;
  /** `bin_add`, `bin_sub_r`, ...: see `elementwise.ts`. */
  [binary: `bin_${string}`]: (a: number, b: number, out: number, rows: number, len: number, bSplat: number) => void;
  sum_rows(x: number, out: number, outer: number, inner: number): void;
  /** The 1-D correlations of `correlate.ts`. */
  corr_rows(x: number, out: number, w: number, outer: number, n: number, inner: number, r: number): void;
  corr_last(x: number, out: number, w: number, rows: number, n: number, r: number, pad: number): void;
  /** The 2-D strided copy of `copy-simd.ts` (byte addresses and strides). */
  copy_tile(src: number, dst: number, rows: number, cols: number, ssRow: number, sdRow: number, ssCol: number, sdCol: number): void;
}

/** Why this engine cannot run the wasm kernels (no WebAssembly, SIMD or SharedArrayBuffer), or null when it can. */
export function wasmUnavailableReason(): string | null {
  if (typeof WebAssembly !== 'object') return 'WebAssembly is not available';
  if (typeof SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available (a browser page needs cross-origin isolation)';
  }
  // The smallest module that uses a SIMD instruction: (func (result v128) v128.const 0).
  const probe = new Module({ initial: 1, maximum: 1, shared: true });
  probe.func('probe', [], [0x7b]).body = v128.const([0, 0, 0, 0]);
  if (!WebAssembly.validate(probe.bytes())) return 'WebAssembly SIMD (or shared memory) is not supported';
  return null;
}

/** Does the engine accept relaxed-SIMD fused multiply-add? (Node 22+; Node 20 needs a flag.) */
export function hasRelaxedSimd(): boolean {
  const probe = new Module({ initial: 1, maximum: 1, shared: true });
  const f = probe.func('probe', [0x7b], [0x7b]);
  f.body = f32x4.relaxedMadd(get(f.params[0]), get(f.params[0]), get(f.params[0]));
  return WebAssembly.validate(probe.bytes());
}

/** Build and compile the module with the given tile shape (exported for the tuning benchmark). */
export function compileKernels(shape: GemmShape): WebAssembly.Module {
  const mod = new Module({ initial: 1, maximum: MAX_PAGES, shared: true });
  addGemm(mod, shape);
  addPacking(mod, [shape.mr, 4 * shape.nv]);
  addElementwise(mod);
  return new WebAssembly.Module(mod.bytes());
}

/**
 * The default tile: 4 × 8, 8 accumulators + 2 B vectors + 1 splat + 1 product = 12 of x86's 16
 * xmm registers. Measured single-threaded at 1024³ on this project's 2-core Xeon (Node 20, no FMA):
 * 4×8 44 GFLOP/s, 2×16 43, 2×12 43, 4×12 40, 6×8 36, 4×16 36, 8×8 30 (the bigger tiles run out
 * of registers once V8 adds its temporaries, and spill). Re-measure with `TILES=... npx tsx
 * bench/kernels/matmul.bench.ts` on another machine.
 */
export function defaultShape(): GemmShape {
  return { mr: 4, nv: 2, fma: hasRelaxedSimd() };
}

/** `reserve` for a memory: grow it so that the heap holds `bytes`; the heap starts at HEAP_BYTES. */
function reserveIn(memory: WebAssembly.Memory): (bytes: number) => number {
  return (bytes: number): number => {
    const need = HEAP_BYTES + bytes;
    if (need > MAX_PAGES * PAGE) throw new RangeError(`wasm kernels: ${need} bytes do not fit in 2 GiB`);
    const have = memory.buffer.byteLength;
    if (need > have) memory.grow(Math.ceil((need - have) / PAGE));
    return HEAP_BYTES;
  };
}

/**
 * The single-threaded kernels (elementwise, correlate, copy) for an unshared memory (`WasmKernels.local`);
 * `fma` as the GEMM's, so that a correlation adds its products exactly as a band-matrix matmul would.
 */
export function compileLocalKernels(fma: boolean): WebAssembly.Module {
  const mod = new Module({ initial: 1, maximum: MAX_PAGES, shared: false });
  addElementwise(mod);
  addCorrelate(mod, fma);
  addCopy(mod);
  return new WebAssembly.Module(mod.bytes());
}

/** Instantiate compiled kernels over a fresh shared memory, and the local kernels over an unshared one. */
export function instantiate(module: WebAssembly.Module, shape: GemmShape, localModule: WebAssembly.Module = compileLocalKernels(shape.fma)): WasmKernels {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const localMemory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES });
  const local = new WebAssembly.Instance(localModule, { env: { memory: localMemory } });
  return {
    module, memory, exports, shape, reserve: reserveIn(memory),
    local: { memory: localMemory, exports: local.exports as unknown as KernelExports, reserve: reserveIn(localMemory) },
    resident: residentFor(shape.fma, localModule),
  };
}

/**
 * One arena per process (per multiply-add flavour, which a correlation must share with the GEMM):
 * every backend's single-threaded kernels run on the same resident memory. Calls never overlap (they
 * are synchronous, on this thread), so sharing is safe, and a tensor made on one wasm backend is
 * resident for all of them. The first arena made becomes the CPU pool's source of float32 arrays.
 */
const residents = new Map<boolean, ResidentKernels<KernelExports> | null>();
let poolArena: Arena | null = null;

function residentFor(fma: boolean, localModule: WebAssembly.Module): ResidentKernels<KernelExports> | null {
  if (!residents.has(fma)) {
    const made = residentKernels(localModule);
    residents.set(fma, made);
    if (made !== null && poolArena === null) {
      poolArena = made.arena;
      useFloat32Source(poolArena); // an Arena is a Float32Source: alloc and reclaim
    }
  }
  return residents.get(fma) ?? null;
}

/** The arena the CPU backends' fresh float32 arrays come from (null before the first wasm kernels). */
export function float32Arena(): Arena | null {
  return poolArena;
}

/**
 * Sizes tried for the arena's memory, largest first. Its pages cost nothing until written (the
 * operating system commits them on first touch), but a browser tab or a 32-bit engine may refuse
 * to reserve that much address space at once.
 */
const RESIDENT_PAGES = [24576, 8192, 2048]; // 1.5 GiB, 512 MiB, 128 MiB

/**
 * The local kernels over a memory made at its full size (it must never grow: arena.ts), or null.
 * `sizes`: the page counts to try, largest first (a test passes a tiny one).
 */
export function residentKernels(localModule: WebAssembly.Module, sizes: readonly number[] = RESIDENT_PAGES): ResidentKernels<KernelExports> | null {
  for (const pages of sizes) {
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch {
      continue; // RangeError: not that much address space here; try a smaller one
    }
    const instance = new WebAssembly.Instance(localModule, { env: { memory } });
    return { arena: new Arena(memory, HEAP_BYTES), exports: instance.exports as unknown as KernelExports };
  }
  return null;
}

let compiled: { module: WebAssembly.Module; shape: GemmShape; local: WebAssembly.Module } | null = null;

/**
 * Kernels over a new shared memory. The module is assembled and compiled once per process
 * (a few milliseconds); each backend gets its own memory, so two backends never share a job slot.
 */
export function createKernels(): WasmKernels {
  if (compiled === null) {
    const shape = defaultShape();
    compiled = { module: compileKernels(shape), shape, local: compileLocalKernels(shape.fma) };
  }
  return instantiate(compiled.module, compiled.shape, compiled.local);
}

/**
 * Copy n floats from the wasm memory (view `mem`, float index `start`) into a typed array of their own:
 * the result of every kernel call. The array comes from the CPU backends' free list when one of that
 * length is waiting (kernels/cpu/pool.ts), which is cheaper than a fresh one (no calloc, no page faults).
 */
export function copyOut(mem: Float32Array, start: number, n: number): Float32Array {
  const out = newF32(n);
  out.set(mem.subarray(start, start + n));
  return out;
}

/** A fresh float32 array for a kernel's result, from the CPU pool (an arena view when there is room). */
export function newF32(n: number): Float32Array {
  return allocArrayUninitialised('float32', n) as Float32Array;
}
