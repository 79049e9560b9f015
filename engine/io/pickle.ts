/**
 * A restricted Python unpickler that executes nothing.
 *
 * Python's pickle is a small stack machine whose GLOBAL + REDUCE opcodes call arbitrary functions, so a
 * real unpickler runs whatever a file names (`os.system`, ...). This one only *describes* what it reads:
 *  - GLOBAL / STACK_GLOBAL are resolved by the caller's `resolveGlobal`; a name it does not return is
 *    refused with `refusing pickle global "module.name"`;
 *  - REDUCE / NEWOBJ on a `PickleFunction` run its TypeScript body (written by the caller, e.g. to
 *    rebuild a tensor); on a `PickleClass` they make a `PickleObject` whose BUILD state is recorded;
 *  - BINPERSID hands the persistent id to the caller's `persistentLoad` (how torch refers to storages).
 * Supports the binary opcodes of protocols 2-4 that torch.save / torch.jit.save write, plus a few older
 * binary ones; any other opcode is refused as `unknown pickle opcode 0x..`.
 * Bounded: the stack, the memo and LONG integers are capped by `PICKLE_LIMITS` (a LONG of a million
 * bytes would cost quadratic time to convert), and every length is checked against the bytes left
 * before anything is read, so a hostile pickle fails with a `PickleError` naming the file.
 * The machine is a loop, not a recursion: nesting depth costs no JS stack here (the callers' walks
 * over the result bound their own depth, see torchscript.ts).
 * Does not support: text protocol 0 opcodes (INT, STRING, PUT...), sets, NEWOBJ_EX, out-of-band buffers.
 * Values: None -> null, int -> number (bigint beyond 2^53), float -> number, str -> string,
 * bytes -> Uint8Array, tuple and list -> array, dict -> Map (attributes BUILD sets on a dict, such as a
 * torch state dict's `_metadata`, are kept apart from its items: `dictAttributes`).
 * Reference: CPython Lib/pickletools.py (opcode table and semantics), Lib/pickle.py (_Unpickler).
 */

export type PickleKey = string | number | bigint | boolean | null;
export type PickleDict = Map<PickleKey, PickleValue>;
export type PickleValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue[] | PickleDict | PickleObject | PickleClass | PickleFunction | PickleBox;

/** A class named by GLOBAL; instantiating it (NEWOBJ / REDUCE) runs no code, it makes a PickleObject. */
export class PickleClass {
  constructor(readonly qualname: string) {}
}

/** An allowed callable: REDUCE / NEWOBJ call `call` with the argument tuple. */
export class PickleFunction {
  constructor(readonly qualname: string, readonly call: (args: PickleValue[]) => PickleValue) {}
}

/** An instance of a PickleClass: its constructor arguments and the state BUILD gave it. */
export class PickleObject {
  state: PickleValue = null;
  constructor(readonly className: string, readonly args: PickleValue[]) {}
}

/** A value the caller made (a storage, a tensor...), carried through the machine untouched. */
export class PickleBox<T = unknown> {
  constructor(readonly tag: string, readonly value: T) {}
}

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Caps on one unpickling (documented in docs/formats.md). */
export interface PickleLimits {
  /** Most values on the stack at once. */
  maxStack: number;
  /** Most memo entries. */
  maxMemo: number;
  /** Longest LONG1 / LONG4 integer, in bytes (torch writes at most 8). */
  maxLongBytes: number;
}

export const PICKLE_LIMITS: Readonly<PickleLimits> = {
  maxStack: 1 << 24,
  maxMemo: 1 << 22,
  maxLongBytes: 1024,
};

export interface UnpickleOptions {
  /** Map an allowed `module.name` to a value; `undefined` refuses it. */
  resolveGlobal(module: string, name: string): PickleValue | undefined;
  /** Resolve a persistent id (BINPERSID); without it, BINPERSID is refused. */
  persistentLoad?(pid: PickleValue): PickleValue;
  /** Shown in error messages (a file name). */
  source?: string;
  /** Override some of `PICKLE_LIMITS`. */
  limits?: Partial<PickleLimits>;
}

/** Run the restricted machine over `bytes` and return the value before STOP. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
  return new Unpickler(bytes, options).run();
}

/** The state BUILD gave each dict (Python attributes, not items), by dict. */
const ATTRIBUTES = new WeakMap<PickleDict, PickleValue>();

/**
 * The attributes BUILD set on a dict, or undefined: for `torch.save(model.state_dict())` the dict
 * `{'_metadata': OrderedDict({'': {'version': 1}, ...})}` (Python's OrderedDict.__reduce__ pickles its
 * `__dict__` after its items).
 *
 * @example
 * dictAttributes(root as PickleDict)?.get('_metadata');
 */
export function dictAttributes(dict: PickleDict): PickleValue | undefined {
  return ATTRIBUTES.get(dict);
}

const MARK = Symbol('mark');
const UTF8 = new TextDecoder();
type Slot = PickleValue | typeof MARK;

