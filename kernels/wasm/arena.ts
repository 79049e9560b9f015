/**
 * Float32 arrays that live inside the wasm kernels' unshared memory, so that the SIMD kernels read
 * their operands and write their results where they already are, with no copy in or out.
 *
 * Why: a wasm function sees only its own memory. Without the arena every elementwise call copies its
 * operands into that memory and its result out into a fresh JavaScript array: in the world's SPT-SEG
 * step those copies took about 60 of 170 ms (16-20 GB/s memcpy of 590K-float tensors, by the dozen;
 * 2-core AMD EPYC, 2026-12-04). Here the CPU backends' fresh float32 arrays made inside a `tidy` scope (kernels/cpu/pool.ts
 * `useFloat32Source`) are views into this memory; for those, a kernel's pointer is just the view's
 * byteOffset. (Outside every scope an array's end is known only to the garbage collector, and only
 * after the current synchronous work, so those stay ordinary arrays: a long forward pass outside
 * `tidy` would otherwise hold arena memory until it returned.)
 *
 * The one rule that makes it safe: the memory never grows. Growing an unshared wasm memory detaches
 * its old ArrayBuffer, which would empty every view in use. So the memory is made at its full size up
 * front (`instantiate` in module.ts; the operating system commits its pages only when first written,
 * so 1.5 GiB of it costs no RSS until used) and, when it is full, `alloc` returns null and callers
 * fall back to plain arrays and the copying path: slower, never wrong.
 *
 * Lifetime: a block is handed out as a Float32Array view. Inside a `tidy` scope its storage's array
 * goes back to the CPU pool's free list and is reused by the next op of that length (the pool does
 * not know it is a view); an array the pool drops, or all of them when the arena runs short, it hands
 * straight back (`reclaim`). A view kept out of its scope (a result) and later dropped is noticed by
 * a FinalizationRegistry once the garbage collector has reclaimed it. Temporary blocks
 * (`scratch`, a copy of an operand that lives elsewhere) are given back by `endCall` after each call.
 * Does not: threads (the matmul's workers use the shared memory of module.ts), or moving live blocks
 * (free space between them is merged and reused, never compacted by moving arrays).
 */

/** Blocks start on a cache line (and so on a 16-byte SIMD boundary). */
const ALIGN = 64;

/**
 * How blocks are found, fastest first:
 *   1. a freed block of exactly this length (`exact`: a training step asks for the same lengths
 *      every step, so this is nearly every request once the first step has run);
 *   2. the untouched space above `top` (bump allocation);
 *   3. when both fail: `compact` merges every freed block into runs of free space (`holes`, sorted by
 *      address; a run that ends at `top` lowers it) and the block is cut from the first hole that fits.
 * The CPU pool also hands back the free arrays it holds when the arena runs short (`reclaim`), so
 * arrays waiting for a length nobody asks for any more do not keep the arena full.
 */
export class Arena {
  private top: number;
  /** Nothing at or above this address has ever been written: blocks taken from there are zeros. */
  private untouched: number;
  private readonly end: number;
  private readonly buffer: ArrayBuffer;
  /** Byte offsets of freed blocks, by length in floats. */
  private readonly exact = new Map<number, number[]>();
  /** Merged runs of free space below `top`, [offset, bytes], sorted by offset (made by `compact`). */
  private holes: [number, number][] = [];
  /** Temporary blocks of the kernel call in progress, given back by `endCall`. */
  private readonly temps: [number, number][] = [];
  private readonly registry = new FinalizationRegistry<[number, number]>(([offset, n]) => this.give(offset, n));

  /** The arena is [start, memory's end) of `memory`, which must never grow from now on. */
  constructor(readonly memory: WebAssembly.Memory, start: number) {
    this.buffer = memory.buffer;
    this.top = this.untouched = Math.ceil(start / ALIGN) * ALIGN;
    this.end = this.buffer.byteLength;
  }

  /** Does `a` live in this arena's memory (so a kernel can use `a.byteOffset` as its address)? */
  owns(a: ArrayBufferView): boolean {
    return a.buffer === this.buffer;
  }

  /**
   * A view of n floats in the arena, or null when it is full. Zero-filled when `zeroed` (a block
   * never written before already is), else its contents are whatever it last held.
   */
  alloc(n: number, zeroed: boolean): Float32Array | null {
    const offset = this.take(n);
    if (offset === null) return null;
    const view = new Float32Array(this.buffer, offset, n);
    if (zeroed && !this.tookUntouched) view.fill(0);
    this.registry.register(view, [offset, n], view);
    return view;
  }

