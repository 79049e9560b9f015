/**
 * Bundle a browser entry (test/browser/page.ts) with esbuild, for the Chromium shader tests.
 *
 * gpu.js turns each kernel back into source with `Function.prototype.toString` and re-parses it, so
 * the bundle must keep kernel functions as plain `function` bodies: no minification (it would rename
 * and fold them), no `keepNames` (it wraps functions in `__name(...)` calls), and a target (es2020)
 * at which esbuild leaves `function`, `let` and `const` alone. `platform: 'browser'` makes esbuild
 * take gpu.js's "browser" build (dist/gpu-browser.js) instead of its Node entry.
 *
 * Not here: serving or driving the browser (page-server.ts).
 *
 *     npx tsx tools/browser/bundle.ts test/browser/page.ts /tmp/page.js   # to inspect the output
 */
import { build } from 'esbuild';

export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: false,
    keepNames: false,
    sourcemap: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [entry, out] = process.argv.slice(2);
  if (!entry || !out) {
    console.error('usage: tsx tools/browser/bundle.ts <entry.ts> <out.js>');
    process.exit(2);
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(out, await bundleForBrowser(entry));
  console.log(`wrote ${out}`);
}
