// `spt-seg world` end to end at a tiny size (a random world CLIP, a few steps, a few scenes): the metric
// lines, the files, and the HTML report rendered in Chromium with its pictures showing the masks.
import t from 'tap';
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
  for (const line of ['mIoU(S)', 'mIoU(U)', 'hIoU']) t.match(text, new RegExp(`^${line.replace(/[()]/g, '\\$&')} (\\d+\\.\\d|nan)$`, 'm'), line);
  t.match(text, /SPT-SEG \(paper offset\) \(offset 0\.1/);
  t.match(text, /frozen CLIP \(offset/);
  t.match(err.join('\n'), /seen classes only/);
  t.match(err.join('\n'), /hilo decoder \(aligned init\)/, 'the default: the spectral guided decoder, aligned start');
  t.match(err.join('\n'), /decoder gates before training: layer 0 100% open, layer 1 100% open/, 'the aligned gates are open');
  t.match(err.join('\n'), /calibrated before training: final logits ×[\d.e-]+ [−+] \d+ \(shift channel \d+\), first-batch loss [\d.]+ → [\d.]+/);
  for (const f of ['report.html', 'metrics.json', 'weights.safetensors', 'log.jsonl', 'loss.png', 'checkpoint.safetensors']) t.ok(existsSync(join(run, f)), f);
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  t.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 1 + 8 * 3, 'loss curve + 8 triples, all embedded');
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
  const hilo: string[] = [];
  t.equal(await main(['world', '--clip', clip, '--decoder-init', 'official', '--ignore', 'mask', '--steps', '2', '--batch', '2', '--test-scenes', '2', '--out', join(dir, 'hilo')],
    { out: () => {}, err: (l: string) => hilo.push(l) }), 0, hilo.join('\n'));
  t.match(hilo.join('\n'), /hilo decoder \(official init\)/, 'the official init on request');
  t.match(hilo.join('\n'), /decoder gates before training: layer 0/);
  t.notMatch(hilo.join('\n'), /calibrated/, 'and no calibration');

  if (!chromiumAvailable()) {
    t.comment(`${CHROMIUM_PATH} missing: report screenshot skipped (apt-get install -y chromium)`);
    return;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    await page.goto(`file://${join(run, 'report.html')}`);
    const images = await page.$$eval('img', (els) => els.map((e) => ({ w: (e as HTMLImageElement).naturalWidth, ok: (e as HTMLImageElement).complete })));
    t.ok(images.length === 25 && images.every((i) => i.ok && i.w > 0), 'every picture decodes in Chromium');
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
