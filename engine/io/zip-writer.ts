/**
 * A minimal zip writer: stored (uncompressed) entries, each entry's data aligned to a boundary, and
 * nothing that varies between runs (fixed timestamps), so the same entries always give the same bytes.
 *
 * Why aligned: torch's own writer (caffe2 PyTorchStreamWriter, on miniz) pads every local header with
 * an extra field (id "FB", 0x4246) so that each record's data starts at a multiple of 64 bytes; readers
 * (ours in zip.ts / torchscript.ts, torch's mmap loader) can then view tensors in place.
 * Layout (PKWARE APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16): per entry a local header + name + padding extra
 * field + data; then the central directory; then the end-of-central-directory record.
 * Does not: compress, write zip64 (every offset and size must stay below 4 GiB: refused otherwise),
 * data descriptors, directories, or file attributes.
 */
import { crc32 } from './zip.ts';

export interface ZipEntry {
  /** Entry name, with `/` separators (e.g. `archive/data/0`). */
  name: string;
  data: Uint8Array;
}

const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_RECORD = 22;
const PAD_FIELD = 0x4246; // "FB", as torch's writer
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, the first date a zip can hold (time 00:00)
const LIMIT = 0xffffffff;

/** The bytes of a zip holding `entries` stored, in order, each entry's data aligned to `align` bytes. */
export function writeZip(entries: readonly ZipEntry[], align = 64): Uint8Array {
  const utf8 = new TextEncoder();
  const names = entries.map((e) => utf8.encode(e.name));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new Error(`zip: duplicate entry name ${e.name}`);
    seen.add(e.name);
  }
  // Pass 1: where each local header and its data go.
  const at: number[] = [], pads: number[] = [];
  let offset = 0;
  entries.forEach((e, i) => {
    const bare = offset + LOCAL_HEADER + names[i].length;
    let pad = (align - (bare % align)) % align;
    if (pad > 0 && pad < 4) pad += align; // an extra field needs 4 bytes of its own header
    at.push(offset);
    pads.push(pad);
    offset = bare + pad + e.data.length;
  });
  const centralAt = offset;
  const centralSize = names.reduce((n, name) => n + CENTRAL_HEADER + name.length, 0);
  const total = centralAt + centralSize + END_RECORD;
  if (total > LIMIT || entries.length > 0xffff) throw new Error(`zip: ${total} bytes or ${entries.length} entries need zip64, which this writer does not write`);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const crcs = entries.map((e) => crc32(e.data));
  // Pass 2: local headers and data.
  entries.forEach((e, i) => {
    const p = at[i];
    v.setUint32(p, 0x04034b50, true);
    header(v, p + 4, crcs[i], e.data.length, names[i].length);
    v.setUint16(p + 28, pads[i], true); // extra field length
    out.set(names[i], p + LOCAL_HEADER);
    const extra = p + LOCAL_HEADER + names[i].length;
    if (pads[i] > 0) {
      v.setUint16(extra, PAD_FIELD, true);
      v.setUint16(extra + 2, pads[i] - 4, true); // the padding bytes themselves stay 0
    }
    out.set(e.data, extra + pads[i]);
  });
  // The central directory.
  let c = centralAt;
  entries.forEach((e, i) => {
    v.setUint32(c, 0x02014b50, true);
    v.setUint16(c + 4, 20, true); // version made by: 2.0, MS-DOS attributes
    header(v, c + 6, crcs[i], e.data.length, names[i].length);
    // extra length 0 (+30), comment 0, disk 0, internal and external attributes 0
    v.setUint32(c + 42, at[i], true);
    out.set(names[i], c + CENTRAL_HEADER);
    c += CENTRAL_HEADER + names[i].length;
  });
  v.setUint32(c, 0x06054b50, true);
  v.setUint16(c + 8, entries.length, true);
  v.setUint16(c + 10, entries.length, true);
  v.setUint32(c + 12, centralSize, true);
  v.setUint32(c + 16, centralAt, true);
  return out;
}

/** The fields local and central headers share, from "version needed" to the name length. */
function header(v: DataView, p: number, crc: number, size: number, nameLength: number): void {
  v.setUint16(p, 20, true); // version needed to extract: 2.0
  v.setUint16(p + 2, 0x0800, true); // flags: names are UTF-8
  v.setUint16(p + 4, 0, true); // method: stored
  v.setUint16(p + 6, 0, true); // time 00:00:00
  v.setUint16(p + 8, DOS_DATE, true);
  v.setUint32(p + 10, crc, true);
  v.setUint32(p + 14, size, true); // compressed size
  v.setUint32(p + 18, size, true); // uncompressed size
  v.setUint16(p + 22, nameLength, true);
}
