/**
 * Hand-built hostile files for the bounds tests: deflate bombs, zips whose headers lie, and torch
 * pickles asking for huge or deeply nested values. Built byte by byte, so nothing here trusts the
 * readers under test (fflate's zip writer would compute honest sizes).
 */
import { crc32 } from '../../engine/io/zip.ts';

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/**
 * A raw deflate stream that inflates to `1 + 258·units` zero bytes: one fixed-Huffman block holding
 * the literal 0 and then `units` copies of <length 258, distance 1>, 13 bits each (RFC 1951 §3.2.6),
 * so ~1/159 of a byte per output byte, near deflate's 1032:1 limit.
 */
export function deflateBomb(units: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((3 + 8 + 13 * units + 7) / 8) + 1);
  let acc = 0;
  let bits = 0;
  let at = 0;
  // Huffman codes go most-significant bit first, so they are written bit-reversed into the LSB-first stream.
  const put = (value: number, n: number) => {
    acc |= value << bits;
    bits += n;
    while (bits >= 8) { out[at++] = acc & 0xff; acc >>>= 8; bits -= 8; }
  };
  put(0b011, 3); // BFINAL = 1, BTYPE = 01 (fixed Huffman)
  put(0x0c, 8); // literal 0: code 00110000, reversed
  for (let i = 0; i < units; i++) put(0xa3, 13); // length 285 (258 bytes): code 11000101, reversed; distance code 0: 00000
  put(0, 7); // end of block: code 0000000
  if (bits > 0) out[at++] = acc & 0xff;
  return out.subarray(0, at);
}

export interface RawEntry {
  name: string;
  /** The bytes stored in the file (already deflated when method is 8). */
  data: Uint8Array;
  method: 0 | 8;
  /** The uncompressed size the headers declare (for stored entries, data.length unless lying). */
  size: number;
  /** CRC-32 written in the headers (default: of `data`, right for stored entries). */
  crc?: number;
}

/**
 * A zip with exactly the given headers, whether they are true or not. With `zip64`, the central
 * directory's sizes move into zip64 extra fields (0xFFFFFFFF markers) and the end record into a zip64
 * end record + locator, with `zip64Size` (default: the true size) as each entry's uncompressed size.
 */
export function rawZip(entries: readonly RawEntry[], zip64?: { zip64Size?: bigint }): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Uint8Array.from(ascii(e.name));
    const crc = e.crc ?? crc32(e.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true); lv.setUint16(4, 20, true); lv.setUint16(8, e.method, true);
    lv.setUint32(14, crc, true); lv.setUint32(18, e.data.length, true); lv.setUint32(22, e.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const extra = zip64 ? 20 : 0;
    const cd = new Uint8Array(46 + name.length + extra);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true); cv.setUint16(4, 45, true); cv.setUint16(6, 45, true); cv.setUint16(10, e.method, true);
    cv.setUint32(16, crc, true); cv.setUint32(20, zip64 ? 0xffffffff : e.data.length, true); cv.setUint32(24, zip64 ? 0xffffffff : e.size, true);
    cv.setUint16(28, name.length, true); cv.setUint16(30, extra, true); cv.setUint32(42, offset, true);
    cd.set(name, 46);
    if (zip64) { // extra field 0x0001: uncompressed size, then compressed size (the order of the markers)
      cv.setUint16(46 + name.length, 1, true); cv.setUint16(48 + name.length, 16, true);
      cv.setBigUint64(50 + name.length, zip64.zip64Size ?? BigInt(e.size), true);
      cv.setBigUint64(58 + name.length, BigInt(e.data.length), true);
    }
    parts.push(local, e.data);
    central.push(cd);
    offset += local.length + e.data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true); ev.setUint16(8, entries.length, true); ev.setUint16(10, zip64 ? 0xffff : entries.length, true);
  ev.setUint32(12, cdSize, true); ev.setUint32(16, zip64 ? 0xffffffff : offset, true);
  const tail: Uint8Array[] = [];
  if (zip64) { // zip64 end record (56 bytes) and its locator (20 bytes), before the classic end record
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true); rv.setBigUint64(4, 44n, true); rv.setUint16(12, 45, true); rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true); rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true); rv.setBigUint64(48, BigInt(offset), true);
    const loc = new Uint8Array(20);
    const lc = new DataView(loc.buffer);
    lc.setUint32(0, 0x07064b50, true); lc.setBigUint64(8, BigInt(offset + cdSize), true); lc.setUint32(16, 1, true);
    tail.push(rec, loc);
  }
  const all = [...parts, ...central, ...tail, end];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of all) { out.set(p, at); at += p.length; }
  return out;
}

/** `{'w': _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', n), 0, size, stride, False, OrderedDict())}`. */
export function tensorPickle(size: readonly number[], stride: readonly number[]): Uint8Array {
  const int = (v: number) => [0x4a, ...new Uint8Array(new Int32Array([v]).buffer)]; // BININT
  const tuple = (items: number[]) => [0x28, ...items.flatMap(int), 0x74];
  return Uint8Array.from([
    0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, ...ascii('w'),
    0x63, ...ascii('torch._utils\n_rebuild_tensor_v2\n'), 0x28,
    0x28, 0x58, 7, 0, 0, 0, ...ascii('storage'), 0x63, ...ascii('torch\nFloatStorage\n'),
    0x58, 1, 0, 0, 0, ...ascii('0'), 0x58, 3, 0, 0, 0, ...ascii('cpu'), 0x4b, 1, 0x74, 0x51,
    0x4b, 0, ...tuple([...size]), ...tuple([...stride]), 0x89, 0x63, ...ascii('collections\nOrderedDict\n'), 0x29, 0x52,
    0x74, 0x52, 0x73, 0x2e]);
}

/** A dict nested `depth` deep: {'k': {'k': {... {}}}}, built with the stack, not recursion. */
export function nestedDictPickle(depth: number): Uint8Array {
  const out: number[] = [0x80, 2];
  for (let i = 0; i < depth; i++) out.push(0x7d, 0x8c, 1, 0x6b); // EMPTY_DICT, 'k'
  out.push(0x7d);
  for (let i = 0; i < depth; i++) out.push(0x73); // SETITEM folds each dict into its parent
  out.push(0x2e);
  return Uint8Array.from(out);
}

/**
 * d0 = {'a': d1, 'b': d1}, d1 = {'a': d2, 'b': d2}, ...: `levels` dicts in the file, 2^levels paths
 * through them (memo BINGET shares each one), so a naive walk never ends.
 */
export function sharedDictPickle(levels: number): Uint8Array {
  const out: number[] = [0x80, 2, 0x7d, 0x72, 0, 0, 0, 0]; // the innermost dict, memo 0
  for (let i = 1; i <= levels; i++) {
    const memo = (k: number) => [...new Uint8Array(new Uint32Array([k]).buffer)];
    // {} (MARK 'a' get(i-1) 'b' get(i-1) SETITEMS), memo i
    out.push(0x7d, 0x28, 0x8c, 1, 0x61, 0x6a, ...memo(i - 1), 0x8c, 1, 0x62, 0x6a, ...memo(i - 1), 0x75, 0x72, ...memo(i));
  }
  out.push(0x2e);
  return Uint8Array.from(out);
}

/** A torch archive `x/` around a data.pkl and stored storages. */
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  const entry = (name: string, data: Uint8Array): RawEntry => ({ name, data, method: 0, size: data.length });
  return rawZip([entry('x/data.pkl', pkl), ...Object.entries(storages).map(([k, v]) => entry(`x/data/${k}`, v))]);
}
