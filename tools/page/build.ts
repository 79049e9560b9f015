/**
 * `npm run page:build`: write the web page as static files to a folder (default dist/page/) to host
 * anywhere: index.html, style.css, page.js, page-config.json and the two checkpoints.
 *
 *     npm run page:build -- --out dist/page --clip <file> --weights <file>
 *
 * The host must send `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
 * require-corp` for the wasm backend (SharedArrayBuffer); the gpu.js backends run without them.
 * Does not: serve (serve.ts). Each file is written atomically (temp file, then rename).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/files.ts';
import { pageArgs, pageFiles } from './files.ts';

/** Write every page file under `out`; returns [name, bytes] per file. */
export async function buildPage(out: string, opts: { clip?: string; weights?: string } = {}): Promise<[string, number][]> {
  const files = await pageFiles(opts);
  await mkdir(out, { recursive: true });
  const written: [string, number][] = [];
  for (const [url, f] of files) {
    const bytes = typeof f.body === 'string' ? new TextEncoder().encode(f.body) : f.body;
    await writeFileAtomic(join(out, url.slice(1)), bytes);
    written.push([url.slice(1), bytes.length]);
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const args = pageArgs(process.argv.slice(2), ['out']);
    const out = args.out ?? join('dist', 'page');
    for (const [name, n] of await buildPage(out, args)) console.log(`${join(out, name)}  ${(n / 1024).toFixed(0)} KiB`);
    const config = JSON.parse(await readFile(join(out, 'page-config.json'), 'utf8')) as Record<string, { missing?: string; hint?: string }>;
    for (const f of Object.values(config)) if (f.missing) console.error(`warning: ${f.missing} is missing; the page will say so: ${f.hint}`);
  } catch (e) {
    console.error(`npm run page:build: ${(e as Error).message}`);
    process.exit(2);
  }
}
