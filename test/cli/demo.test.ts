// `spt-seg demo` end to end (a few steps): prints the report and writes a checkpoint that loads back.
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/spt-seg.ts';
import { loadSafetensors } from '../../engine/io/files.ts';
import { VisionTransformer } from '../../model/vit.ts';
import { evaluate, SHAPES_DEFAULTS } from '../../train/demo/trainer.ts';

t.test('demo trains, reports, and writes loadable outputs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spt-demo-'));
  const out: string[] = [], err: string[] = [];
  const code = await main(['demo', '--steps', '8', '--out', dir], { out: (l) => out.push(l), err: (l) => err.push(l) });
  t.equal(code, 0, err.join('\n'));
  const text = out.join('\n');
  const m = /held-out accuracy: ([\d.]+)% on (\d+) scenes/.exec(text);
  t.ok(m, 'prints the held-out accuracy');
  for (const f of ['vit-shapes.safetensors', 'samples.png', 'report.md']) t.ok(existsSync(join(dir, f)), `wrote ${f}`);
  // The checkpoint reproduces the printed accuracy.
  const { tensors, metadata } = await loadSafetensors(join(dir, 'vit-shapes.safetensors'));
  const model = new VisionTransformer(JSON.parse(metadata.config));
  model.loadStateDict(tensors);
  const { accuracy } = evaluate(model, { ...SHAPES_DEFAULTS, steps: 8 });
  t.equal((100 * accuracy).toFixed(1), m![1]);
});

t.test('demo rejects bad options with a usage error', async (t) => {
  const err: string[] = [];
  const code = await main(['demo', '--steps', 'many'], { out: () => {}, err: (l) => err.push(l) });
  t.equal(code, 2);
  t.match(err.join('\n'), /--steps must be an integer/);
});
