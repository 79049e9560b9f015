// The learning path stays true: every example in examples/ runs and prints what its chapter says,
// every relative link in the docs resolves, every "`name` in file.ts" a page names exists, and the
// pictures the chapters show are the ones the examples draw today. Each example gets a temp folder
// for its pictures as its first argument, so running the test leaves the tree (git status) clean.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../../engine/io/image.ts';
import { checkLinks, checkNames, countNames, declares, formatProblems } from './doc-check.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const LEARN = join(ROOT, 'docs', 'learn');

/** One expected line: a pattern, and optionally a check of its captured numbers (an error message, or null). */
interface Expect { line: RegExp; check?: (m: RegExpMatchArray) => string | null }
const num = (s: string): number => Number(s);
const below = (limit: number, what: string) => (m: RegExpMatchArray): string | null =>
  m.slice(1).every((s) => Math.abs(num(s)) < limit) ? null : `${what}: ${m.slice(1).join(', ')} not below ${limit}`;

/** What each example must print. A new example without an entry here fails the test. */
const EXPECTED: Record<string, Expect[]> = {
  '01-autograd.ts': [
    { line: /^ {2}w +\[3, 2\] = leaf$/m },
    { line: /= matmul\(x, w\)$/m },
    { line: /= tanh\(t\d+\)$/m },
    { line: /^ {2}t\d+ +\[\] = sum\(t\d+\)$/m },
    { line: /^nodes: 8$/m },
    { line: /max \|autograd - numerical\| w ([\d.e+-]+), b ([\d.e+-]+)$/m, check: below(1e-7, 'finite-difference error') },
    { line: /^gradient check: ok$/m },
  ],
  '02-kernels.ts': [
    { line: /^ {2}wasm +max \|diff\| vs cpu ([\d.e+-]+)  time [\d.]+ ms  \([\d.]+x cpu\)$/m, check: below(1e-3, 'wasm vs cpu') },
    { line: /^ {2}gpu\.js cpu +max \|diff\| vs cpu ([\d.e+-]+)  time [\d.]+ ms  \([\d.]+x cpu\)$/m, check: below(1e-3, 'gpu.js vs cpu') },
    { line: /^matmul \[96, 128\] x \[128, 64\], float32/m },
    { line: /^exp \[4096\], float32/m },
    { line: /^sigmoid \[4096\], float32/m },
    { line: /^every kernel agrees with the reference within 1e-4 relative: yes$/m },
  ],
  '03-spectral-filter.ts': [
    { line: /^rfft2: grid \[16, 16\] -> half spectrum \[16, 9, 2\]/m },
    { line: /^round trip irfft2\(rfft2\(x\)\): max \|error\| ([\d.e+-]+)$/m, check: below(1e-12, 'round-trip error') },
    { line: /^Parseval \(ortho\): sum x\^2 = ([\d.]+), spectrum energy = ([\d.]+)$/m, check: (m) => (m[1] === m[2] ? null : `energy ${m[1]} != ${m[2]}`) },
    { line: /^adjoint: <rfft2 x, g> = ([\d.-]+), <x, rfft2\^T g> = [\d.-]+, \|diff\| ([\d.e+-]+)$/m, check: (m) => (Math.abs(num(m[1])) > 1e-3 && num(m[2]) < 1e-10 ? null : `adjoint ${m[1]}, diff ${m[2]}`) },
    { line: /^checkerboard amplitude: before 0\.3000, after the low-pass ([\d.]+)$/m, check: below(1e-3, 'checkerboard left after the low-pass') },
    { line: /^\|X\| at the checkerboard bin \(h 8, k 8\): before 4\.7999, after ([\d.e+-]+)$/m, check: below(1e-5, 'checkerboard bin after the filter') },
    { line: /^learnable filter: weight \[16, 9, 2\], grad \[16, 9, 2\]$/m },
    { line: /^wrote .*03-spectrum\.png \(618x192\)/m },
  ],
  '04-vit-clip.ts': [
    { line: /^patches: image \[2,3,32,32\] -> grid 4x4 -> tokens \[2,16,32\]$/m },
    { line: /^sequence with CLS: \[2,17,32\]$/m },
    { line: /^attention row sums to (1\.000000)$/m },
    // OpenAI's ids for "a photo of a cat" are 320 1125 539 320 2368 (clip.tokenize).
    { line: /^ {2}ids: 49406 320 1125 539 320 2368 267 .* 49407$/m },
    { line: /^ {2}pieces: a \| photo \| of \| a \| cat \| , \| sitting/m },
    { line: /^image features \[2,16\], text features \[3,16\]$/m },
    { line: /^feature norms after l2normalize: 1\.000000 1\.000000$/m },
  ],
  '05-spectral-prompts.ts': [
    { line: /^blocks see \(1 CLS \+ T prompts \+ N patches\): 19 \(shallow prompts\), 19 \(new deep prompts\), 19 \(new deep prompts\)$/m },
    { line: /^complex_weight \[4, 3, 32, 2\]: spectral prompt \[1, 16, 32\], rms ([\d.]+) vs patch tokens rms 1\.0000$/m, check: (m) => (num(m[1]) > 0 ? null : 'the spectral prompt is zero') },
    // prompts 2·32, deep 2·2·32, prompt_proj 32·32 + 32, prompt_norm 2·32, complex_weight 4·3·32·2
    { line: /^ {2}prompt_embeddings 64, deep_prompt_embeddings 128, prompt_proj 1056, prompt_norm 64$/m },
    { line: /^ {2}complex_weight 768, decode_head (\d+)$/m, check: (m) => (num(m[1]) === 5844 ? null : `decode_head ${m[1]}`) },
    { line: /^SptSeg parameters: \d+ in all, 7924 trainable:$/m },
    { line: /^without the spectral filter \(trainSpectral: false\): 7156 trainable$/m },
    { line: /^zero filter vs no spectral prompt: max \|dense difference\| 0$/m },
    { line: /^VPT-shallow \(deepLayers 0\): 19 \(shallow prompts\), 19 \(prompts carried from block 0\), 19 \(prompts carried from block 1\)$/m },
    { line: /^deepLayers 1 of 2: 19 \(shallow prompts\), 19 \(new deep prompts\), 17 \(no prompts\)$/m },
  ],
  '06-hilo-decoder.ts': [
    { line: /^grid 7x7 padded to 9x9: 9 windows \[9, 3, 3, 16\], pooled cells \[1, 16, 3, 3\]$/m },
    { line: /^windowReverse\(windowPartition\(x\)\): max \|diff\| 0$/m },
    { line: /^heads 8: Hi-Fi 1 \(window attention\), Lo-Fi 7 \(pooled attention\), head width 2$/m },
    { line: /^scores per head: Hi-Fi 9 windows x 9 x 9 = 729, Lo-Fi 49 x 9 = 441, full attention 49 x 49 = 2401$/m },
    { line: /^Lo-Fi attention of token \(2, 5\) over the 9 pooled cells \(mean of 7 heads\) sums to 1\.000000$/m },
    { line: /^relation queries \[1, 3, 32\] -> 2 layers of mask logits \[1, 3, 7, 7\]$/m },
    { line: /^layer 0 readout attention of class 0 over the 49 tokens sums to 1\.000000$/m },
    { line: /^wrote .*06-hilo\.png \(556x180\)/m },
  ],
  '07-ssim.ts': [
    { line: /^sigmoid focal loss \(alpha 0\.25, gamma 2\) = ([\d.]+)$/m },
    { line: /^focal \/ BCE = ([\d.]+) /m, check: (m) => (num(m[1]) > 0 && num(m[1]) < 1 ? null : `focal / BCE = ${m[1]}, expected in (0, 1)`) },
    {
      line: /^SSIM\(logits, targets\) = ([\d.-]+), SSIM loss = 1 - SSIM = ([\d.-]+)$/m,
      check: (m) => (Math.abs(num(m[1]) + num(m[2]) - 1) < 2e-6 ? null : `SSIM ${m[1]} + loss ${m[2]} != 1`),
    },
    { line: /^SSIM\(targets, targets\) = 1\.000000 \(identical images\)$/m },
    { line: /^SSIM map of class 1: min ([\d.-]+) max ([\d.-]+)/m, check: (m) => (num(m[1]) >= -1 && num(m[2]) <= 1 ? null : 'SSIM outside [-1, 1]') },
    { line: /^wrote .*07-ssim-map\.png \(584x192\)/m },
  ],
  '08-train-eval.ts': [
    { line: /^inductive: train id 0 -> 0, 14 -> 14, 15 \(unseen\) -> 255, 19 \(unseen\) -> 255, 255 -> 255$/m },
    { line: /^transductive: train id 0 -> 0, 14 -> 14, 15 \(unseen\) -> 15, 19 \(unseen\) -> 19, 255 -> 255$/m },
    // 8 pixels: IoU 2/3, 1/2, 2/3 (seen) and 1/2 (unseen); hIoU = 2·(11/18)·(1/2) / (11/18 + 1/2) = 0.55.
    { line: /^worked example IoU per class: 0\.6667 0\.5000 0\.6667 0\.5000$/m },
    { line: /^worked example mIoU\(S\) 0\.6111 mIoU\(U\) 0\.5000 hIoU 0\.5500$/m },
    { line: /^train: 3 images, 20 classes \(5 unseen, inductive\); 11,924 trainable parameters; 4 steps × 2 images of 32×32$/m },
    { line: /^paused at step 2 of 4/m },
    ...[1, 2, 3, 4].map((step) => ({
      line: new RegExp(`^step ${step}: loss ([\\d.]+) = 100 \\* focal ([\\d.]+) \\+ \\(1 - ssim\\) ([\\d.]+)$`, 'm'),
      check: (m: RegExpMatchArray) => (Math.abs(num(m[1]) - 100 * num(m[2]) - num(m[3])) < 2e-3 ? null : `step ${step}: total != 100 focal + (1 - ssim)`),
    })),
    { line: /^paused \+ resumed run equals an uninterrupted one, bit for bit: yes$/m },
    { line: /^eval: mIoU\(S\) (\d+\.\d)$/m },
    { line: /^eval: mIoU\(U\) (\d+\.\d)$/m },
    { line: /^eval: hIoU (\d+\.\d)$/m },
    {
      line: /^eval: mIoU\(S\) (\d+\.\d)\neval: mIoU\(U\) (\d+\.\d)\neval: hIoU (\d+\.\d)$/m,
      check: (m) => {
        const [s, u, h] = [num(m[1]), num(m[2]), num(m[3])];
        const want = s + u === 0 ? 0 : (2 * s * u) / (s + u);
        return Math.abs(h - want) <= 0.1 ? null : `hIoU ${h} is not the harmonic mean ${want.toFixed(2)} of ${s} and ${u}`;
      },
    },
  ],
};

