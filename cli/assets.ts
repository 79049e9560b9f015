/**
 * The files the package ships beside its code (assets/world-clip.safetensors, assets/world-sptseg.safetensors
 * and their .json), found wherever the package is: the clone, or node_modules/spt-seg once installed.
 *
 *   packagedAsset('world-clip.safetensors')          // '/…/node_modules/spt-seg/assets/world-clip.safetensors'
 *   defaultAsset('assets/world-clip.safetensors')    // that path if it exists from the working folder, else the above
 *
 * The package root is the first folder above this module that holds a package.json: the clone's root
 * for cli/assets.ts run by tsx, the installed package's root for the built dist/cli/assets.js.
 * Does not: read the files (model/weights.ts, model/spt-weights.ts) or write them (`spt-seg pretrain`
 * writes into the working folder's assets/, never into the installed package).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder of the package's package.json (the clone's root, or node_modules/spt-seg). */
export function packageRoot(): string {
  if (root === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json'))) {
      const up = dirname(dir);
      if (up === dir) throw new Error(`spt-seg: no package.json above ${fileURLToPath(import.meta.url)}`);
      dir = up;
    }
    root = dir;
  }
  return root;
}

/** The absolute path of a file in the package's assets/ folder, e.g. 'world-clip.safetensors'. */
export function packagedAsset(name: string): string {
  return join(packageRoot(), 'assets', name);
}

/**
 * A command's default for an asset option: `relative` (e.g. 'assets/world-clip.safetensors') when it
 * exists from the working folder (a clone, or a model `spt-seg pretrain` wrote there), else the
 * package's own copy when that exists (an installed package run from any folder), else `relative`
 * unchanged, so that the command's "does not exist" message names the path it was given.
 */
export function defaultAsset(relative: string): string {
  if (existsSync(relative)) return relative;
  const packaged = packagedAsset(basename(relative));
  return existsSync(packaged) ? packaged : relative;
}
