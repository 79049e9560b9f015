/**
 * Paths named on the command line, checked before any work, so that each error names the option:
 *
 *   inputFile(args.get('weights'), '--weights')   // "--weights w.safetensors: no such file"
 *   inputFile(image, '<image>')                   // "<image> photos: a folder, not a file"
 *   outputFile(out, '--out')                      // "--out masks/a.png: the folder masks does not exist"
 *
 * A missing input whose name is one of the package's assets (`--clip world-clip.safetensors`) is
 * pointed at the asset (`assets/world-clip.safetensors`) instead of at a way to make it again.
 * Errors are `PathError`s: exit code 1, like the file errors they replace (ENOENT, EISDIR).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { packagedAsset } from './assets.ts';

/** A path given on the command line that names no usable file or folder. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

function kind(path: string): 'file' | 'folder' | 'other' | null {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'other';
  } catch {
    return null;
  }
}

/**
 * `path` when it is a readable file; else a PathError naming `option` (and the asset of the same name,
 * if the package has one, or `hint`).
 *
 * @example
 * const weights = inputFile(args.get('weights')!, '--weights');
 */
export function inputFile(path: string, option: string, hint?: string): string {
  const k = kind(path);
  if (k === 'file') return path;
  if (k === 'folder') throw new PathError(`${option} ${path}: a folder, not a file`);
  if (k === 'other') throw new PathError(`${option} ${path}: not a regular file`);
  const asset = packagedAsset(basename(path));
  if (existsSync(asset)) {
    const shown = relative(process.cwd(), asset);
    throw new PathError(`${option} ${path}: no such file; did you mean ${shown.startsWith('..') ? asset : shown}, the one the package ships?`);
  }
  throw new PathError(`${option} ${path}: no such file${hint ? `; ${hint}` : ''}`);
}

/**
 * `path` when it is a folder; else a PathError naming `option`.
 *
 * @example
 * inputFolder(args.get('data')!, '--data');
 */
export function inputFolder(path: string, option: string): string {
  const k = kind(path);
  if (k === 'folder') return path;
  throw new PathError(`${option} ${path}: ${k === null ? 'no such folder' : 'a file, not a folder'}`);
}

/**
 * `path` when a file can be written there: its folder exists and it is not itself a folder.
 *
 * @example
 * const out = outputFile(args.get('out')!, '--out');   // checked before the model runs
 */
export function outputFile(path: string, option: string): string {
  const dir = dirname(path);
  const k = kind(dir);
  if (k === null) throw new PathError(`${option} ${path}: the folder ${dir} does not exist (create it first)`);
  if (k !== 'folder') throw new PathError(`${option} ${path}: ${dir} is not a folder`);
  if (kind(path) === 'folder') throw new PathError(`${option} ${path}: a folder, not a file`);
  return path;
}