/** The pictures each example draws into its output folder; the committed copies live in docs/learn/images/. */
const PICTURES: Record<string, string[]> = {
  '03-spectral-filter.ts': ['03-spectrum.png'],
  '06-hilo-decoder.ts': ['06-hilo.png'],
  '07-ssim.ts': ['07-ssim-map.png'],
};

function runExample(file: string, outDir: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('examples', file), outDir], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000,
  });
  return { code: r.status, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts')).sort();

t.test('every example has expectations', async (t) => {
  t.ok(examples.length >= 4, `examples found: ${examples.join(', ')}`);
  for (const f of examples) t.ok(EXPECTED[f], `examples/${f} has an entry in EXPECTED (test/docs/learn.test.ts)`);
});

for (const file of examples) {
  t.test(`examples/${file} runs and prints what its chapter says`, async (t) => {
    // The example draws into a temp folder (the committed pictures stay untouched) and the test
    // compares what it drew with the committed copy, within 1 grey level (PNG encoders may differ).
    const outDir = mkdtempSync(join(tmpdir(), 'learn-images-'));
    const { code, out, err } = runExample(file, outDir);
    t.equal(code, 0, `exit code 0\n${err}`);
    for (const e of EXPECTED[file] ?? []) {
      const m = out.match(e.line);
      if (!t.ok(m, `prints a line matching ${e.line}`, { output: out })) continue;
      if (e.check) {
        const problem = e.check(m!);
        t.equal(problem, null, `numbers of ${e.line}`);
      }
    }
    for (const name of PICTURES[file] ?? []) {
      const drawn = join(outDir, name), committed = join(LEARN, 'images', name);
      if (!t.ok(existsSync(drawn), `wrote ${name} into the folder it was given`)) continue;
      if (!t.ok(existsSync(committed), `docs/learn/images/${name} is committed`)) continue;
      const [a, b] = [decodeImage(new Uint8Array(readFileSync(committed)), committed), decodeImage(new Uint8Array(readFileSync(drawn)), drawn)];
      t.same([b.width, b.height], [a.width, a.height], `${name}: picture size unchanged`);
      let maxDiff = 0;
      for (let j = 0; j < Math.min(a.data.length, b.data.length); j++) maxDiff = Math.max(maxDiff, Math.abs(a.data[j] - b.data[j]));
      t.ok(maxDiff <= 1, `${name}: the committed picture is what the example draws today (max pixel difference ${maxDiff})`);
    }
    rmSync(outDir, { recursive: true, force: true });
  });
}

t.test('every committed picture is drawn by an example, and every chapter shows its pictures', async (t) => {
  const drawn = Object.values(PICTURES).flat();
  for (const f of readdirSync(join(LEARN, 'images'))) t.ok(drawn.includes(f), `docs/learn/images/${f} is drawn by an example listed in PICTURES`);
  for (const [file, names] of Object.entries(PICTURES)) {
    t.ok(examples.includes(file), `PICTURES names examples/${file}, which exists`);
    const chapter = readdirSync(LEARN).find((c) => c.slice(0, 2) === file.slice(0, 2) && c.endsWith('.md'));
    const text = chapter ? readFileSync(join(LEARN, chapter), 'utf8') : '';
    for (const n of names) t.ok(text.includes(`](images/${n})`), `${chapter ?? `chapter ${file.slice(0, 2)}`} shows images/${n}`);
  }
});

const mdFiles = [
  ...readdirSync(LEARN).filter((f) => f.endsWith('.md')).map((f) => join(LEARN, f)),
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f)),
  join(ROOT, 'README.md'),
];

