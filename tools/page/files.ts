/**
 * The web page as a set of static files: index.html, style.css, page.js (page/main.ts bundled by
 * tools/browser/bundle.ts), page-config.json, and the two checkpoints it fetches (clip.safetensors,
 * sptseg.safetensors). Both `npm run page` (serve.ts) and `npm run page:build` (build.ts) use this.
 *
 * A checkpoint that does not exist is not an error here: page-config.json then says which file is
 * missing and how to make it, and the page shows that message.
 * Does not: serve (serve.ts) or write (build.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { bundleForBrowser } from '../browser/bundle.ts';
import type { PageConfig } from '../../page/main.ts';

export const DEFAULT_CLIP = 'assets/world-clip.safetensors';
export const DEFAULT_WEIGHTS = 'assets/world-sptseg.safetensors';

export interface PageFile {
  body: Uint8Array | string;
  type: string;
}

export interface PageOptions {
  /** The world CLIP (text tower and tokenizer side), safetensors. */
  clip?: string;
  /** The SPT-SEG checkpoint, safetensors under the official names. */
  weights?: string;
}

const root = new URL('../../', import.meta.url);

const HINTS = {
  clip: 'make it with `npx spt-seg pretrain` (the world CLIP, about an hour on 2 cores), or pass `--clip <file>` to `npm run page`.',
  weights: 'train it with `npx spt-seg world` and copy runs/world/weights.safetensors to assets/world-sptseg.safetensors, or pass `--weights <file>` to `npm run page`.',
};

async function checkpoint(path: string, url: string, role: 'clip' | 'weights', files: Map<string, PageFile>): Promise<PageConfig['clip']> {
  if (!existsSync(path)) return { missing: path, hint: HINTS[role] };
  files.set(`/${url}`, { body: new Uint8Array(await readFile(path)), type: 'application/octet-stream' });
  return { url, source: path };
}

/** Every file of the page, by URL path ('/', '/page.js', ...). */
export async function pageFiles(opts: PageOptions = {}): Promise<Map<string, PageFile>> {
  const files = new Map<string, PageFile>();
  const html = await readFile(new URL('page/index.html', root), 'utf8');
  files.set('/index.html', { body: html, type: 'text/html; charset=utf-8' });
  files.set('/style.css', { body: await readFile(new URL('page/style.css', root), 'utf8'), type: 'text/css; charset=utf-8' });
  files.set('/page.js', { body: await bundleForBrowser(new URL('page/main.ts', root).pathname), type: 'text/javascript; charset=utf-8' });
  const config: PageConfig = {
    clip: await checkpoint(opts.clip ?? DEFAULT_CLIP, 'clip.safetensors', 'clip', files),
    weights: await checkpoint(opts.weights ?? DEFAULT_WEIGHTS, 'sptseg.safetensors', 'weights', files),
  };
  files.set('/page-config.json', { body: JSON.stringify(config, null, 2), type: 'application/json' });
  return files;
}

/** Parse `--clip <f> --weights <f>` plus the extra options a command takes (e.g. --port, --out). */
export function pageArgs(argv: readonly string[], extra: readonly string[]): PageOptions & Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const known = new Set(['clip', 'weights', ...extra]);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !known.has(m[1])) throw new Error(`unknown argument ${argv[i]}; options: ${[...known].map((k) => `--${k} <value>`).join(' ')}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    out[m[1]] = value;
  }
  return out;
}
