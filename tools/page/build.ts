/**
 * `npm run page:build`: write the web page as static files to a folder (default dist/page/) to host
 * anywhere: index.html, style.css, page.js, page-config.json, the two checkpoints, and README.txt
 * (how to serve the folder; the command prints it too). Opened from disk (file://) the page cannot
 * fetch its checkpoints, and says so, with the same instructions.
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

/** How to serve a built page folder (README.txt in it, and the command's last lines). */
export function serveInstructions(out: string): string {
  return [
    `The page in ${out} must be served over HTTP: opened from disk (file://), browsers do not let it fetch its checkpoints.`,
    'From the repository, `npm run page` serves it (bundled afresh) on http://127.0.0.1 with the right headers.',
    `Elsewhere, serve the folder ${out} with any static web server; send these two headers so the wasm backend can`,
    'run (it needs SharedArrayBuffer; without them the page still runs on the gpu.js backends):',
    '  Cross-Origin-Opener-Policy: same-origin',
    '  Cross-Origin-Embedder-Policy: require-corp',
  ].join('\n');
}

/** Write every page file under `out`, and README.txt; returns [name, bytes] per file. */
export async function buildPage(out: string, opts: { clip?: string; weights?: string } = {}): Promise<[string, number][]> {
  const files = await pageFiles(opts);
  files.set('/README.txt', { body: `SPT-SEG in the browser: a static build of the web page.\n\n${serveInstructions(out)}\n`, type: 'text/plain; charset=utf-8' });
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
    console.log(`\n${serveInstructions(out)}`);
  } catch (e) {
    console.error(`npm run page:build: ${(e as Error).message}`);
    process.exit(2);
  }
}