t.test('every relative link in the docs resolves', async (t) => {
  for (const f of mdFiles) {
    const problems = checkLinks(f, ROOT);
    t.equal(problems.length, 0, `${f.slice(ROOT.length)}: links resolve\n${formatProblems(problems)}`);
  }
});

t.test('every "`name` in file.ts" a page names is declared there', async (t) => {
  for (const f of mdFiles) {
    const problems = checkNames(f, ROOT);
    t.equal(problems.length, 0, `${f.slice(ROOT.length)}: names exist\n${formatProblems(problems)}`);
  }
  const chapters = readdirSync(LEARN).filter((f) => /^\d\d-.*\.md$/.test(f));
  for (const c of chapters) t.ok(countNames(join(LEARN, c)) >= 3, `${c} names at least 3 functions by file`);
});

t.test('the index lists every chapter, and every chapter its example', async (t) => {
  const index = readFileSync(join(LEARN, 'README.md'), 'utf8');
  for (const c of readdirSync(LEARN).filter((f) => /^\d\d-.*\.md$/.test(f))) {
    t.ok(index.includes(`(${c})`), `docs/learn/README.md links ${c}`);
    const text = readFileSync(join(LEARN, c), 'utf8');
    const example = examples.find((e) => e.slice(0, 2) === c.slice(0, 2));
    if (t.ok(example, `examples/ has an example numbered ${c.slice(0, 2)}`)) {
      t.ok(text.includes(`../../examples/${example}`), `${c} links examples/${example}`);
    }
  }
});

