/**
 * A bounded zip reader: the entries of an archive held in memory, by name, checked before anything
 * is allocated. torch.save and torch.jit.save archives are zips (see torchscript.ts).
 *
 * Why not fflate's `unzipSync`: it allocates whatever size an entry declares and inflates without a
 * bound, so a small hostile file (a "deflate bomb", or a lying size field) runs the process out of
 * memory. Here, in order:
 *  1. the end-of-central-directory record (and its zip64 form) is found and its counts, sizes and
 *     offsets are checked against the file;
 *  2. every central-directory entry is checked: known method (stored / deflate), not encrypted, a safe
 *     name (no absolute path, no `..` segment, no backslash or NUL, no duplicate), its local header and
 *     data inside the file, its declared size under `ZIP_LIMITS` and no more than deflate's maximum
 *     ratio (1032:1) of its compressed size;
 *  3. only the entries the caller wants are read: a stored entry is a view into `bytes`; a deflated one
 *     is inflated in 16 KiB input steps into a buffer of the declared size, and inflating more than that
 *     fails at once, so the memory a file costs is bounded by what its (checked) headers declare;
 *  4. each entry's CRC-32 is verified.
 * Names are only ever map keys: nothing here (or anywhere in spt-seg) extracts an archive to disk.
 * Does not: multi-disk archives, encryption, methods other than 0 and 8, data descriptors that
 *   disagree with the central directory (the central directory's sizes are used), or writing zips.
 * Reference: PKWARE APPNOTE.TXT 6.3.10 (sections 4.3.7 local header, 4.3.12 central directory,
 *   4.3.14-4.3.16 zip64 and end records, 4.5.3 zip64 extra field).
 */
import { Inflate } from 'fflate';

/** Limits on what one archive may make us allocate (documented in docs/formats.md). */
export interface ZipLimits {
  /** Most central-directory entries (a CLIP ViT-B/16 .pt has ~450). */
  maxEntries: number;
  /** Largest declared uncompressed size of one entry we read, in bytes. */
  maxEntryBytes: number;
  /** Most bytes inflated over all entries read from one archive (stored entries are views, free). */
  maxInflatedBytes: number;
}

export const ZIP_LIMITS: Readonly<ZipLimits> = {
  maxEntries: 1 << 20,
  maxEntryBytes: 2 ** 31 - 1,
  maxInflatedBytes: 2 ** 30,
};

/** Every way a zip can be refused; the message names the file (`source`) and the entry. */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ReadZipOptions {
  /** Read only the entries whose name passes (all are still checked); default: all. */
  filter?: (name: string) => boolean;
  /** Override some of `ZIP_LIMITS`. */
  limits?: Partial<ZipLimits>;
}

/** One central-directory entry, after its checks. */
interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  dataStart: number;
}

/** deflate cannot expand better than 258 bytes per 2 bits (~1032:1); plus slack for tiny entries. */
const MAX_DEFLATE_RATIO = 1032;
const INFLATE_STEP = 16384;
const UTF8 = new TextDecoder();

/** Read a zip held in memory: name -> uncompressed bytes (views into `bytes` for stored entries). */
export function readZip(bytes: Uint8Array, source: string, options: ReadZipOptions = {}): Map<string, Uint8Array> {
  const limits = { ...ZIP_LIMITS, ...options.limits };
  const r = new Reader(bytes, source);
  const entries = centralDirectory(r, limits);
  const out = new Map<string, Uint8Array>();
  let inflated = 0;
  for (const e of entries) {
    if (options.filter && !options.filter(e.name)) continue;
    if (e.method === 8) {
      inflated += e.size;
      if (inflated > limits.maxInflatedBytes) {
        throw r.error(`entries inflate to more than the limit of ${limits.maxInflatedBytes} bytes (at "${e.name}")`);
      }
    }
    const data = e.method === 0 ? r.slice(e.dataStart, e.compressedSize, e.name) : inflate(r, e);
    if (crc32(data) !== e.crc) throw r.error(`entry "${e.name}" fails its CRC-32 check (corrupt file)`);
    out.set(e.name, data);
  }
  return out;
}

