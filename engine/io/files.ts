/**
 * The Node-only edge of engine/io: read and write the formats of this folder on disk.
 *
 * Does: read a whole file into memory and hand it to the pure parsers (`safetensors.ts`,
 * `torchscript.ts`); write files atomically (temp file in the same directory, fsync, rename, fsync of
 * the directory), so a crash never leaves a half-written checkpoint under the real name.
 * Bounded: a file is read whole, so memory is its size plus what the parsers allow (their limits,
 *   see docs/formats.md); every parser error names the path.
 * Does not: stream or memory-map (files are read whole; Node's readFile caps them at 2 GiB), or lock
 * against concurrent writers (the last rename wins).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseSafetensors, serializeSafetensors, type ParsedSafetensors, type RawTensor } from './safetensors.ts';
import { readTorchArchive, type TorchArchive } from './torchscript.ts';
import { tensorsFromRaw, tensorToRaw } from './tensors.ts';
import type { DType } from '../../kernels/backend.ts';
import type { Tensor } from '../tensor.ts';

/** Read and validate a `.safetensors` file. */
export async function readSafetensorsFile(path: string): Promise<ParsedSafetensors> {
  return parseSafetensors(await readFile(path), path);
}

/** Write tensors (and string metadata) as a `.safetensors` file, atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** Read a torch.save / torch.jit.save zip archive (`.pt`, `.pth`) as a flat state dict. */
export async function readTorchArchiveFile(path: string): Promise<TorchArchive> {
  return readTorchArchive(await readFile(path), path);
}

/**
 * Write `data` to `path` so that readers see either the old file or the whole new one: write a
 * temp file beside it, fsync it, rename it over `path`, then fsync the directory (best effort).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/** fsync a directory so the rename itself is durable; some platforms (Windows) cannot, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here: the data is already synced, only the directory entry may lag
  }
}

/** Load a `.safetensors` file as engine tensors (float data as float32 unless `dtype` is given). */
export async function loadSafetensors(path: string, dtype?: DType): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const parsed = await readSafetensorsFile(path);
  return { tensors: tensorsFromRaw(parsed.tensors, dtype, path), metadata: parsed.metadata };
}

/** Save engine tensors (a state dict, say) as a `.safetensors` file, atomically. */
export async function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const raws = new Map([...tensors].map(([name, t]) => [name, tensorToRaw(t)]));
  await writeSafetensorsFile(path, raws, metadata);
}
