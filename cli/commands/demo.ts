/**
 * `spt-seg demo`: train a small ViT from scratch to name the shapes in
 * procedural images, on this machine, with a progress bar; then evaluate it on held-out scenes and
 * write a checkpoint, a sample sheet and a Markdown report. Embedded defaults, no downloads.
 * The training itself is train/demo/trainer.ts; this file parses options and prints.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { noGrad, tidy, useDevice } from '../../engine/index.ts';
import { saveSafetensors, writeFileAtomic } from '../../engine/io/files.ts';
import { Generator } from '../../engine/rng.ts';
import { Progress, formatTime } from '../../train/progress.ts';
import { batchOf, SHAPES_DEFAULTS, shapesViTConfig, trainShapes, type ShapesConfig } from '../../train/demo/trainer.ts';
import { drawScene, SHAPES, type Scene } from '../../train/demo/scenes.ts';
import type { VisionTransformer } from '../../model/vit.ts';
import { intOption } from '../args.ts';
import type { Command } from '../command.ts';
import { encodePng } from '../image-io.ts';


export const demo: Command = {
  spec: {
    name: 'demo',
    summary: 'Train a small ViT classifier on procedural shapes, end to end, and report its accuracy.',
    positionals: [],
    options: [
      { name: 'steps', type: 'string', value: '<n>', help: `optimizer steps (default ${SHAPES_DEFAULTS.steps})` },
      { name: 'batch', type: 'string', value: '<n>', help: `images per step (default ${SHAPES_DEFAULTS.batchSize})` },
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the scenes and the initial weights (default 0)' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode> (default: SPT_DEVICE or the fastest CPU path)' },
      { name: 'out', type: 'string', value: '<dir>', help: 'where to write the checkpoint and report (default runs/demo)' },
    ],
    details: 'Every step draws a fresh batch of 32×32 scenes, each with one of six shapes\n' +
      `(${SHAPES.map((s) => s.name).join(', ')}) in a random colour, size, place and angle.\n` +
      'The model is CLIP\'s ViT (model/vit.ts) at a tiny size, trained with AdamW and the poly + warmup\n' +
      'schedule SPT-SEG uses. Example: npx spt-seg demo --steps 1000',
  },
  async run(args, io) {
    const cfg: ShapesConfig = {
      ...SHAPES_DEFAULTS,
      steps: intOption(args, 'steps', SHAPES_DEFAULTS.steps),
      batchSize: intOption(args, 'batch', SHAPES_DEFAULTS.batchSize),
      seed: intOption(args, 'seed', SHAPES_DEFAULTS.seed, 0),
    };
    const outDir = args.get('out') ?? join('runs', 'demo');
    useDevice(args.get('device'));
    const vit = shapesViTConfig(cfg.imageSize);
    io.err(`demo: ViT ${vit.layers} blocks × width ${vit.width}, ${vit.patchSize}×${vit.patchSize} patches of ${cfg.imageSize}×${cfg.imageSize} images, ` +
      `${SHAPES.length} shapes; ${cfg.steps} steps × ${cfg.batchSize} images`);
    const progress = new Progress({ total: cfg.steps, label: 'train' });
    // Smooth the shown metrics over the last 20 steps: single batches are noisy.
    const recent: { loss: number; accuracy: number }[] = [];
    const result = trainShapes(cfg, (r) => {
      recent.push(r);
      if (recent.length > 20) recent.shift();
      const mean = (k: 'loss' | 'accuracy') => recent.reduce((s, x) => s + x[k], 0) / recent.length;
      progress.update(r.step, { loss: mean('loss'), acc: mean('accuracy'), lr: r.lr });
    });
    progress.done();

    const report = formatReport(cfg, result.accuracy, result.confusion, result.seconds);
    io.out(report.console);
    await mkdir(outDir, { recursive: true });
    const ckpt = join(outDir, 'vit-shapes.safetensors');
    await saveSafetensors(ckpt, result.model.stateDict(), {
      config: JSON.stringify(vit), classes: JSON.stringify(SHAPES.map((s) => s.name)), steps: String(cfg.steps), seed: String(cfg.seed),
    });
    await writeFileAtomic(join(outDir, 'samples.png'), sampleSheet(result.model, cfg));
    await writeFileAtomic(join(outDir, 'report.md'), report.markdown);
    io.out(`wrote ${ckpt}, ${join(outDir, 'samples.png')} and ${join(outDir, 'report.md')}`);
    return 0;
  },
};

function formatReport(cfg: ShapesConfig, accuracy: number, confusion: number[][], seconds: number) {
  const names = SHAPES.map((s) => s.name);
  const head = 'true \\ predicted';
  const w = Math.max(head.length, ...names.map((n) => n.length + 2));
  const perClass = confusion.map((row, i) => row[i] / Math.max(1, row.reduce((a, b) => a + b, 0)));
  const lines = [
    '',
    `held-out accuracy: ${(100 * accuracy).toFixed(1)}% on ${cfg.testScenes} scenes (chance ${(100 / names.length).toFixed(1)}%), trained in ${formatTime(seconds)}`,
    '',
    `${head.padEnd(w)}${names.map((n) => n.slice(0, 8).padStart(9)).join('')}   accuracy`,
    ...confusion.map((row, i) => `${`  ${names[i]}`.padEnd(w)}${row.map((v) => String(v).padStart(9)).join('')}   ${(100 * perClass[i]).toFixed(1)}%`),
  ];
  const md = [
    '# spt-seg demo: a ViT learns procedural shapes',
    '',
    `- steps: ${cfg.steps} × ${cfg.batchSize} images, seed ${cfg.seed}, ${formatTime(seconds)}`,
    `- held-out accuracy: **${(100 * accuracy).toFixed(1)}%** on ${cfg.testScenes} scenes`,
    '',
    `| true \\ predicted | ${names.join(' | ')} | accuracy |`,
    `|---|${names.map(() => '---:').join('|')}|---:|`,
    ...confusion.map((row, i) => `| ${names[i]} | ${row.join(' | ')} | ${(100 * perClass[i]).toFixed(1)}% |`),
    '',
    '`samples.png`: held-out scenes, framed green where the model is right and red where it is wrong.',
    '',
  ].join('\n');
  return { console: lines.join('\n'), markdown: md };
}

/** A 4×8 grid of held-out scenes at 3× scale, each framed green (right) or red (wrong). */
function sampleSheet(model: VisionTransformer, cfg: ShapesConfig): Uint8Array {
  const cols = 8, rows = 4, scale = 3, pad = 2, S = cfg.imageSize;
  const cell = S * scale + 2 * pad;
  const gen = new Generator(cfg.seed * 2 + 2);
  const scenes: Scene[] = Array.from({ length: cols * rows }, () => drawScene(gen, { size: S }));
  const pred = tidy(() => noGrad(() => model.eval().forward(batchOf(scenes).images).argmax(1).toArray()), () => model.parameters());
  model.train();
  const width = cols * cell, height = rows * cell;
  const data = new Uint8Array(width * height * 3);
  scenes.forEach((sc, k) => {
    const ox = (k % cols) * cell, oy = Math.floor(k / cols) * cell;
    const frame = pred[k] === sc.classes[0] ? [40, 200, 80] : [230, 50, 50];
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        const o = ((oy + y) * width + ox + x) * 3;
        const ix = Math.floor((x - pad) / scale), iy = Math.floor((y - pad) / scale);
        const inside = x >= pad && y >= pad && ix < S && iy < S;
        for (let c = 0; c < 3; c++) {
          data[o + c] = inside ? Math.round(255 * Math.min(1, Math.max(0, sc.image[c * S * S + iy * S + ix]))) : frame[c];
        }
      }
    }
  });
  return encodePng({ width, height, channels: 3, data });
}
