/**
 * The file functions of model/'s path-based loaders and writers (loadClip, saveClip, loadSptSeg,
 * exportSptSeg, ...), loaded on first use. The specifiers are variables so that browser bundlers leave
 * these imports alone: model/ bundles for a browser, which only ever calls the functions on bytes.
 *
 * Does not: parse anything (checkpoint-read.ts, engine/io/), or write non-atomically (every write goes
 * through engine/io/files.ts's `writeFileAtomic`).
 */
import type { DType, Tensor } from '../engine/index.ts';

/** What the loaders need from node:fs and engine/io/files.ts. */
export interface NodeFiles {
  readFile: (path: string) => Promise<Uint8Array>;
  writeFileAtomic: (path: string, data: Uint8Array) => Promise<void>;
  loadSafetensors: (path: string, dtype?: DType) => Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }>;
}

/** node:fs/promises and engine/io/files.ts, imported lazily (see the header). */
export async function nodeFiles(): Promise<NodeFiles> {
  const fsModule = 'node:fs/promises', ioModule = '../engine/io/files.ts';
  const [fs, io] = await Promise.all([
    import(fsModule) as Promise<typeof import('node:fs/promises')>,
    import(ioModule) as Promise<typeof import('../engine/io/files.ts')>,
  ]);
  return { readFile: (p) => fs.readFile(p), writeFileAtomic: io.writeFileAtomic, loadSafetensors: io.loadSafetensors };
}
