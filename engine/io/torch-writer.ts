/**
 * Write a state dict as a PyTorch zip archive that `torch.load(path, weights_only=True)` reads: the
 * inverse of torchscript.ts's reader for the plain `torch.save(state_dict)` case.
 *
 * The archive (what torch.save writes, caffe2/serialize/inline_container.cc): one top folder
 * `<name>/` holding `data.pkl` (the pickled object), `byteorder` ("little"), `data/<i>` (one raw
 * little-endian storage per tensor) and `version` ("3"), stored, data aligned to 64 bytes (zip-writer.ts).
 * data.pkl is pickle protocol 2 (torch.save's default) built from nothing but
 *   collections.OrderedDict                      the state dict (and each tensor's empty backward hooks)
 *   torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())
 *   persistent ids ('storage', torch.FloatStorage, '<i>', 'cpu', numel)   (BINPERSID)
 * plus tuples, strings, ints, bools, None and plain dicts: every global is on torch's weights_only
 * allow-list, so nothing in the file can run code.
 * `wrap` puts the state dict under "state_dict" beside a "meta" dict, as mmcv / mmseg checkpoints are.
 * `metadata` becomes the state dict's `_metadata` attribute, as torch.save(model.state_dict()) writes it
 * (per-module dicts, '' = the root module): after the items, `{'_metadata': ...}` and BUILD, which
 * torch's weights_only unpickler allows on an OrderedDict; load_state_dict hands each module its entry.
 * Deterministic: keys in the order given, storages numbered in that order, fixed zip timestamps.
 * Does not: write shared or strided storages (every tensor owns a dense storage), Parameters, memo
 * entries (nothing is referenced twice except globals, which are simply named again), or zip64.
 * Reference: CPython Lib/pickle.py (_Pickler.save_* for protocol 2), torch/serialization.py (_save).
 */
import type { RawTensor, StDType } from './safetensors.ts';
import { numel } from './safetensors.ts';
import { writeZip, type ZipEntry } from './zip-writer.ts';

/** A value the writer can pickle besides tensors (the mmseg `meta` dict); numbers must be integers. */
export type PickleMeta = string | number | boolean | null | PickleMeta[] | { [key: string]: PickleMeta };

export interface TorchWriteOptions {
  /** The archive's top folder (torch uses the file name without extension; default "archive"). */
  archiveName?: string;
  /** Save `{"meta": wrap.meta, "state_dict": OrderedDict}` instead of the bare OrderedDict. */
  wrap?: { meta: { [key: string]: PickleMeta } };
  /** The state dict's `_metadata` attribute: per module name ('' = the root), a dict of values. */
  metadata?: { [module: string]: { [key: string]: PickleMeta } };
}

/** Storage class by dtype (the reverse of torchscript.ts's STORAGE_DTYPES). */
const STORAGE_CLASS: Readonly<Record<StDType, string>> = {
  F32: 'FloatStorage', F64: 'DoubleStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage',
  I64: 'LongStorage', I32: 'IntStorage', U8: 'ByteStorage',
};

