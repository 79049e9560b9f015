/**
 * Read PyTorch zip archives: `torch.save(state_dict)` files and `torch.jit.save` TorchScript modules
 * (the OpenAI CLIP `.pt` checkpoints are the latter), as a flat state dict of `RawTensor`s.
 *
 * An archive is a zip with one top folder `<archive>/`: `data.pkl` pickles the saved object and each
 * tensor storage is the raw little-endian entry `data/<key>`. In data.pkl a tensor is
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` whose storage is the persistent
 * id `('storage', torch.HalfStorage, key, location, numel)`. A TorchScript module is an object of a
 * `__torch__.*` class whose BUILD state maps attribute names to tensors, numbers and submodules.
 *
 * Does:
 *  - unpickle with the restricted machine of `pickle.ts` and the allow-list below: nothing is executed,
 *    any other global is refused by name;
 *  - rebuild each tensor from its storage, offset, size and strides into a contiguous array (a view of
 *    the storage when it already is contiguous; copy before mutating). F16/BF16 keep their raw bits;
 *  - walk dicts and module objects into dotted names: tensors -> `tensors`, numbers (int or float
 *    attributes such as `input_resolution`, `context_length`, `eps`) -> `scalars`, strings and tuples
 *    of strings (mmseg's `meta.CLASSES`, an spt-seg model card) -> `strings`. The attributes BUILD set
 *    on a dict (a state dict's `_metadata`) are walked for their strings only, under the attribute's
 *    name: `_metadata..spt_seg` is `sd._metadata['']['spt_seg']` (torch's own per-module `version`
 *    numbers there are not scalars of the file).
 *  - bound what a hostile file can cost: the zip is read by `zip.ts` (sizes checked before allocating,
 *    inflation stopped at the declared size), the bytes copied to rebuild tensors are capped per archive
 *    by `TORCH_LIMITS.maxCopiedBytes` (aligned dense tensors are free views),
 *    and the walk over the unpickled object graph is bounded in depth and in visits (shared subtrees
 *    could otherwise make it exponential). Failures are `TorchZipError`, `ZipError` or `PickleError`,
 *    each naming the file.
 * Does not: read the legacy pre-1.6 (non-zip) torch.save format, TorchScript code or `constants.pkl`,
 * quantized or sparse tensors, lists of tensors, bool/int8/complex storages, or big-endian archives.
 */
import {
  PickleBox, PickleClass, PickleError, PickleFunction, PickleObject, describe, dictAttributes, unpickle,
  type PickleLimits, type PickleValue,
} from './pickle.ts';
import { DTYPE_SIZE, bytesAsArray, numel, type RawData, type RawTensor, type StDType } from './safetensors.ts';
import { readZip, type ZipLimits } from './zip.ts';

export interface TorchArchive {
  tensors: Map<string, RawTensor>;
  scalars: Map<string, number>;
  /** Strings and non-empty tuples / lists of strings by dotted name (`meta.CLASSES`, `meta.spt_seg`). */
  strings: Map<string, string | string[]>;
}

/** Limits of one archive read, beyond the zip's own (`ZIP_LIMITS`); documented in docs/formats.md. */
export interface TorchLimits {
  /**
   * Most bytes copied while rebuilding tensors, over the whole archive: a tensor that is a contiguous,
   * aligned slice of its storage is a free view; a strided one (a transpose, or an `expand` with stride
   * 0, which can be far larger than its storage) or a misaligned one is copied, and pays here.
   */
  maxCopiedBytes: number;
  /** Deepest nesting of dicts / module objects walked into names (Python's default recursion limit). */
  maxDepth: number;
  /** Most values visited while walking the object graph into names. */
  maxVisits: number;
}

export const TORCH_LIMITS: Readonly<TorchLimits> = {
  maxCopiedBytes: 2 ** 31,
  maxDepth: 1000,
  maxVisits: 1 << 20,
};

/** A torch archive that is a valid zip and pickle but not a loadable torch file; names the file. */
export class TorchZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchZipError';
  }
}

export interface TorchArchiveOptions {
  /** Override some of `TORCH_LIMITS`, of the zip reader's `ZIP_LIMITS` and of the unpickler's `PICKLE_LIMITS`. */
  limits?: Partial<TorchLimits & ZipLimits & PickleLimits>;
}