t.test('the checkers catch what they are for', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doc-check-'));
  writeFileSync(join(dir, 'x.ts'), 'export function realFn(): void {}\nexport class K {\n  method(): number { return 1; }\n}\n');
  const md = join(dir, 'page.md');
  writeFileSync(md, [
    '[ok](x.ts) [gone](missing.ts) [web](https://example.com) [anchor](#top) ![pic](img/none.png)',
    '`realFn` in [`x.ts`](x.ts), `K.method` in [`x.ts`](x.ts), `K.nope` in [`x.ts`](x.ts), `ghost` in [`y.ts`](y.ts), `bare` in `x.ts`, `gone` in `sub/z.ts`',
    '```', '[in code](nowhere.ts)', '```',
  ].join('\n'));
  t.same(checkLinks(md, dir).map((p) => p.message), [
    'broken link "missing.ts" (no missing.ts)', 'broken link "img/none.png" (no img/none.png)', 'broken link "y.ts" (no y.ts)',
  ]);
  t.same(checkNames(md, dir).map((p) => p.message), ['`K.nope`: x.ts declares no "nope"', '`ghost` in y.ts: no such file', '`gone` in sub/z.ts: no such file']);
  t.ok(declares('  static async run<T>(x: T) {', 'run'));
  t.ok(declares("export { a, b as c } from './z.ts';", 'c'));
  t.notOk(declares('const other = realFn();', 'realFn'));
});