  /**
   * Take back a view from `alloc` now, instead of when the garbage collector finds it: the caller
   * (the CPU pool, dropping a free array) promises that nobody uses the view again.
   */
  reclaim(view: Float32Array): boolean {
    if (!this.owns(view) || !this.registry.unregister(view)) return false;
    this.give(view.byteOffset, view.length);
    return true;
  }

  /** The address of a temporary block of n floats for the current call, or null when full. */
  scratch(n: number): number | null {
    const offset = this.take(n);
    if (offset !== null) this.temps.push([offset, n]);
    return offset;
  }

  /** The address of x inside the arena: its own, or a temporary copy (null when the arena is full). */
  place(x: Float32Array, n = x.length): number | null {
    if (this.owns(x)) return x.byteOffset;
    const offset = this.scratch(n);
    if (offset !== null) new Float32Array(this.buffer, offset, n).set(x.subarray(0, n));
    return offset;
  }

  /** Give back the call's temporary blocks. */
  endCall(): void {
    for (const [offset, n] of this.temps) this.give(offset, n);
    this.temps.length = 0;
  }

  /** A view over the whole memory, to read and write at kernel addresses. */
  view(): Float32Array {
    return new Float32Array(this.buffer);
  }

  /** The bump pointer: every byte below it is in use or free in a list (for tests and reports). */
  usedBytes(): number {
    return this.top;
  }

  private bytes(n: number): number {
    return Math.max(ALIGN, Math.ceil((4 * n) / ALIGN) * ALIGN);
  }

  /** Set by `take`: did the block lie wholly in never-written memory? */
  private tookUntouched = false;

  private take(n: number): number | null {
    const size = this.bytes(n);
    let offset = this.exact.get(n)?.pop() ?? this.bump(size) ?? this.fromHoles(size);
    if (offset === null) {
      this.compact();
      offset = this.fromHoles(size) ?? this.bump(size);
    }
    if (offset === null) return null;
    this.tookUntouched = offset >= this.untouched;
    this.untouched = Math.max(this.untouched, offset + size);
    return offset;
  }

  private bump(size: number): number | null {
    if (this.top + size > this.end) return null;
    const offset = this.top;
    this.top += size;
    return offset;
  }

  /** First fit among the merged holes, cutting the block from the hole's start. */
  private fromHoles(size: number): number | null {
    for (let i = 0; i < this.holes.length; i++) {
      const [offset, bytes] = this.holes[i];
      if (bytes < size) continue;
      if (bytes === size) this.holes.splice(i, 1);
      else this.holes[i] = [offset + size, bytes - size];
      return offset;
    }
    return null;
  }

  /** Merge every freed block and hole into sorted runs; a run that reaches `top` lowers it. */
  private compact(): void {
    const runs: [number, number][] = [...this.holes];
    for (const [n, offsets] of this.exact) for (const offset of offsets) runs.push([offset, this.bytes(n)]);
    this.exact.clear();
    runs.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [offset, bytes] of runs) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last[0] + last[1] === offset) last[1] += bytes;
      else merged.push([offset, bytes]);
    }
    const last = merged[merged.length - 1];
    if (last !== undefined && last[0] + last[1] === this.top) {
      this.top = last[0];
      merged.pop();
    }
    this.holes = merged;
  }

  private give(offset: number, n: number): void {
    let list = this.exact.get(n);
    if (list === undefined) this.exact.set(n, list = []);
    list.push(offset);
  }
}

/** The single-threaded kernels instantiated over an arena's memory: they run on resident arrays in place. */
export interface ResidentKernels<E> {
  readonly arena: Arena;
  readonly exports: E;
}

/**
 * Run one kernel call on the arena: each input in place (or a temporary copy), the output written
 * straight into a fresh pool array when that array lives in the arena (else into a temporary block,
 * then copied). `call` gets the inputs' addresses and the output's. Null, having run nothing, when the
 * arena has no room: the caller then takes its copying path, which computes the same numbers.
 */
export function runResident(
  arena: Arena, inputs: readonly (readonly [Float32Array, number])[], outLength: number,
  newArray: (n: number) => Float32Array, call: (addresses: number[], out: number) => void,
): Float32Array | null {
  const addresses: number[] = [];
  for (const [x, n] of inputs) {
    const at = arena.place(x, n);
    if (at === null) { arena.endCall(); return null; }
    addresses.push(at);
  }
  const out = newArray(outLength);
  const direct = arena.owns(out);
  const outAt = direct ? out.byteOffset : arena.scratch(outLength);
  if (outAt === null) { arena.endCall(); return null; }
  call(addresses, outAt);
  if (!direct) out.set(new Float32Array(arena.memory.buffer, outAt, outLength));
  arena.endCall();
  return out;
}
