// The spt-seg command line: classify end to end on a random CLIP with the real 49,408-token vocabulary
// (generated here, not committed), convert, help texts and error messages. (`demo` belongs to the
// lead and trains a model, so only its --help runs here.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import t from 'tap';
import { manualSeed } from '../../engine/index.ts';
import { parseArgs, UsageError, type CommandSpec } from '../../cli/args.ts';
import type { CliIO } from '../../cli/command.ts';
import { decodeImage, encodePng, sniffImageFormat, writePng } from '../../cli/image-io.ts';
import { COMMANDS, main } from '../../cli/spt-seg.ts';
import { CLIP, loadClip, saveClip, type CLIPConfig, type RgbImage } from '../../model/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/clip/');
const dir = mkdtempSync(join(tmpdir(), 'spt-seg-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Small widths, but the real vocabulary and context, so that the real tokenizer's ids fit. */
const TINY: CLIPConfig = {
  embedDim: 32,
  vision: { imageSize: 32, patchSize: 16, width: 64, layers: 1, heads: 1, outputDim: 32 },
  text: { contextLength: 77, vocabSize: 49408, width: 64, layers: 1, heads: 1, outputDim: 32 },
};
const weights = join(dir, 'tiny-clip.safetensors');
const png = join(dir, 'image.png');
const jpg = join(dir, 'image.jpg');

function randomImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5) * 11) % 256;
  return { width, height, channels: 3, data };
}

/** Collects what a command prints. */
function capture(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [], stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(...l.split('\n')), err: (l) => stderr.push(...l.split('\n')) };
}

/** "label  0.1234  ████" lines -> [label, p]. */
function parseProbabilities(lines: string[]): [string, number][] {
  return lines.filter((l) => l.trim() !== '').map((l) => {
    const m = /^(.*?)\s+(\d\.\d{4})\s+█*$/.exec(l);
    if (!m) throw new Error(`not a probability line: ${JSON.stringify(l)}`);
    return [m[1], Number(m[2])];
  });
}

t.before(async () => {
  manualSeed(0);
  await saveClip(new CLIP(TINY), weights);
  await writePng(png, randomImage(40, 30));
  const rgba = Buffer.alloc(40 * 30 * 4, 255);
  writeFileSync(jpg, jpeg.encode({ width: 40, height: 30, data: rgba }, 90).data);
});

t.test('classify runs end to end as a process and prints probabilities summing to 1', async (tt) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/spt-seg.ts'), 'classify', png,
    '--weights', weights, '--labels', 'cat, dog,car'], { cwd: ROOT, encoding: 'utf8' });
  tt.equal(r.status, 0, r.stderr);
  const probs = parseProbabilities(r.stdout.split('\n'));
  tt.same(probs.map(([l]) => l).sort(), ['car', 'cat', 'dog']);
  const sum = probs.reduce((s, [, p]) => s + p, 0);
  tt.ok(Math.abs(sum - 1) <= 2e-4, `probabilities sum to ${sum}`);
  tt.ok(probs.every(([, p], i) => i === 0 || p <= probs[i - 1][1]), 'sorted, most likely first');
  tt.match(r.stderr, /weights .*tiny-clip\.safetensors: CLIP ViT\/16/);
});

t.test('classify in-process: JPEG input, template ensemble, --top', async (tt) => {
  const io = capture();
  const rc = await main(['classify', jpg, '--weights', weights, '--labels', 'a,b,c,d', '--template', 'a photo of a {}.',
    '--template', 'a {} in the scene.', '--top', '2'], io);
  tt.equal(rc, 0, io.stderr.join('\n'));
  tt.equal(parseProbabilities(io.stdout).length, 2);
  tt.match(io.stderr.join('\n'), /4 labels x 2 template\(s\)/);
});

