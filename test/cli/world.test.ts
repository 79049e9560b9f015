// `spt-seg world` end to end at a tiny size (a random world CLIP, a few steps, a few scenes): the metric
// lines, the files, and the HTML report rendered in Chromium with its pictures showing the masks.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { saveClip } from '../../model/weights.ts';
import { loadSptSeg } from '../../model/spt-weights.ts';
import { createWorldClip, WORLD_CLIP } from '../../train/pretrain.ts';
import { main } from '../../cli/spt-seg.ts';
import { CHROMIUM_PATH, chromiumAvailable } from '../../tools/browser/page-server.ts';
import { tempDir } from '../train/data-fixtures.ts';

t.test('world: trains on the seen shapes, reports mIoU(S), mIoU(U), hIoU and writes a report', async (t) => {
  const dir = tempDir('world');
  const clip = join(dir, 'clip.safetensors');
  await saveClip(createWorldClip(WORLD_CLIP, 0), clip);
  const out: string[] = [], err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const run = join(dir, 'run');
  t.equal(await main(['world', '--clip', clip, '--steps', '3', '--batch', '4', '--test-scenes', '8', '--out', run], io), 0, err.join('\n'));
  const text = out.join('\n');
  t.match(text, /^results on 8 held-out test scenes/m);
  t.match(text, /^ {2}method +offset +mIoU\(S\) +mIoU\(U\) +hIoU$/m, 'one labelled table');
  for (const row of ['SPT-SEG', 'SPT-SEG \\(paper offset\\)', 'frozen CLIP', 'frozen CLIP \\(value path, MaskCLIP\\)']) {
    t.match(text, new RegExp(`^  ${row} +[\\d.]+ +(\\d+\\.\\d|nan) +(\\d+\\.\\d|nan) +(\\d+\\.\\d|nan)$`, 'm'), row);
  }
  t.match(text, /^SPT-SEG against the better frozen CLIP row/m, 'a sentence on what the numbers mean');
  t.match(err.join('\n'), /seen classes only/);
  t.match(err.join('\n'), /hilo decoder \(official init, soft gate\)/, 'the default: the spectral guided decoder at the official init');
  t.match(err.join('\n'), /decoder gates before training \(share of tokens whose gate is open\): layer 0 \d+% open, layer 1 \d+% open/);
  t.match(err.join('\n'), /^validation at step 0: hIoU /m, 'the validation curve starts before training');
  t.match(err.join('\n'), /^validation at step 3: hIoU /m, 'and ends at the last step');
  t.notMatch(err.join('\n'), /calibrated/, 'no calibration at the official init');
  for (const f of ['report.html', 'metrics.json', 'weights.safetensors', 'log.jsonl', 'loss.png', 'checkpoint.safetensors', 'curve.jsonl']) t.ok(existsSync(join(run, f)), f);
  t.match(text, /^wrote .*: report\.html, samples\.png, metrics\.json, weights\.safetensors, checkpoint\.safetensors, log\.jsonl, curve\.jsonl, loss\.png/m, 'the wrote line names every file');
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { decoderInit: string; rows: { name: string; offset: number; mIoUSeen: number; mIoUUnseen: number; hIoU: number }[] };
  t.equal(metrics.decoderInit, 'official');
  t.same(metrics.rows.map((r) => r.name), ['SPT-SEG', 'SPT-SEG (paper offset)', 'frozen CLIP', 'frozen CLIP (value path, MaskCLIP)']);
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  t.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 8 * 3, '8 triples, all embedded (the charts are inline SVG)');
  t.match(html, /<svg/, 'the validation curve and loss charts');
  t.match(html, /<tr class="unseen"><td>.*ring/);
  const back = await loadSptSeg(join(run, 'weights.safetensors'));
  t.equal(back.config.encoder.vision.heads, WORLD_CLIP.vision.heads, 'the saved weights reload with the CLIP\'s head count (metadata)');
  t.equal(back.config.encoder.vision.stem, 'conv', 'and its conv stem');

  const bad: string[] = [];
  const badIo = { out: () => {}, err: (l: string) => bad.push(l) };
  t.not(await main(['world', '--clip', clip, '--decoder-init', 'random'], badIo), 0);
  t.match(bad.join('\n'), /--decoder-init must be official or aligned, got random/);
  t.not(await main(['world', '--clip', clip, '--ignore', 'skip'], badIo), 0);
  t.match(bad.join('\n'), /--ignore must be reference or mask, got skip/);
  t.not(await main(['world', '--clip', clip, '--lr', 'fast'], badIo), 0);
  t.match(bad.join('\n'), /--lr must be a number in \(0, 1\), got fast/);
  const aligned: string[] = [];
  t.equal(await main(['world', '--clip', clip, '--decoder-init', 'aligned', '--gate', 'clamp', '--ignore', 'mask', '--ssim', 'probabilities', '--clip-norm', '1', '--steps', '2', '--batch', '2', '--test-scenes', '2', '--out', join(dir, 'aligned')],
    { out: () => {}, err: (l: string) => aligned.push(l) }), 0, aligned.join('\n'));
  t.match(aligned.join('\n'), /hilo decoder \(aligned init, clamp gate\)/, 'the aligned start on request');
  t.match(aligned.join('\n'), /decoder gates before training \(share of tokens whose gate is open\): layer 0 100% open, layer 1 100% open/, 'the aligned gates are open');
  t.match(aligned.join('\n'), /calibrated before training: final logits ×[\d.e-]+ [−+] \d+ \(constant channel \d+\), first-batch loss [\d.]+ → [\d.]+/);
  for (const [flag, value, message] of [['gate', 'open', /--gate must be clamp or soft, got open/], ['ssim', 'raw', /--ssim must be logits or probabilities or off, got raw/],
    ['clip-norm', '-1', /--clip-norm must be a positive number or none, got -1/], ['warmup', '2', /--warmup must be a fraction of the steps in \[0, 1\), got 2/]] as const) {
    const e: string[] = [];
    t.not(await main(['world', '--clip', clip, `--${flag}`, value], { out: () => {}, err: (l: string) => e.push(l) }), 0);
    t.match(e.join('\n'), message);
  }

  if (!chromiumAvailable()) {
    t.comment(`${CHROMIUM_PATH} missing: report screenshot skipped (apt-get install -y chromium)`);
    return;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    await page.goto(`file://${join(run, 'report.html')}`);
    const images = await page.$$eval('img', (els) => els.map((e) => ({ w: (e as HTMLImageElement).naturalWidth, ok: (e as HTMLImageElement).complete })));
    t.ok(images.length === 24 && images.every((i) => i.ok && i.w > 0), 'every picture decodes in Chromium');
    // The ground-truth masks show the objects: their pixels are not all one colour.
    const colours = await page.$eval('figure img[alt="ground truth"]', (img) => {
      const c = document.createElement('canvas');
      const el = img as HTMLImageElement;
      c.width = el.naturalWidth; c.height = el.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(el, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<string>();
      for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
      return seen.size;
    });
    t.ok(colours >= 2, `a ground-truth mask shows ${colours} colours (objects on background)`);
    const shot = await page.screenshot({ fullPage: false });
    t.ok(shot.length > 10_000, 'screenshot taken');
  } finally {
    await browser.close();
  }
});

