/**
 * A tiny WebAssembly assembler: just enough of the binary format to write the fast CPU kernels
 * from TypeScript, with no build step and no compiled file in the repository.
 *
 * What it does: each helper returns the bytes of one instruction (or a folded expression: operands
 * first, then the opcode, exactly as the stack machine consumes them), so kernel code reads like
 * the folded form of WAT:
 *
 *     set(acc, f32x4.add(get(acc), f32x4.mul(get(a), get(b))))
 *     ;; (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $a) (local.get $b))))
 *
 * `Module` collects functions, imports one shared memory and writes the binary (type, import,
 * function, export and code sections).
 *
 * What it does not: validate (WebAssembly.validate / compile does that, with byte offsets), cover
 * the whole instruction set, or optimise. Only the opcodes the kernels use are here; each number
 * comes from the WebAssembly core spec (binary format, section 5.4) and the SIMD / threads
 * proposals' opcode tables.
 */

/** Bytes of instructions. Concatenating two `Code`s runs one after the other. */
export type Code = number[];

/** Value types, by their byte in the binary format. */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** A local variable (or parameter) of the function being written. */
export interface Local { readonly index: number; readonly type: ValType }

// -- LEB128: how the binary format writes integers -------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** A vector: its length, then the items. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

const cat = (...parts: Code[]): Code => parts.flat();

// -- variables and constants -----------------------------------------------------------------------

export const get = (l: Local): Code => [0x20, ...uleb(l.index)];
export const set = (l: Local, value: Code): Code => [...value, 0x21, ...uleb(l.index)];

// -- control flow ----------------------------------------------------------------------------------
// Blocks here produce no value (block type 0x40). `br depth` jumps to the end of a `block` or to the
// start of a `loop`, counting enclosing blocks from 0 = innermost.

export const block = (...body: Code[]): Code => [0x02, 0x40, ...cat(...body), 0x0b];
export const loop = (...body: Code[]): Code => [0x03, 0x40, ...cat(...body), 0x0b];
export const br = (depth: number): Code => [0x0c, ...uleb(depth)];
export const brIf = (depth: number, cond: Code): Code => [...cond, 0x0d, ...uleb(depth)];
export const ifThen = (cond: Code, then: Code[], otherwise: Code[] = []): Code =>
  otherwise.length === 0
    ? [...cond, 0x04, 0x40, ...cat(...then), 0x0b]
    : [...cond, 0x04, 0x40, ...cat(...then), 0x05, ...cat(...otherwise), 0x0b];
export const call = (fn: number, ...args: Code[]): Code => [...cat(...args), 0x10, ...uleb(fn)];

/**
 * `for (i = from; i < to; i += step) body` as block + loop, with the test at the top so that an
 * empty range runs nothing. `to` is evaluated every iteration: pass a local, not a long expression.
 */
export function forRange(i: Local, from: Code, to: Code, step: Code, ...body: Code[]): Code {
  return cat(
    set(i, from),
    block(loop(
      brIf(1, i32.geS(get(i), to)),
      ...body,
      set(i, i32.add(get(i), step)),
      br(0),
    )),
  );
}

// -- memory access ---------------------------------------------------------------------------------
// Every load and store takes an address (an i32 on the stack) and a constant byte `offset` that the
// engine adds for free; `align` is log2 of the alignment we promise (a hint, never a trap).

const memarg = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];

// -- scalar instructions ---------------------------------------------------------------------------

const op2 = (opcode: number) => (a: Code, b: Code): Code => [...a, ...b, opcode];

export const i32 = {
  const: (n: number): Code => [0x41, ...sleb(n | 0)],
  load: (addr: Code, offset = 0): Code => [...addr, 0x28, ...memarg(2, offset)],
  eq: op2(0x46), ltS: op2(0x48), gtS: op2(0x4a), geS: op2(0x4e),
  add: op2(0x6a), sub: op2(0x6b), mul: op2(0x6c), divS: op2(0x6d),
  and: op2(0x71), shl: op2(0x74),
  /** a < b ? a : b, with `select` (no branch). Operands are evaluated twice: pass locals. */
  minS: (a: Code, b: Code): Code => [...a, ...b, ...a, ...b, 0x48, 0x1b],
  /** a > b ? a : b, the same way. */
  maxS: (a: Code, b: Code): Code => [...a, ...b, ...a, ...b, 0x4a, 0x1b],
  /** Atomic fetch-and-add (threads proposal): returns the old value. Sequentially consistent. */
  atomicAdd: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, 0xfe, 0x1e, ...memarg(2, offset)],
};

export const f32 = {
  const: (x: number): Code => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)],
  load: (addr: Code, offset = 0): Code => [...addr, 0x2a, ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, 0x38, ...memarg(2, offset)],
  add: op2(0x92), sub: op2(0x93), mul: op2(0x94), div: op2(0x95), min: op2(0x96), max: op2(0x97),
  /** Comparisons: an i32, 1 or 0 (false whenever either side is NaN, except `ne`). */
  eq: op2(0x5b), ne: op2(0x5c), lt: op2(0x5d), gt: op2(0x5e), le: op2(0x5f), ge: op2(0x60),
  convertI32U: (a: Code): Code => [...a, 0xb3],
  demoteF64: (a: Code): Code => [...a, 0xb6],
};

export const f64 = {
  const: (x: number): Code => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)],
  add: op2(0xa0),
  promoteF32: (a: Code): Code => [...a, 0xbb],
};

// -- SIMD: 128-bit vectors (prefix 0xfd, then the opcode as unsigned LEB128) ----------------------------

