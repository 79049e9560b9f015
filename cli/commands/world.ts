/**
 * `spt-seg world`: the whole method on the zero-shot shapes world, end to end on this machine.
 *
 *   1. load the world CLIP (assets/world-clip.safetensors, made by `spt-seg pretrain`);
 *   2. build SPT-SEG from it (prompts, spectral filter and decoder fresh) and train it on the 9 seen
 *      shapes only, unseen pixels ignored (the official inductive setting), with a progress bar;
 *   3. evaluate on held-out scenes with all 12 classes: SPT-SEG and the frozen-CLIP baseline, the
 *      seen-class offset tuned on validation scenes (never the test scenes) and the paper's 0.1;
 *   4. print `mIoU(S) x.x`, `mIoU(U) x.x`, `hIoU x.x` and write report.html (self-contained), the
 *      checkpoint, the log and the loss curve to the run folder.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useDevice } from '../../engine/index.ts';
import { saveSafetensors, writeFileAtomic } from '../../engine/io/files.ts';
import { loadClip } from '../../model/weights.ts';
import { sptSegFromClip } from '../../model/spt-init.ts';
import { runTraining } from '../../train/loop.ts';
import { formatTime, Progress } from '../../train/progress.ts';
import { segmentationTask } from '../../train/segmentation.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { renderWorldReport } from '../../train/world/report.ts';
import { WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import {
  argmaxWithOffset, clipProbabilities, metricsAt, scoreScenes, sptProbabilities, tuneOffset, worldClassText, worldScenes, WorldSegStream,
} from '../../train/world/segment.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import type { Command } from '../command.ts';

export const WORLD_CLIP_ASSET = 'assets/world-clip.safetensors';
const OFFSETS = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];

function intOpt(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${raw}`);
  return v;
}

const pct = (v: number): string => (Number.isNaN(v) ? 'nan' : (100 * v).toFixed(1));

export const worldCommand: Command = {
  spec: {
    name: 'world',
    summary: 'SPT-SEG on the zero-shot shapes world: train on 9 seen shapes, segment all 12 (npm start).',
    positionals: [],
    options: [
      { name: 'clip', type: 'string', value: '<file>', help: `the world CLIP (default ${WORLD_CLIP_ASSET})` },
      { name: 'steps', type: 'string', value: '<n>', help: 'training steps (default 400)' },
      { name: 'batch', type: 'string', value: '<n>', help: 'scenes per step (default 16)' },
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the scenes, the fresh weights and dropout (default 0)' },
      { name: 'test-scenes', type: 'string', value: '<n>', help: 'held-out test scenes (default 300; as many again for validation)' },
      { name: 'out', type: 'string', value: '<dir>', help: 'run folder (default runs/world)' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode>' },
    ],
    details: 'Seen: circle, square, triangle, cross, crescent, heart, diamond, hexagon, L-shape.\nUnseen: ring, star, arrow.',
  },
  async run(args, io) {
    const steps = intOpt(args, 'steps', 400), batch = intOpt(args, 'batch', 16), seed = intOpt(args, 'seed', 0, 0);
    const testN = intOpt(args, 'test-scenes', 300);
    const out = args.get('out') ?? join('runs', 'world');
    const clipPath = args.get('clip') ?? WORLD_CLIP_ASSET;
    if (!existsSync(clipPath)) throw new UsageError(`${clipPath} does not exist: make it with \`npx spt-seg pretrain\` (about an hour on 2 cores) or pass --clip`);
    useDevice(args.get('device'));
    const t0 = performance.now();
    const clip = await loadClip(clipPath);
    const text = worldClassText(clip, WORLD_CLASS_NAMES); // [12, E]
    const { seen, unseen } = DEFAULT_SPLIT;
    const v = clip.config.vision, E = clip.config.embedDim, g = v.imageSize / v.patchSize;
    const model = sptSegFromClip(clip, {
      encoder: { vision: v, numTokens: 4, deepLayers: v.layers - 1, spectralGrid: [g, g] },
      decoder: { embedDim: E, width: E, layers: 2, ffn: 4 * E },
    });
    const task = segmentationTask(model, new WorldSegStream(seed * 3 + 1, batch, WORLD_DEFAULTS), {
      setting: 'inductive', text, seenIds: seen, unseenIds: unseen, steps, lr: 1e-4, lrMult: 10, weightDecay: 0.01,
      warmupIters: Math.min(50, Math.floor(steps / 10)), power: 0.9, minLr: 1e-6, loss: { focal: 100, ssim: 1, dice: 0, ignoreMode: 'reference' },
      trainSpectral: true, seed,
    });
    const trainable = task.optimizer.allParams().reduce((n, p) => n + p.size, 0);
    io.err(`world: SPT-SEG on a ${v.layers}-block width-${v.width} CLIP (${g}×${g} tokens), ${trainable.toLocaleString('en-US')} trainable parameters; `
      + `${steps} steps × ${batch} scenes, seen classes only`);
    await runTraining(task, { steps, outDir: out, checkpointEvery: 100, label: 'train', clipNorm: 1 });
    const trainSeconds = (performance.now() - t0) / 1000;

    // Validation scenes tune the offset; the test scenes are scored once per method.
    const valScenes = worldScenes(seed * 3 + 2, 0, testN, WORLD_DEFAULTS), testScenes = worldScenes(seed * 3 + 3, 0, testN, WORLD_DEFAULTS);
    const K = WORLD_CLASS_NAMES.length;
    const bar = new Progress({ total: 4, label: 'eval ' });
    const sptVal = scoreScenes(valScenes, K, 25, (im) => sptProbabilities(model, im, text)); bar.update(1);
    const sptTest = scoreScenes(testScenes, K, 25, (im) => sptProbabilities(model, im, text)); bar.update(2);
    const clipVal = scoreScenes(valScenes, K, 25, (im) => clipProbabilities(clip, im, text)); bar.update(3);
    const clipTest = scoreScenes(testScenes, K, 25, (im) => clipProbabilities(clip, im, text)); bar.update(4);
    bar.done();
    const tuned = tuneOffset(sptVal, seen, unseen, OFFSETS).offset;
    const clipTuned = tuneOffset(clipVal, seen, unseen, OFFSETS).offset;
    const rows = [
      { name: 'SPT-SEG', offset: tuned, metrics: metricsAt(sptTest, seen, unseen, tuned) },
      { name: 'SPT-SEG (paper offset)', offset: 0.1, metrics: metricsAt(sptTest, seen, unseen, 0.1) },
      { name: 'frozen CLIP', offset: clipTuned, metrics: metricsAt(clipTest, seen, unseen, clipTuned) },
    ];
    for (const r of rows) {
      io.out(`${r.name} (offset ${r.offset}, ${testN} test scenes):`);
      io.out(`  mIoU(S) ${pct(r.metrics.mIoUSeen)}`);
      io.out(`  mIoU(U) ${pct(r.metrics.mIoUUnseen)}`);
      io.out(`  hIoU ${pct(r.metrics.hIoU)}`);
    }
    const main = rows[0].metrics;
    io.out(`mIoU(S) ${pct(main.mIoUSeen)}`);
    io.out(`mIoU(U) ${pct(main.mIoUUnseen)}`);
    io.out(`hIoU ${pct(main.hIoU)}`);

    const first = sptTest.batches[0];
    const seenSet = new Set<number>(seen);
    const preds = argmaxWithOffset(first.probs, first.n, K, sptTest.pixels, seenSet, tuned);
    const triples = testScenes.slice(0, 8).map((scene, i) => ({ scene, pred: preds.slice(i * sptTest.pixels, (i + 1) * sptTest.pixels) }));
    const curvePath = join(out, 'loss.png');
    const html = renderWorldReport({
      title: 'SPT-SEG on the zero-shot shapes world',
      settings: {
        clip: clipPath, steps, batch, seed, 'test scenes': testN, 'validation scenes': testN, 'trainable parameters': trainable,
        'training time': formatTime(trainSeconds), 'seen classes': seen.map((c) => WORLD_CLASS_NAMES[c]).join(', '),
        'unseen classes': unseen.map((c) => WORLD_CLASS_NAMES[c]).join(', '), world: JSON.stringify(WORLD_DEFAULTS),
      },
      classNames: WORLD_CLASS_NAMES, unseenIds: unseen, rows,
      lossCurve: existsSync(curvePath) ? new Uint8Array(await readFile(curvePath)) : null, triples,
    });
    await writeFileAtomic(join(out, 'report.html'), html);
    await saveSafetensors(join(out, 'weights.safetensors'), model.stateDict());
    io.out(`wrote ${join(out, 'report.html')} and ${join(out, 'weights.safetensors')} (${formatTime((performance.now() - t0) / 1000)} in all)`);
    return 0;
  },
};