t.test('ablate: four variants, mean ± std over seeds, written as Markdown', async (t) => {
  const dir = tempDir('ablate');
  const clip = join(dir, 'clip.safetensors');
  await saveClip(createWorldClip(WORLD_CLIP, 0), clip);
  const out: string[] = [], err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  t.equal(await main(['ablate', '--clip', clip, '--steps', '2', '--batch', '2', '--seeds', '2', '--test-scenes', '4', '--out', join(dir, 'ab')], io), 0, err.join('\n'));
  const table = out.join('\n');
  for (const v of ['VPT + plain decoder', '+ spectral prompts', '+ spectral guided decoder', 'SPT-SEG (both)']) {
    t.match(table, new RegExp(`\\| ${v.replace(/[+()]/g, '\\$&')} \\|.*\\| (\\d+\\.\\d ± \\d+\\.\\d|nan) \\|$`, 'm'), v);
  }
  t.ok(existsSync(join(dir, 'ab', 'ablation.md')) && existsSync(join(dir, 'ab', 'ablation.json')));
  const json = JSON.parse(readFileSync(join(dir, 'ab', 'ablation.json'), 'utf8')) as { results: unknown[] };
  t.equal(json.results.length, 8, '4 variants × 2 seeds');
  const some: string[] = [];
  const someIo = { out: (l: string) => some.push(l), err: () => {} };
  t.equal(await main(['ablate', '--clip', clip, '--steps', '1', '--batch', '2', '--seeds', '1', '--test-scenes', '2', '--variants', '1', '--decoder-init', 'aligned', '--out', join(dir, 'ab1')], someIo), 0);
  t.match(some.join('\n'), /\| VPT \+ plain decoder \|  \| plain cross-attention, aligned init \|/);
  t.notMatch(some.join('\n'), /spectral guided/, 'only the chosen row');
  t.not(await main(['ablate', '--clip', clip, '--variants', '5'], { out: () => {}, err: () => {} }), 0, 'a row out of range is refused');
});