/** The checked entries of the central directory, in file order. */
function centralDirectory(r: Reader, limits: ZipLimits): Entry[] {
  const end = endRecord(r);
  if (end.count > limits.maxEntries) throw r.error(`${end.count} entries, more than the limit of ${limits.maxEntries}`);
  if (end.offset + end.size > end.at) throw r.error(`central directory [${end.offset}, +${end.size}] overlaps its end record at ${end.at}`);
  const entries: Entry[] = [];
  const names = new Set<string>();
  let at = end.offset;
  for (let i = 0; i < end.count; i++) {
    if (r.u32(at) !== 0x02014b50) throw r.error(`central directory entry ${i} at byte ${at} has a bad signature`);
    const flags = r.u16(at + 8);
    const method = r.u16(at + 10);
    const nameLength = r.u16(at + 28);
    const extraLength = r.u16(at + 30);
    const commentLength = r.u16(at + 32);
    const name = r.text(at + 46, nameLength);
    let compressedSize = r.u32(at + 20);
    let size = r.u32(at + 24);
    let localOffset = r.u32(at + 42);
    // zip64: the fields that overflowed 32 bits follow, in this order, in extra field 0x0001.
    const wide = [size === 0xffffffff, compressedSize === 0xffffffff, localOffset === 0xffffffff];
    if (wide.some(Boolean)) {
      const ext = zip64Extra(r, at + 46 + nameLength, extraLength, name);
      let k = 0;
      if (wide[0]) size = ext(k++);
      if (wide[1]) compressedSize = ext(k++);
      if (wide[2]) localOffset = ext(k++);
    }
    if (flags & 1) throw r.error(`entry "${name}" is encrypted`);
    if (method !== 0 && method !== 8) throw r.error(`entry "${name}" uses compression method ${method} (only stored and deflate are supported)`);
    checkName(r, name);
    if (names.has(name)) throw r.error(`entry "${name}" appears twice`);
    names.add(name);
    if (size > limits.maxEntryBytes) {
      throw r.error(`entry "${name}" declares ${size} bytes, more than the limit of ${limits.maxEntryBytes}`);
    }
    if (method === 0 && size !== compressedSize) throw r.error(`stored entry "${name}" has sizes ${compressedSize} and ${size}`);
    if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw r.error(`entry "${name}" declares ${size} bytes from ${compressedSize} compressed: more than deflate can expand`);
    }
    if (r.u32(localOffset) !== 0x04034b50) throw r.error(`entry "${name}": no local header at byte ${localOffset}`);
    const dataStart = localOffset + 30 + r.u16(localOffset + 26) + r.u16(localOffset + 28);
    if (dataStart + compressedSize > r.bytes.length) {
      throw r.error(`entry "${name}": data [${dataStart}, +${compressedSize}] runs past the end of the file (${r.bytes.length} bytes)`);
    }
    entries.push({ name, method, crc: r.u32(at + 16), compressedSize, size, dataStart });
    at += 46 + nameLength + extraLength + commentLength;
    if (at > end.offset + end.size) throw r.error(`central directory entry ${i} runs past the directory's declared size`);
  }
  return entries;
}

