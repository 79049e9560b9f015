/**
 * Checkpoint containers: tell a PyTorch zip archive from a safetensors file by its first bytes and
 * read either into a flat map of raw tensors. Shared by the CLIP loader (weights.ts) and the SPT-SEG
 * interop (spt-interop.ts), which then interpret the keys.
 *
 * Does: sniff the container (`PK\x03\x04` = a torch zip: `torch.save` or TorchScript, read by
 *   engine/io/torchscript.ts's restricted unpickler; an 8-byte length then `{` = safetensors, whose
 *   parser validates it and names `source` in its errors; anything else is refused as neither, so a
 *   text file is not read as a 7.5e18-byte header); return the tensors as stored (any dtype), the
 *   safetensors `__metadata__`, and the archive's numeric attributes (`num_heads`, ...) and strings
 *   (mmseg's `meta.CLASSES`, an spt-seg card).
 * Does not: look at key names (layouts are weights.ts's and spt-interop.ts's job), convert dtypes,
 *   or touch the file system (node-files.ts).
 */
import { parseSafetensors, type RawTensor } from '../engine/io/safetensors.ts';
import { readTorchArchive } from '../engine/io/torchscript.ts';

/** The two file formats a checkpoint comes in. */
export type CheckpointContainer = 'safetensors' | 'torch-zip';

/** A checkpoint file's contents, keys untouched. */
export interface RawCheckpoint {
  container: CheckpointContainer;
  tensors: Map<string, RawTensor>;
  /** safetensors `__metadata__` ({} for a torch archive). */
  metadata: Record<string, string>;
  /** A TorchScript archive's numeric attributes by dotted path (empty for safetensors). */
  scalars: Map<string, number>;
  /** A torch archive's strings and tuples of strings by dotted path (empty for safetensors). */
  strings: Map<string, string | string[]>;
}

/**
 * A file that is neither a PyTorch zip archive nor safetensors (a text file, a legacy torch pickle...).
 *
 * @example
 * try { readCheckpointBytes(bytes, path); } catch (e) { if (e instanceof NotACheckpointError) console.error(e.message); }
 */
export class NotACheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotACheckpointError';
  }
}

/**
 * 'torch-zip' for PyTorch zip archives, 'safetensors' otherwise (the parser then validates it).
 *
 * @example
 * detectContainer(await readFile('ViT-B-16.pt'));   // 'torch-zip'
 */
export function detectContainer(bytes: Uint8Array): CheckpointContainer {
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
  return zip ? 'torch-zip' : 'safetensors';
}

/**
 * Read the tensors of either container from bytes; `source` names the file in errors.
 *
 * @example
 * const { container, tensors } = readCheckpointBytes(bytes, 'iter_20000.pth');
 */
export function readCheckpointBytes(bytes: Uint8Array, source: string): RawCheckpoint {
  const container = detectContainer(bytes);
  if (container === 'torch-zip') {
    const archive = readTorchArchive(bytes, source);
    return { container, tensors: archive.tensors, metadata: {}, scalars: archive.scalars, strings: archive.strings };
  }
  if (bytes.length < 9 || bytes[8] !== 0x7b) throw new NotACheckpointError(`${source}: not a .pt / .pth or safetensors file (${describeStart(bytes)})`);
  const parsed = parseSafetensors(bytes, source);
  return { container, tensors: parsed.tensors, metadata: parsed.metadata, scalars: new Map(), strings: new Map() };
}

/** What a file that is no checkpoint starts with, for the error. */
function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'it is empty';
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'a bare pickle: the legacy (pre-1.6) torch.save format? re-save it with a recent torch';
  const head = bytes.subarray(0, 24);
  const text = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  if (text) return `it starts with the text ${JSON.stringify(new TextDecoder().decode(head))}`;
  return `it starts with the bytes ${[...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}