/** Storage classes torch writes, by the dtype they hold. */
const STORAGE_DTYPES: Readonly<Record<string, StDType>> = {
  HalfStorage: 'F16', FloatStorage: 'F32', DoubleStorage: 'F64', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', ByteStorage: 'U8',
};

/** One storage: the bytes of `data/<key>` read as `dtype`. */
interface Storage {
  key: string;
  dtype: StDType;
  bytes: Uint8Array;
}

/** Parse a torch zip archive held in memory. `source` only appears in error messages. */
export function readTorchArchive(bytes: Uint8Array, source: string, options: TorchArchiveOptions = {}): TorchArchive {
  const limits = { ...TORCH_LIMITS, ...options.limits };
  const files = unzipArchive(bytes, source, options.limits);
  const prefix = archivePrefix(files, source);
  const order = files.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order).trim() !== 'little') {
    throw new TorchZipError(`${source}: big-endian archives are not supported`);
  }
  const storages = new Map<string, Storage>();
  const budget: CopyBudget = { left: limits.maxCopiedBytes, limit: limits.maxCopiedBytes };
  const root = unpickle(files.get(`${prefix}data.pkl`)!, {
    source: `${source}:${prefix}data.pkl`,
    resolveGlobal: (module, name) => resolveTorchGlobal(module, name, source, budget),
    persistentLoad: (pid) => new PickleBox('storage', loadStorage(pid, files, prefix, storages, source)),
    limits: options.limits,
  });
  const out: TorchArchive = { tensors: new Map(), scalars: new Map(), strings: new Map() };
  const walk: Walk = { out, path: new Set(), visits: 0, limits, source };
  collect(root, '', 0, walk);
  return out;
}

/** Unzip only what is read: `*\/data.pkl`, `*\/data/*` and `*\/byteorder` (skips code and debug info). */
function unzipArchive(bytes: Uint8Array, source: string, limits?: Partial<ZipLimits>): Map<string, Uint8Array> {
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
  if (!isZip) {
    throw new TorchZipError(`${source}: not a zip archive; the legacy (pre-1.6) torch.save format is not ` +
      'supported, re-save it with a recent torch');
  }
  const wanted = /^[^/]+\/(data\.pkl|data\/[^/]+|byteorder)$/;
  return readZip(bytes, source, { filter: (name) => wanted.test(name), limits });
}

function archivePrefix(files: Map<string, Uint8Array>, source: string): string {
  const pkls = [...files.keys()].filter((n) => n.endsWith('/data.pkl'));
  if (pkls.length !== 1) {
    throw new TorchZipError(`${source}: expected one <archive>/data.pkl in the zip, found ${pkls.length}`);
  }
  return pkls[0].slice(0, -'data.pkl'.length);
}

// ---------------------------------------------------------------------------------------------
// The allow-list

const identity = (qualname: string) => new PickleFunction(qualname, (args) => args[0] ?? null);

function resolveTorchGlobal(module: string, name: string, source: string, budget: CopyBudget): PickleValue | undefined {
  const qualname = `${module}.${name}`;
  if (module === '__torch__' || module.startsWith('__torch__.')) return new PickleClass(qualname);
  if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) {
    return new PickleBox('storageType', STORAGE_DTYPES[name]);
  }
  switch (qualname) {
    case 'collections.OrderedDict':
      return new PickleFunction(qualname, (args) => orderedDict(args, source));
    case 'torch._utils._rebuild_tensor_v2':
    case 'torch._utils._rebuild_tensor':
      return new PickleFunction(qualname, (args) => new PickleBox('tensor', rebuildTensor(args, source, budget)));
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
    case 'torch.jit._pickle.build_intlist':
    case 'torch.jit._pickle.build_doublelist':
    case 'torch.jit._pickle.build_boollist':
    case 'torch.jit._pickle.build_tensorlist':
    case 'torch.jit._pickle.restore_type_tag':
      return identity(qualname); // the first argument is already the value
    default:
      return undefined;
  }
}