/** The end-of-central-directory record, or the zip64 one it points to. */
function endRecord(r: Reader): { count: number; size: number; offset: number; at: number } {
  const n = r.bytes.length;
  let at = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 0xffff); i--) {
    if (r.bytes[i] === 0x50 && r.u32(i) === 0x06054b50) { at = i; break; }
  }
  if (at < 0) throw r.error('no end-of-central-directory record (truncated or not a zip)');
  if (r.u16(at + 4) !== 0 || r.u16(at + 6) !== 0) throw r.error('multi-disk archives are not supported');
  let count = r.u16(at + 10);
  let size = r.u32(at + 12);
  let offset = r.u32(at + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = at - 20;
    if (locator < 0 || r.u32(locator) !== 0x07064b50) throw r.error('zip64 sizes without a zip64 end-record locator');
    const record = r.u64(locator + 8, 'zip64 end record offset');
    if (r.u32(record) !== 0x06064b50) throw r.error(`no zip64 end record at byte ${record}`);
    count = r.u64(record + 32, 'zip64 entry count');
    size = r.u64(record + 40, 'zip64 central directory size');
    offset = r.u64(record + 48, 'zip64 central directory offset');
    at = record;
  }
  return { count, size, offset, at };
}

/** Reader of the zip64 extra field's 8-byte values, in order. */
function zip64Extra(r: Reader, start: number, length: number, name: string): (k: number) => number {
  for (let at = start; at + 4 <= start + length;) {
    const id = r.u16(at);
    const size = r.u16(at + 2);
    if (id === 0x0001) {
      return (k) => {
        if (8 * k + 8 > size) throw r.error(`entry "${name}": zip64 extra field is too short`);
        return r.u64(at + 4 + 8 * k, `entry "${name}" zip64 size`);
      };
    }
    at += 4 + size;
  }
  throw r.error(`entry "${name}" has 32-bit overflow markers but no zip64 extra field`);
}

/** Names are map keys only; still, refuse those that would escape a directory if anyone extracted them. */
function checkName(r: Reader, name: string): void {
  const unsafe = name.length === 0 || name.startsWith('/') || /^[A-Za-z]:/.test(name) || /[\\\0]/.test(name) ||
    name.split('/').includes('..');
  if (unsafe) throw r.error(`unsafe entry name ${JSON.stringify(name.slice(0, 200))} (absolute, "..", backslash or NUL)`);
}

/** Inflate one entry into exactly its declared size, stopping as soon as it would exceed it. */
function inflate(r: Reader, e: Entry): Uint8Array {
  const out = new Uint8Array(e.size);
  let written = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    if (written + chunk.length > e.size) throw r.error(`entry "${e.name}" inflates past its declared ${e.size} bytes`);
    out.set(chunk, written);
    written += chunk.length;
    done ||= final;
  });
  const input = r.bytes.subarray(e.dataStart, e.dataStart + e.compressedSize);
  try {
    for (let at = 0; at < input.length || at === 0; at += INFLATE_STEP) {
      inflater.push(input.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= input.length);
    }
  } catch (err) {
    if (err instanceof ZipError) throw err;
    throw r.error(`entry "${e.name}" is not valid deflate data (${(err as Error).message})`);
  }
  if (!done || written !== e.size) throw r.error(`entry "${e.name}" inflates to ${written} bytes, not its declared ${e.size}`);
  return out;
}

/** Bounds-checked little-endian reads that fail as ZipErrors naming the file. */
class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly source: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(at: number, n: number): void {
    if (!(at >= 0 && at + n <= this.bytes.length)) throw this.error(`truncated: reading ${n} bytes at ${at}, file has ${this.bytes.length}`);
  }
  u16(at: number): number { this.check(at, 2); return this.view.getUint16(at, true); }
  u32(at: number): number { this.check(at, 4); return this.view.getUint32(at, true); }
  u64(at: number, what: string): number {
    this.check(at, 8);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`${what} ${v} is beyond 2^53`);
    return Number(v);
  }
  slice(at: number, n: number, what: string): Uint8Array {
    if (!(at >= 0 && at + n <= this.bytes.length)) throw this.error(`"${what}" runs past the end of the file`);
    return this.bytes.subarray(at, at + n);
  }
  text(at: number, n: number): string { return UTF8.decode(this.slice(at, n, 'entry name')); }
  error(message: string): ZipError { return new ZipError(`${this.source}: ${message}`); }
}

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip stores it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
