/**
 * Checkpoint containers: tell a PyTorch zip archive from a safetensors file by its first bytes and
 * read either into a flat map of raw tensors. Shared by the CLIP loader (weights.ts) and the SPT-SEG
 * interop (spt-interop.ts), which then interpret the keys.
 *
 * Does: sniff the container (`PK\x03\x04` = a torch zip: `torch.save` or TorchScript, read by
 *   engine/io/torchscript.ts's restricted unpickler; anything else must be safetensors, whose parser
 *   validates it and names `source` in its errors); return the tensors as stored (any dtype), the
 *   safetensors `__metadata__`, and the archive's numeric attributes (`num_heads`, ...).
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
    return { container, tensors: archive.tensors, metadata: {}, scalars: archive.scalars };
  }
  const parsed = parseSafetensors(bytes, source);
  return { container, tensors: parsed.tensors, metadata: parsed.metadata, scalars: new Map() };
}
