/**
 * Mutators for the fuzz suite: seeded, deterministic ways to break a valid file.
 *
 * Does:
 *  - byte-level mutations any format gets (AFL's classics): bit flips, byte sets, truncation,
 *    insertion, deletion, duplication of a range, "interesting" integers written over 1/2/4/8 bytes in
 *    either byte order, and whole random files;
 *  - semantic edits of the structures inside formats: `mutateJson` (a value somewhere in a JSON tree
 *    replaced by an interesting one, a key dropped or added, an array grown or cut), `zipFields` (the
 *    offset/size/count fields of a zip's local headers, central directory and end record), and
 *    `mutatePickle` (opcodes inserted, argument bytes and lengths overwritten).
 * Does not: know any parser; the suites in this folder pick seeds and mutators per format.
 * Every function takes the `Rng`, so a (seed, case index) pair always reproduces the same input.
 */

/** A small seeded generator (mulberry32): fast, 32-bit state, good enough to pick mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number { return n <= 0 ? 0 : this.u32() % n; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]; }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
  bytes(n: number): Uint8Array { return Uint8Array.from({ length: n }, () => this.int(256)); }
}

/** Integers that break length and offset checks: zero, -1, sign and width boundaries. */
export const INTERESTING: readonly bigint[] = [
  0n, 1n, 2n, 7n, 8n, 16n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n,
  2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n,
  2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, // 2^64-1 is also -1 in two's complement
];

/** Values for JSON fields: the integers above as numbers, and values of the wrong type. */
export const INTERESTING_JSON: readonly unknown[] = [
  0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63), 1.5, 1e308, -0, 'NaN', '', 'F32',
  'I64', 'BOOL', null, true, [], [0], [-1], [2 ** 53, 2 ** 53], [0, 2 ** 64], [1, 2, 3, 4, 5, 6, 7, 8, 9], {}, { a: 1 },
];

/** Write `value` (two's complement, `width` bytes) at `at`, little- or big-endian. */
export function writeInt(bytes: Uint8Array, at: number, width: number, value: bigint, littleEndian = true): void {
  let v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width && at + i < bytes.length; i++) {
    const k = littleEndian ? i : width - 1 - i;
    if (at + k >= 0 && at + k < bytes.length) bytes[at + k] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export type Mutator = (input: Uint8Array, rng: Rng) => Uint8Array;

/**
 * A fresh copy. Not `bytes.slice()`: on a Node Buffer (what readFileSync and pngjs return) that is a
 * view, and mutating it would corrupt the seed for every later case.
 */
export const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

/** The byte-level mutators, each returning a new array. */
export const BYTE_MUTATORS: Readonly<Record<string, Mutator>> = {
  flipBit: (b, rng) => { const o = copy(b); if (o.length) { const i = rng.int(o.length); o[i] ^= 1 << rng.int(8); } return o; },
  setByte: (b, rng) => { const o = copy(b); if (o.length) o[rng.int(o.length)] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]); return o; },
  truncate: (b, rng) => copy(b.subarray(0, rng.int(b.length))),
  insert: (b, rng) => splice(b, rng.int(b.length + 1), 0, rng.bytes(1 + rng.int(16))),
  delete: (b, rng) => { const at = rng.int(b.length); return splice(b, at, 1 + rng.int(Math.min(64, b.length - at)), new Uint8Array(0)); },
  duplicate: (b, rng) => { const at = rng.int(b.length); const n = 1 + rng.int(64); return splice(b, rng.int(b.length + 1), 0, copy(b.subarray(at, at + n))); },
  interesting: (b, rng) => {
    const o = copy(b);
    writeInt(o, rng.int(o.length), rng.pick([1, 2, 4, 8]), rng.pick(INTERESTING), rng.chance(0.7));
    return o;
  },
  random: (_b, rng) => rng.bytes(rng.int(256)),
};