class Unpickler {
  private pos = 0;
  private stack: Slot[] = [];
  private memo = new Map<number, PickleValue>();
  private readonly view: DataView;
  private readonly source: string;
  private readonly limits: PickleLimits;

  constructor(private readonly bytes: Uint8Array, private readonly options: UnpickleOptions) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.source = options.source ?? '<pickle>';
    this.limits = { ...PICKLE_LIMITS, ...options.limits };
  }

  run(): PickleValue {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      if (op === 0x2e) return this.pop(); // STOP
      this.step(op, at);
    }
  }

  // One opcode. Grouped as in pickletools: framing, constants, containers, memo, objects.
  private step(op: number, at: number): void {
    switch (op) {
      case 0x80: this.proto(); return; // PROTO
      case 0x95: this.take(8); return; // FRAME (a length hint only)
      case 0x4e: this.push(null); return; // NONE
      case 0x88: this.push(true); return; // NEWTRUE
      case 0x89: this.push(false); return; // NEWFALSE
      case 0x4b: this.push(this.u8()); return; // BININT1
      case 0x4d: this.push(this.u16()); return; // BININT2
      case 0x4a: this.push(this.i32()); return; // BININT
      case 0x8a: this.push(this.long(this.u8())); return; // LONG1
      case 0x8b: this.push(this.long(this.u32())); return; // LONG4
      case 0x47: this.push(this.f64()); return; // BINFLOAT
      case 0x58: this.push(this.utf8(this.u32())); return; // BINUNICODE
      case 0x8c: this.push(this.utf8(this.u8())); return; // SHORT_BINUNICODE
      case 0x8d: this.push(this.utf8(this.u64())); return; // BINUNICODE8
      case 0x54: this.push(this.latin1(this.u32())); return; // BINSTRING
      case 0x55: this.push(this.latin1(this.u8())); return; // SHORT_BINSTRING
      case 0x42: this.push(this.take(this.u32()).slice()); return; // BINBYTES
      case 0x43: this.push(this.take(this.u8()).slice()); return; // SHORT_BINBYTES
      case 0x8e: this.push(this.take(this.u64()).slice()); return; // BINBYTES8
      case 0x28: this.pushSlot(MARK); return; // MARK
      case 0x29: this.push([]); return; // EMPTY_TUPLE
      case 0x5d: this.push([]); return; // EMPTY_LIST
      case 0x7d: this.push(new Map()); return; // EMPTY_DICT
      case 0x85: this.push(this.popN(1)); return; // TUPLE1
      case 0x86: this.push(this.popN(2)); return; // TUPLE2
      case 0x87: this.push(this.popN(3)); return; // TUPLE3
      case 0x74: this.push(this.popMark()); return; // TUPLE
      case 0x6c: this.push(this.popMark()); return; // LIST
      case 0x64: this.push(this.setItems(new Map(), this.popMark())); return; // DICT
      case 0x61: { const [x] = this.popN(1); this.listOf(this.top()).push(x); return; } // APPEND: pop the item, then the list is on top
      case 0x65: { const items = this.popMark(); const list = this.listOf(this.top()); for (const x of items) list.push(x); return; } // APPENDS (a loop: push(...items) overflows the JS stack past ~100k items)
      case 0x73: { const kv = this.popN(2); this.setItems(this.dictOf(this.top()), kv); return; } // SETITEM
      case 0x75: { const kv = this.popMark(); this.setItems(this.dictOf(this.top()), kv); return; } // SETITEMS
      case 0x30: this.pop(); return; // POP
      case 0x31: this.popMark(); return; // POP_MARK
      case 0x32: this.push(this.top()); return; // DUP
      case 0x71: this.memoSet(this.u8()); return; // BINPUT
      case 0x72: this.memoSet(this.u32()); return; // LONG_BINPUT
      case 0x94: this.memoSet(this.memo.size); return; // MEMOIZE
      case 0x68: this.push(this.memoGet(this.u8())); return; // BINGET
      case 0x6a: this.push(this.memoGet(this.u32())); return; // LONG_BINGET
      case 0x63: this.push(this.global(this.line(), this.line())); return; // GLOBAL
      case 0x93: { const [m, n] = this.popN(2).map((v) => this.str(v)); this.push(this.global(m, n)); return; } // STACK_GLOBAL
      case 0x52: { const [f, args] = this.popN(2); this.push(this.call(f, args)); return; } // REDUCE
      case 0x81: { const [c, args] = this.popN(2); this.push(this.call(c, args)); return; } // NEWOBJ
      case 0x62: { const state = this.pop(); this.build(this.top(), state); return; } // BUILD
      case 0x51: this.push(this.persistent(this.pop())); return; // BINPERSID
      default:
        throw this.error(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }

  // --- reading bytes

  private take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw this.error(`pickle truncated at byte ${this.pos}`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private u8(): number { return this.take(1)[0]; }
  private u16(): number { this.take(2); return this.view.getUint16(this.pos - 2, true); }
  private u32(): number { this.take(4); return this.view.getUint32(this.pos - 4, true); }
  private i32(): number { this.take(4); return this.view.getInt32(this.pos - 4, true); }
  private f64(): number { this.take(8); return this.view.getFloat64(this.pos - 8, false); } // big-endian
  private u64(): number {
    this.take(8);
    const n = this.view.getBigUint64(this.pos - 8, true);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`length ${n} too large`);
    return Number(n);
  }
  private utf8(n: number): string { return UTF8.decode(this.take(n)); }
  private latin1(n: number): string { return Array.from(this.take(n), (c) => String.fromCharCode(c)).join(''); }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw this.error(`pickle truncated in a GLOBAL at byte ${this.pos}`);
    return this.latin1(end - this.pos + 1).slice(0, -1);
  }
  /** Little-endian two's complement integer of n bytes (LONG1 / LONG4). */
  private long(n: number): number | bigint {
    if (n > this.limits.maxLongBytes) throw this.error(`LONG of ${n} bytes, more than the limit of ${this.limits.maxLongBytes}`);
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  private proto(): void {
    const version = this.u8();
    if (version > 5) throw this.error(`unsupported pickle protocol ${version}`);
  }

  // --- the stack

  private push(v: PickleValue): void { this.pushSlot(v); }
  private pushSlot(v: Slot): void {
    if (this.stack.length >= this.limits.maxStack) throw this.error(`stack deeper than the limit of ${this.limits.maxStack} at byte ${this.pos}`);
    this.stack.push(v);
  }
  private pop(): PickleValue {
    const v = this.stack.pop();
    if (v === undefined || v === MARK) throw this.error(`pickle stack underflow at byte ${this.pos}`);
    return v;
  }
  private top(): PickleValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) throw this.error(`pickle stack underflow at byte ${this.pos}`);
    return v;
  }
  private popN(n: number): PickleValue[] {
    const out = new Array<PickleValue>(n);
    for (let i = n - 1; i >= 0; i--) out[i] = this.pop();
    return out;
  }
  private popMark(): PickleValue[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) throw this.error(`pickle MARK missing at byte ${this.pos}`);
    const items = this.stack.splice(at) as PickleValue[];
    items.shift(); // the mark itself
    return items;
  }
  private memoSet(i: number): void {
    if (!this.memo.has(i) && this.memo.size >= this.limits.maxMemo) throw this.error(`more memo entries than the limit of ${this.limits.maxMemo}`);
    this.memo.set(i, this.top());
  }
  private memoGet(i: number): PickleValue {
    if (!this.memo.has(i)) throw this.error(`pickle memo ${i} read before it was written`);
    return this.memo.get(i)!;
  }

  // --- containers and objects

  private listOf(v: PickleValue): PickleValue[] {
    if (!Array.isArray(v)) throw this.error(`APPEND to a ${describe(v)}`);
    return v;
  }
  private dictOf(v: PickleValue): PickleDict {
    if (!(v instanceof Map)) throw this.error(`SETITEM on a ${describe(v)}`);
    return v;
  }
  private setItems(dict: PickleDict, kv: PickleValue[]): PickleDict {
    if (kv.length % 2) throw this.error('odd number of items for a dict');
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i];
      if (k !== null && typeof k === 'object') throw this.error(`unsupported dict key: a ${describe(k)}`);
      dict.set(k, kv[i + 1]);
    }
    return dict;
  }
  private str(v: PickleValue): string {
    if (typeof v !== 'string') throw this.error(`STACK_GLOBAL needs strings, got a ${describe(v)}`);
    return v;
  }
  private global(module: string, name: string): PickleValue {
    const v = this.options.resolveGlobal(module, name);
    if (v === undefined) throw this.error(`refusing pickle global "${module}.${name}" (not on the allow-list)`);
    return v;
  }
  private call(f: PickleValue, args: PickleValue): PickleValue {
    if (!Array.isArray(args)) throw this.error(`call arguments are a ${describe(args)}, not a tuple`);
    if (f instanceof PickleFunction) return f.call(args);
    if (f instanceof PickleClass) return new PickleObject(f.qualname, args);
    throw this.error(`cannot call a ${describe(f)}`);
  }
  private build(obj: PickleValue, state: PickleValue): void {
    if (obj instanceof PickleObject) obj.state = state;
    // On a dict (an OrderedDict's `_metadata`), BUILD sets Python attributes, not items: kept apart.
    else if (obj instanceof Map) ATTRIBUTES.set(obj, state);
    else throw this.error(`BUILD on a ${describe(obj)}`);
  }
  private persistent(pid: PickleValue): PickleValue {
    if (!this.options.persistentLoad) throw this.error('persistent ids are not allowed here');
    return this.options.persistentLoad(pid);
  }
  private error(message: string): PickleError {
    return new PickleError(`${this.source}: ${message}`);
  }
}

/** A short description of a value for error messages. */
export function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'tuple/list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PickleObject) return `${v.className} object`;
  if (v instanceof PickleClass || v instanceof PickleFunction) return v.qualname;
  if (v instanceof PickleBox) return v.tag;
  return typeof v;
}