t.test('classify errors: usage (exit 2) and failures (exit 1) with clear messages', async (tt) => {
  const cases: [string[], number, RegExp][] = [
    [['classify', png, '--weights', weights], 2, /missing required option\(s\): --labels/],
    [['classify', png, '--weights', weights, '--labels', 'cat'], 2, /at least two/],
    [['classify', png, '--weights', weights, '--labels', 'a,b', '--template', 'no slot'], 2, /has no \{\}/],
    [['classify', png, '--weights', weights, '--labels', 'a,b', '--color'], 2, /unknown option --color/],
    [['classify', join(dir, 'missing.png'), '--weights', weights, '--labels', 'a,b'], 1, /ENOENT|no such file/],
    [['classify', weights, '--weights', weights, '--labels', 'a,b'], 1, /not a PNG or JPEG/],
    [['classify', png, '--weights', png, '--labels', 'a,b'], 1, /image\.png/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
  ];
  for (const [argv, code, message] of cases) {
    const io = capture();
    tt.equal(await main(argv, io), code, argv.join(' '));
    tt.match(io.stderr.join('\n'), message);
  }
});

t.test('convert writes a canonical file that loads', async (tt) => {
  const out = join(dir, 'converted.safetensors');
  const io = capture();
  tt.equal(await main(['convert', join(FIXTURES, 'openai_fp16.pt'), out], io), 0, io.stderr.join('\n'));
  tt.match(io.stdout.join('\n'), /PyTorch zip archive, OpenAI layout, dtypes F16\/F32\/I64/);
  tt.match(io.stdout.join('\n'), /292,417 parameters, float32/);
  tt.equal((await loadClip(out)).config.vision.heads, 2);
  const bad = capture();
  tt.equal(await main(['convert', join(FIXTURES, 'reference.safetensors'), join(dir, 'x.safetensors')], bad), 1);
  tt.match(bad.stderr.join('\n'), /not a CLIP checkpoint/);
  tt.notOk(existsSync(join(dir, 'x.safetensors')), 'nothing written on failure');
});

t.test('help for the program and every command', async (tt) => {
  const io = capture();
  tt.equal(await main(['--help'], io), 0);
  for (const c of COMMANDS) tt.match(io.stdout.join('\n'), c.spec.name);
  for (const c of COMMANDS) {
    const h = capture();
    tt.equal(await main([c.spec.name, '--help'], h), 0);
    tt.match(h.stdout.join('\n'), `Usage: spt-seg ${c.spec.name}`);
  }
  tt.equal(await main([], capture()), 2, 'no command is a usage error');
});

t.test('argument parser', async (tt) => {
  const spec: CommandSpec = {
    name: 'x', summary: '', positionals: [{ name: 'a', help: '' }],
    options: [{ name: 'v', type: 'string', help: '', repeat: true }, { name: 'f', type: 'boolean', help: '' },
      { name: 'one', type: 'string', help: '' }],
  };
  const a = parseArgs(['--v', '1', 'pos', '--v=2', '--f'], spec);
  tt.same([a.positionals, a.list('v'), a.get('v'), a.flag('f'), a.get('one')], [['pos'], ['1', '2'], '2', true, undefined]);
  tt.same(parseArgs(['--', '--not-an-option'], spec).positionals, ['--not-an-option']);
  tt.throws(() => parseArgs(['p', '--one', 'a', '--one', 'b'], spec), UsageError);
  tt.throws(() => parseArgs(['p', '--one'], spec), /--one needs a value/);
  tt.throws(() => parseArgs(['p', '--f=1'], spec), /takes no value/);
  tt.throws(() => parseArgs(['p', 'q'], spec), /expected 1 argument\(s\) <a>, got 2/);
  tt.ok(parseArgs(['-h'], spec).help, '--help skips the argument checks');
});

t.test('image-io: PNG round trip, format sniffing', async (tt) => {
  const img = randomImage(5, 3);
  const back = decodeImage(encodePng(img));
  tt.same([back.width, back.height, back.channels], [5, 3, 4]);
  tt.same(Array.from(back.data).filter((_, i) => i % 4 !== 3), Array.from(img.data));
  tt.equal(sniffImageFormat(encodePng(img)), 'png');
  tt.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
  tt.equal(sniffImageFormat(new Uint8Array([1, 2, 3])), null);
});