/** `bytes` with `remove` bytes at `at` replaced by `insert`. */
export function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  at = Math.min(at, bytes.length);
  remove = Math.min(remove, bytes.length - at);
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** One to three byte-level mutations in a row. */
export function mutateBytes(input: Uint8Array, rng: Rng): Uint8Array {
  const names = Object.keys(BYTE_MUTATORS);
  let out = input;
  for (let k = 1 + rng.int(3); k > 0; k--) out = BYTE_MUTATORS[rng.pick(names)](out, rng);
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A deep copy of `value` with one random edit somewhere in its tree. */
export function mutateJson(value: unknown, rng: Rng): unknown {
  const copy = structuredClone(value);
  const holders: (Record<string, unknown> | unknown[])[] = [];
  const walk = (v: unknown) => {
    if (v !== null && typeof v === 'object') {
      holders.push(v as Record<string, unknown>);
      for (const child of Object.values(v)) walk(child);
    }
  };
  walk(copy);
  if (holders.length === 0) return rng.pick(INTERESTING_JSON);
  const h = rng.pick(holders);
  const keys = Object.keys(h);
  const edit = rng.int(5);
  if (Array.isArray(h)) {
    if (edit === 0) h.pop();
    else if (edit === 1) h.push(rng.pick(INTERESTING_JSON));
    else if (h.length) h[rng.int(h.length)] = rng.pick(INTERESTING_JSON);
  } else if (edit === 0 && keys.length) {
    delete h[rng.pick(keys)];
  } else if (edit === 1) {
    h[rng.pick(['dtype', 'shape', 'data_offsets', '__metadata__', 'x', 'vision', 'width'])] = rng.pick(INTERESTING_JSON);
  } else if (keys.length) {
    h[rng.pick(keys)] = rng.pick(INTERESTING_JSON);
  }
  return copy;
}

/** JSON text with an edit at the text level: NaN / Infinity literals, a cut, nesting, or a byte mutation. */
export function mutateJsonText(text: string, rng: Rng): string {
  switch (rng.int(4)) {
    case 0: return text.replace(/-?\d+(\.\d+)?/, rng.pick(['NaN', 'Infinity', '-1', '1e999', '18446744073709551615']));
    case 1: return text.slice(0, rng.int(text.length));
    case 2: { const depth = 1 + rng.int(5000); return '['.repeat(depth) + ']'.repeat(depth); }
    default: return new TextDecoder().decode(mutateBytes(new TextEncoder().encode(text), rng));
  }
}

// ---------------------------------------------------------------------------------------------
// zip

/** Byte positions of the size, offset and count fields of every zip header, with their widths. */
export function zipFields(zip: Uint8Array): { at: number; width: number }[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const fields: { at: number; width: number }[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip[i] !== 0x50 || zip[i + 1] !== 0x4b) continue;
    const sig = view.getUint32(i, true);
    // local header: crc, sizes, name / extra lengths
    if (sig === 0x04034b50) fields.push(...[14, 18, 22].map((o) => ({ at: i + o, width: 4 })), ...[26, 28].map((o) => ({ at: i + o, width: 2 })));
    // central directory: method, crc, sizes, name / extra / comment lengths, local header offset
    if (sig === 0x02014b50) {
      fields.push(...[16, 20, 24, 42].map((o) => ({ at: i + o, width: 4 })), ...[10, 28, 30, 32].map((o) => ({ at: i + o, width: 2 })));
    }
    // end record: entry counts, directory size and offset, comment length
    if (sig === 0x06054b50) fields.push(...[8, 10, 20].map((o) => ({ at: i + o, width: 2 })), ...[12, 16].map((o) => ({ at: i + o, width: 4 })));
  }
  return fields;
}

/** One header field of a zip overwritten with an interesting value (or a random one). */
export function mutateZipField(zip: Uint8Array, rng: Rng): Uint8Array {
  const fields = zipFields(zip);
  if (fields.length === 0) return mutateBytes(zip, rng);
  const { at, width } = rng.pick(fields);
  const out = copy(zip);
  const value = rng.chance(0.8) ? rng.pick(INTERESTING) : BigInt(rng.u32());
  writeInt(out, at, width, value);
  return out;
}

// ---------------------------------------------------------------------------------------------
// pickle

/** Opcodes of the binary protocols (and a few we refuse), for insertion. */
const PICKLE_OPS = [
  0x80, 0x95, 0x4e, 0x88, 0x89, 0x4b, 0x4d, 0x4a, 0x8a, 0x8b, 0x47, 0x58, 0x8c, 0x8d, 0x54, 0x55, 0x42, 0x43, 0x8e,
  0x28, 0x29, 0x5d, 0x7d, 0x85, 0x86, 0x87, 0x74, 0x6c, 0x64, 0x61, 0x65, 0x73, 0x75, 0x30, 0x31, 0x32, 0x71, 0x72,
  0x94, 0x68, 0x6a, 0x63, 0x93, 0x52, 0x81, 0x62, 0x51, 0x2e, 0x49, 0x69, 0x92, 0x00, 0xff,
];

/** A pickle with opcodes inserted or replaced, an argument overwritten by an interesting value, or a sequence repeated. */
export function mutatePickle(pkl: Uint8Array, rng: Rng): Uint8Array {
  switch (rng.int(4)) {
    case 0: { // insert an opcode with a random argument
      const arg = rng.pick([new Uint8Array(0), rng.bytes(1), rng.bytes(4), rng.bytes(8)]);
      return splice(pkl, rng.int(pkl.length + 1), 0, Uint8Array.of(rng.pick(PICKLE_OPS), ...arg));
    }
    case 1: { const o = copy(pkl); if (o.length) o[rng.int(o.length)] = rng.pick(PICKLE_OPS); return o; }
    case 2: { const o = copy(pkl); writeInt(o, rng.int(o.length), rng.pick([1, 4, 8]), rng.pick(INTERESTING)); return o; }
    default: { // repeat a short run of opcodes many times (deep nesting, memo growth, long stacks)
      const at = rng.int(pkl.length);
      const run = copy(pkl.subarray(at, at + 1 + rng.int(8)));
      const times = 1 + rng.int(2000);
      const rep = new Uint8Array(run.length * times);
      for (let i = 0; i < times; i++) rep.set(run, i * run.length);
      return splice(pkl, at, 0, rep);
    }
  }
}