const simd = (opcode: number, ...imm: number[]): number[] => [0xfd, ...uleb(opcode), ...imm];
const simd1 = (opcode: number) => (a: Code): Code => [...a, ...simd(opcode)];
const simd2 = (opcode: number) => (a: Code, b: Code): Code => [...a, ...b, ...simd(opcode)];

export const v128 = {
  load: (addr: Code, offset = 0): Code => [...addr, ...simd(0x00, ...memarg(4, offset))],
  /** Load one f32 and repeat it in all four lanes (x86: a single `vbroadcastss`). */
  load32Splat: (addr: Code, offset = 0): Code => [...addr, ...simd(0x09, ...memarg(2, offset))],
  store: (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, ...simd(0x0b, ...memarg(4, offset))],
  const: (lanes: [number, number, number, number]): Code =>
    simd(0x0c, ...new Uint8Array(new Float32Array(lanes).buffer)),
  and: (a: Code, b: Code): Code => [...a, ...b, ...simd(0x4e)],
  /** Pick 16 bytes out of the 32 bytes of a and b (indices 0-15 from a, 16-31 from b). */
  shuffle: (a: Code, b: Code, bytes: number[]): Code => [...a, ...b, ...simd(0x0d, ...bytes)],
};

export const f32x4 = {
  splat: simd1(0x13),
  extractLane: (a: Code, lane: number): Code => [...a, ...simd(0x1f, lane)],
  /** Round to the nearest integer, ties to even. */
  nearest: simd1(0x6a),
  abs: simd1(0xe0), neg: simd1(0xe1), sqrt: simd1(0xe3),
  add: simd2(0xe4), sub: simd2(0xe5), mul: simd2(0xe6), div: simd2(0xe7),
  min: simd2(0xe8), max: simd2(0xe9),
  /** Comparisons, lane by lane: all ones where true, all zeros where false. */
  eq: simd2(0x41), ne: simd2(0x42), lt: simd2(0x43), gt: simd2(0x44), le: simd2(0x45), ge: simd2(0x46),
  /** "Pseudo-max" b > a ? b : a, lane by lane (no NaN propagation, unlike `max`): x86's `maxps`. */
  pmax: simd2(0xeb),
  /**
   * a·b + c from the relaxed-SIMD proposal: one fused multiply-add where the CPU has it (x86 FMA3),
   * else a multiply then an add. Only emitted when `WebAssembly.validate` accepts it.
   */
  relaxedMadd: (a: Code, b: Code, c: Code): Code => [...a, ...b, ...c, ...simd(0x105)],
};

export const i32x4 = {
  splat: simd1(0x11),
  /** Shift every lane by the same i32 amount. */
  shl: simd2(0xab), shrS: simd2(0xac), add: simd2(0xae), sub: simd2(0xb1),
  truncSatF32x4S: simd1(0xf8),
};

export const f64x2 = {
  extractLane: (a: Code, lane: number): Code => [...a, ...simd(0x21, lane)],
  /** The two low f32 lanes, widened to f64. */
  promoteLowF32x4: simd1(0x5f),
  splat: simd1(0x14),
  add: simd2(0xf0),
};

// -- functions and the module --------------------------------------------------------------------

export class Func {
  readonly params: Local[] = [];
  private readonly locals: ValType[] = [];
  body: Code = [];

  constructor(
    readonly name: string,
    readonly index: number,
    paramTypes: ValType[],
    readonly results: ValType[],
  ) {
    paramTypes.forEach((type, index) => this.params.push({ index, type }));
  }

  /** A new local variable. */
  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }

  /** The function body as the code section stores it: its size, its locals, the code, `end`. */
  encode(): number[] {
    const localDecls = vec(this.locals.map((t) => [1, t]));
    const bytes = [...localDecls, ...this.body, 0x0b];
    return [...uleb(bytes.length), ...bytes];
  }

  typeKey(): string {
    return `${this.params.map((p) => p.type).join(',')}->${this.results.join(',')}`;
  }
}

export class Module {
  private readonly funcs: Func[] = [];

  /**
   * @param memoryPages the imported memory `env.memory` (64 KiB pages): shared memories must
   *   declare a maximum, and are instantiated with a `WebAssembly.Memory({ shared: true })`.
   */
  constructor(private readonly memoryPages: { initial: number; maximum: number; shared: boolean }) {}

  /** Declare a function; write its body through the returned `Func` before calling `bytes()`. */
  func(name: string, params: ValType[], results: ValType[] = []): Func {
    const f = new Func(name, this.funcs.length, params, results);
    this.funcs.push(f);
    return f;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
    // One type per distinct signature.
    const typeKeys = [...new Set(this.funcs.map((f) => f.typeKey()))];
    const types = typeKeys.map((key) => {
      const f = this.funcs.find((g) => g.typeKey() === key)!;
      return [0x60, ...vec(f.params.map((p) => [p.type])), ...vec(f.results.map((r) => [r]))];
    });
    const { initial, maximum, shared } = this.memoryPages;
    const memoryImport = [...utf8('env'), ...utf8('memory'), 0x02, shared ? 0x03 : 0x01, ...uleb(initial), ...uleb(maximum)];
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
      ...section(1, vec(types)),
      ...section(2, vec([memoryImport])),
      ...section(3, vec(this.funcs.map((f) => uleb(typeKeys.indexOf(f.typeKey()))))),
      ...section(7, vec(this.funcs.map((f) => [...utf8(f.name), 0x00, ...uleb(f.index)]))),
      ...section(10, vec(this.funcs.map((f) => f.encode()))),
    ]);
  }
}