/** `OrderedDict()` or `OrderedDict([(k, v), ...])`. */
function orderedDict(args: PickleValue[], source: string): PickleValue {
  const dict = new Map();
  const pairs = args[0];
  if (pairs === undefined) return dict;
  if (!Array.isArray(pairs)) throw new PickleError(`${source}: OrderedDict of a ${describe(pairs)}`);
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2 || (pair[0] !== null && typeof pair[0] === 'object')) {
      throw new PickleError(`${source}: OrderedDict item is not a (key, value) pair`);
    }
    dict.set(pair[0], pair[1]);
  }
  return dict;
}

// ---------------------------------------------------------------------------------------------
// Storages and tensors

/** Persistent id `('storage', <storageType>, key, location, numel)` -> the bytes of `data/<key>`. */
function loadStorage(
  pid: PickleValue, files: Map<string, Uint8Array>, prefix: string, cache: Map<string, Storage>, source: string,
): Storage {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 3) {
    throw new PickleError(`${source}: unsupported persistent id (a ${describe(pid ?? null)})`);
  }
  const [, type, key] = pid;
  if (!(type instanceof PickleBox && type.tag === 'storageType') || typeof key !== 'string') {
    throw new PickleError(`${source}: bad storage reference for key ${String(key)}`);
  }
  const cached = cache.get(key);
  if (cached) return cached;
  const bytes = files.get(`${prefix}data/${key}`);
  if (!bytes) throw new TorchZipError(`${source}: storage ${prefix}data/${key} is missing from the zip`);
  const storage = { key, dtype: type.value as StDType, bytes };
  cache.set(key, storage);
  return storage;
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad?, hooks?, metadata?)`. */
function rebuildTensor(args: PickleValue[], source: string, budget: CopyBudget): RawTensor {
  const [storageBox, offset, size, stride] = args;
  if (!(storageBox instanceof PickleBox && storageBox.tag === 'storage')) {
    throw new PickleError(`${source}: tensor without a storage (a ${describe(storageBox ?? null)})`);
  }
  const storage = storageBox.value as Storage;
  const shape = intList(size, 'size', source);
  const strides = intList(stride, 'stride', source);
  const goodOffset = typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0;
  if (!goodOffset || strides.length !== shape.length) {
    throw new PickleError(`${source}: tensor on storage ${storage.key} has a bad offset or strides`);
  }
  const available = Math.floor(storage.bytes.length / DTYPE_SIZE[storage.dtype]);
  const n = numel(shape);
  const last = offset + shape.reduce((acc, d, i) => acc + (d - 1) * strides[i], 0);
  if (n > 0 && last >= available) {
    throw new TorchZipError(`${source}: tensor [${shape.join(', ')}] on storage ${storage.key} reads element ` +
      `${last}, but the storage holds ${available}`);
  }
  const copied = copyCost(storage, offset, shape, strides);
  if (copied > budget.left) {
    throw new TorchZipError(`${source}: tensor [${shape.join(', ')}] on storage ${storage.key} needs a copy of ` +
      `${copied} bytes, past the limit of ${budget.limit} bytes copied per archive (TORCH_LIMITS.maxCopiedBytes)`);
  }
  budget.left -= copied;
  return { dtype: storage.dtype, shape, data: contiguous(storage, offset, shape, strides) };
}

/** What is left of `TORCH_LIMITS.maxCopiedBytes` while one archive is read. */
interface CopyBudget {
  left: number;
  limit: number;
}

/** Bytes `contiguous` will allocate for this tensor: 0 for an aligned dense view. */
function copyCost(storage: Storage, offset: number, shape: number[], strides: number[]): number {
  const n = numel(shape);
  const size = DTYPE_SIZE[storage.dtype];
  if (n === 0) return 0;
  if (isDense(shape, strides)) return (storage.bytes.byteOffset + offset * size) % size === 0 ? 0 : n * size;
  const wordSize = size === 8 ? 4 : size;
  return n * size + (storage.bytes.byteOffset % wordSize === 0 ? 0 : storage.bytes.length); // + wordView's copy
}

/** Strides that walk the shape row-major (size-1 dimensions may have any stride). */
function isDense(shape: readonly number[], strides: readonly number[]): boolean {
  const dense = rowMajor(shape);
  return shape.every((d, i) => d === 1 || strides[i] === dense[i]);
}

function intList(v: PickleValue | undefined, what: string, source: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new PickleError(`${source}: tensor ${what} is not a tuple of non-negative integers`);
  }
  return v as number[];
}

/** Row-major strides of a shape. */
function rowMajor(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** The elements of a strided view, row-major: a view when already contiguous, else a gathered copy. */
function contiguous(storage: Storage, offset: number, shape: number[], strides: number[]): RawData {
  const n = numel(shape);
  const size = DTYPE_SIZE[storage.dtype];
  if (n === 0 || isDense(shape, strides)) {
    return bytesAsArray(storage.dtype, storage.bytes, offset * size, n);
  }
  // Gather by element width (bytes are bytes: 8-byte elements move as two 32-bit words).
  const words = size === 8 ? 2 : 1;
  const wordSize = size / words;
  const src = wordView(storage.bytes, wordSize);
  const out = new Uint8Array(n * size);
  const dst = wordView(out, wordSize);
  const index = new Array<number>(shape.length).fill(0);
  let from = offset;
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < words; w++) dst[i * words + w] = src[from * words + w];
    for (let d = shape.length - 1; d >= 0; d--) { // odometer: advance the last dimension first
      from += strides[d];
      if (++index[d] < shape[d]) break;
      from -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return bytesAsArray(storage.dtype, out, 0, n);
}

/** The bytes as 1-, 2- or 4-byte words (aligned by copying if needed). */
function wordView(bytes: Uint8Array, wordSize: number): Uint8Array | Uint16Array | Uint32Array {
  if (wordSize === 1) return bytes;
  const b = bytes.byteOffset % wordSize === 0 ? bytes : new Uint8Array(bytes); // a copy, even of a Buffer
  const count = Math.floor(b.byteLength / wordSize);
  if (wordSize === 2) return new Uint16Array(b.buffer, b.byteOffset, count);
  return new Uint32Array(b.buffer, b.byteOffset, count);
}

// ---------------------------------------------------------------------------------------------
// Flattening

/** State of one walk: where results go, the containers on the current path, and the budget spent. */
interface Walk {
  out: TorchArchive;
  path: Set<PickleValue>;
  visits: number;
  limits: TorchLimits;
  source: string;
}

/**
 * Walk dicts and module objects: tensors, numbers and strings get dotted names. A dict's BUILD
 * attributes are walked with `stringsOnly` (their strings only).
 */
function collect(v: PickleValue, prefix: string, depth: number, walk: Walk, stringsOnly = false): void {
  const { out, path, limits, source } = walk;
  if (++walk.visits > limits.maxVisits) {
    throw new TorchZipError(`${source}: the pickled object graph has more than ${limits.maxVisits} values to walk`);
  }
  if (depth > limits.maxDepth) {
    throw new TorchZipError(`${source}: dicts / modules nested deeper than ${limits.maxDepth} (at "${prefix.slice(0, 200)}")`);
  }
  if (v instanceof PickleBox) {
    if (v.tag === 'tensor' && prefix && !stringsOnly) out.tensors.set(prefix, v.value as RawTensor);
  } else if (typeof v === 'number') {
    if (prefix && !stringsOnly) out.scalars.set(prefix, v);
  } else if (typeof v === 'string') {
    if (prefix) out.strings.set(prefix, v);
  } else if (Array.isArray(v)) {
    if (prefix && v.length > 0 && v.every((s) => typeof s === 'string')) out.strings.set(prefix, v as string[]);
  } else if (v instanceof Map || v instanceof PickleObject) {
    if (path.has(v)) return; // a cycle: already being walked
    path.add(v);
    const attributes = v instanceof Map ? dictAttributes(v) : undefined;
    const entries = v instanceof Map ? v : v.state instanceof Map ? v.state : new Map();
    const maps: [Map<PickleValue, PickleValue>, boolean][] = [[entries, stringsOnly]];
    if (attributes instanceof Map) maps.push([attributes, true]);
    for (const [map, only] of maps) {
      for (const [k, child] of map) {
        if (typeof k !== 'string' && typeof k !== 'number') continue;
        collect(child, prefix ? `${prefix}.${k}` : `${k}`, depth + 1, walk, only);
      }
    }
    path.delete(v);
  }
}