t.test('world: Ctrl-C saves the checkpoint and reports nothing; --resume finishes the run', async (t) => {
  const dir = tempDir('world-sigint');
  const clip = join(dir, 'clip.safetensors');
  await saveClip(createWorldClip(WORLD_CLIP, 0), clip);
  const run = join(dir, 'run');
  const args = ['world', '--clip', clip, '--steps', '40', '--batch', '2', '--test-scenes', '2', '--out', run, '--device', 'cpu'];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/spt-seg.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '', stdout = '';
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  proc.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  // Interrupt once a few steps are logged.
  const log = join(run, 'log.jsonl');
  const t0 = Date.now();
  while (!(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 4) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
  proc.kill('SIGINT');
  const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  t.equal(code, 130, `exit 130 after Ctrl-C\n${stderr}`);
  const steps = readFileSync(log, 'utf8').trim().split('\n').length;
  t.ok(steps < 40, `stopped at step ${steps} of 40`);
  t.match(stderr, new RegExp(`interrupted at step ${steps} of 40: the checkpoint is in .*checkpoint\\.safetensors; nothing was evaluated or reported`));
  t.match(stderr, /--resume/);
  t.ok(existsSync(join(run, 'checkpoint.safetensors')), 'the checkpoint is saved');
  for (const f of ['report.html', 'metrics.json', 'weights.safetensors', 'samples.png']) t.notOk(existsSync(join(run, f)), `no ${f} claims a finished run`);
  t.notMatch(stdout, /results on|wrote/, 'no results printed');
  const out: string[] = [], err: string[] = [];
  t.equal(await main([...args, '--resume'], { out: (l) => out.push(l), err: (l) => err.push(l) }), 0, err.join('\n'));
  t.equal(readFileSync(log, 'utf8').trim().split('\n').length, 40, 'the resumed run completes the 40 steps');
  for (const f of ['report.html', 'metrics.json', 'weights.safetensors']) t.ok(existsSync(join(run, f)), f);
  const curve = readFileSync(join(run, 'curve.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
  t.equal(curve[0], 0, 'the curve keeps its point before training');
  t.equal(curve[curve.length - 1], 40, 'and ends at the last step');
});

t.test('ablate: Ctrl-C keeps the finished runs and writes no table; --resume finishes the ablation', async (t) => {
  const dir = tempDir('ablate-sigint');
  const clip = join(dir, 'clip.safetensors');
  await saveClip(createWorldClip(WORLD_CLIP, 0), clip);
  const out = join(dir, 'ab');
  const args = ['ablate', '--clip', clip, '--steps', '30', '--batch', '2', '--seeds', '2', '--test-scenes', '2', '--variants', '1', '--out', out, '--device', 'cpu'];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/spt-seg.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  // Interrupt during the second run (seed 1), once the first is recorded.
  const log = join(out, 'run-1-seed-1', 'log.jsonl');
  const t0 = Date.now();
  while (!(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 3) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
  proc.kill('SIGINT');
  const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  t.equal(code, 130, `exit 130 after Ctrl-C\n${stderr}`);
  t.match(stderr, /interrupted in "VPT \+ plain decoder", seed 1, at step \d+ of 30: 1 finished runs are in .*runs\.jsonl/);
  t.notOk(existsSync(join(out, 'ablation.md')), 'no table');
  t.equal(readFileSync(join(out, 'runs.jsonl'), 'utf8').trim().split('\n').length, 1, 'the finished run is kept');
  const lines: string[] = [];
  t.equal(await main([...args, '--resume'], { out: (l) => lines.push(l), err: () => {} }), 0);
  const json = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8')) as { results: { seed: number }[] };
  t.same(json.results.map((r) => r.seed), [0, 1], 'both seeds, the first one not run again');
  t.equal(readFileSync(join(out, 'run-1-seed-1', 'log.jsonl'), 'utf8').trim().split('\n').length, 30, 'the interrupted run resumed to its last step');
});