/** The bytes of a torch.save archive holding `tensors` as an OrderedDict (optionally mmseg-wrapped). */
export function serializeTorchArchive(tensors: ReadonlyMap<string, RawTensor>, opts: TorchWriteOptions = {}): Uint8Array {
  const name = opts.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`torch archive: bad archive name ${JSON.stringify(name)}`);
  const p = new PickleWriter();
  p.proto(2);
  if (opts.wrap) {
    p.emptyDict();
    p.mark();
    p.str('meta');
    p.value(opts.wrap.meta);
    p.str('state_dict');
  }
  const storages: ZipEntry[] = [];
  p.global('collections', 'OrderedDict');
  p.emptyTuple();
  p.reduce();
  p.mark();
  for (const [key, t] of tensors) {
    if (t.data.length !== numel(t.shape)) throw new Error(`torch archive: tensor ${key} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const id = String(storages.length);
    const d = t.data;
    storages.push({ name: `${name}/data/${id}`, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
    p.str(key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark();
    p.mark(); // the persistent id tuple
    p.str('storage');
    p.global('torch', STORAGE_CLASS[t.dtype]);
    p.str(id);
    p.str('cpu');
    p.int(t.data.length);
    p.tuple();
    p.persistentId();
    p.int(0); // storage offset
    p.intTuple(t.shape);
    p.intTuple(rowMajorStrides(t.shape));
    p.bool(false); // requires_grad
    p.global('collections', 'OrderedDict'); // backward hooks: none
    p.emptyTuple();
    p.reduce();
    p.tuple();
    p.reduce();
  }
  p.setItems();
  if (opts.metadata) {
    p.value({ _metadata: opts.metadata }); // the OrderedDict's __dict__, as OrderedDict.__reduce__ gives it
    p.build();
  }
  if (opts.wrap) p.setItems();
  p.stop();
  const utf8 = new TextEncoder();
  return writeZip([
    { name: `${name}/data.pkl`, data: p.bytes() },
    { name: `${name}/byteorder`, data: utf8.encode('little') },
    ...storages,
    { name: `${name}/version`, data: utf8.encode('3\n') },
  ]);
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** The few protocol-2 opcodes needed above (byte values from CPython Lib/pickle.py). */
class PickleWriter {
  private chunks: number[] = [];

  private byte(...b: number[]): void { for (const x of b) this.chunks.push(x); }
  private u32(n: number): void { this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff); }
  private ascii(s: string): void { for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i)); }

  proto(v: number): void { this.byte(0x80, v); }
  stop(): void { this.byte(0x2e); }
  mark(): void { this.byte(0x28); }
  tuple(): void { this.byte(0x74); }
  emptyTuple(): void { this.byte(0x29); }
  emptyDict(): void { this.byte(0x7d); }
  reduce(): void { this.byte(0x52); }
  setItems(): void { this.byte(0x75); }
  persistentId(): void { this.byte(0x51); }
  build(): void { this.byte(0x62); }
  bool(b: boolean): void { this.byte(b ? 0x88 : 0x89); }
  none(): void { this.byte(0x4e); }
  /** GLOBAL: `c<module>\n<name>\n` (what protocol 2 uses; STACK_GLOBAL is protocol 4). */
  global(module: string, name: string): void { this.byte(0x63); this.ascii(`${module}\n${name}\n`); }
  /** BINUNICODE: u32 length + UTF-8 bytes. */
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.byte(0x58);
    this.u32(b.length);
    for (const x of b) this.chunks.push(x);
  }
  /** BININT1 / BININT2 / BININT, or LONG1 for integers outside int32 (as pickle.py chooses). */
  int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`pickle writer: ${n} is not a safe integer (write other numbers as strings)`);
    if (n >= 0 && n < 256) this.byte(0x4b, n);
    else if (n >= 0 && n < 65536) this.byte(0x4d, n & 0xff, n >>> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) { this.byte(0x4a); this.u32(n >>> 0); }
    else {
      let v = BigInt(n);
      const out: number[] = [];
      while (v !== 0n && v !== -1n) { out.push(Number(v & 0xffn)); v >>= 8n; }
      if ((out[out.length - 1] & 0x80) !== (n < 0 ? 0x80 : 0)) out.push(n < 0 ? 0xff : 0); // sign byte
      this.byte(0x8a, out.length, ...out);
    }
  }
  intTuple(xs: readonly number[]): void {
    if (xs.length === 0) { this.emptyTuple(); return; }
    this.mark();
    for (const x of xs) this.int(x);
    this.tuple();
  }
  /** A meta value: str, int, bool, None, list (as a tuple) or plain dict. No floats: torch 1.13's
   * weights_only unpickler has no BINFLOAT (pass them as strings). */
  value(v: PickleMeta): void {
    if (v === null) this.none();
    else if (typeof v === 'boolean') this.bool(v);
    else if (typeof v === 'string') this.str(v);
    else if (typeof v === 'number') this.int(v); // throws on a non-integer
    else if (Array.isArray(v)) { this.mark(); for (const x of v) this.value(x); this.tuple(); }
    else {
      this.emptyDict();
      const keys = Object.keys(v);
      if (keys.length === 0) return;
      this.mark();
      for (const k of keys) { this.str(k); this.value(v[k]); }
      this.setItems();
    }
  }
  bytes(): Uint8Array { return Uint8Array.from(this.chunks); }
}
