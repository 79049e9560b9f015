/**
 * `spt-seg world`: the whole method on the zero-shot shapes world, end to end on this machine.
 *
 *   1. load the world CLIP (assets/world-clip.safetensors, made by `spt-seg pretrain`);
 *   2. build SPT-SEG from it (prompts and spectral filter fresh; the spectral guided decoder started at
 *      the frozen-CLIP scores and calibrated, model/decoder-start.ts, unless --decoder-init official)
 *      and train it on the 9 seen shapes only, unseen pixels ignored (the official inductive setting),
 *      with a progress bar;
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
import { formatTime } from '../../train/progress.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { worldGrid } from '../../train/world/export.ts';
import { renderWorldReport } from '../../train/world/report.ts';
import { runWorld } from '../../train/world/run.ts';
import { WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import type { CalibrationReport } from '../../model/decoder-start.ts';
import type { GateReport } from '../../model/spt-init.ts';
import { argmaxWithOffset } from '../../train/world/segment.ts';
import { intOption, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const WORLD_CLIP_ASSET = 'assets/world-clip.safetensors';


const pct = (v: number): string => (Number.isNaN(v) ? 'nan' : (100 * v).toFixed(1));

export const worldCommand: Command = {
  spec: {
    name: 'world',
    summary: 'SPT-SEG on the zero-shot shapes world: train on 9 seen shapes, segment all 12 from their names.',
    positionals: [],
    options: [
      { name: 'clip', type: 'string', value: '<file>', help: `the world CLIP (default ${WORLD_CLIP_ASSET})` },
      { name: 'steps', type: 'string', value: '<n>', help: 'training steps (default 200)' },
      { name: 'batch', type: 'string', value: '<n>', help: 'scenes per step (default 16)' },
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the scenes, the fresh weights and dropout (default 0)' },
      { name: 'test-scenes', type: 'string', value: '<n>', help: 'held-out test scenes (default 300; as many again for validation)' },
      { name: 'decoder', type: 'string', value: '<hilo|cross>', help: 'hilo: the spectral guided decoder (default); cross: ZegCLIP\'s plain decoder' },
      { name: 'decoder-init', type: 'string', value: '<official|aligned>', help: 'aligned (default): start at the frozen-CLIP scores, calibrated on the first batch; official: trunc_normal(0.02)' },
      { name: 'ignore', type: 'string', value: '<reference|mask>', help: 'label-255 pixels (unseen shapes, background) in the loss: reference = negatives for every class, as the official code; mask = left out (default reference)' },
      { name: 'lr', type: 'string', value: '<x>', help: 'base learning rate (default 1e-4; prompts, backbone and decoder take 10×)' },
      { name: 'out', type: 'string', value: '<dir>', help: 'run folder (default runs/world)' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode>' },
    ],
    details: 'Seen: circle, square, triangle, cross, crescent, heart, diamond, hexagon, L-shape.\nUnseen: ring, star, arrow.',
  },
  async run(args, io) {
    const steps = intOption(args, 'steps', 200), batch = intOption(args, 'batch', 16), seed = intOption(args, 'seed', 0, 0);
    const testN = intOption(args, 'test-scenes', 300);
    const out = args.get('out') ?? join('runs', 'world');
    const clipPath = args.get('clip') ?? WORLD_CLIP_ASSET;
    const attention = args.get('decoder') ?? 'hilo', decoderInit = args.get('decoder-init') ?? 'aligned';
    if (attention !== 'hilo' && attention !== 'cross') throw new UsageError(`--decoder must be hilo or cross, got ${attention}`);
    if (decoderInit !== 'official' && decoderInit !== 'aligned') throw new UsageError(`--decoder-init must be official or aligned, got ${decoderInit}`);
    const ignoreMode = args.get('ignore') ?? 'reference';
    if (ignoreMode !== 'reference' && ignoreMode !== 'mask') throw new UsageError(`--ignore must be reference or mask, got ${ignoreMode}`);
    const lr = Number(args.get('lr') ?? 1e-4);
    if (!(lr > 0 && lr < 1)) throw new UsageError(`--lr must be a number in (0, 1), got ${args.get('lr')}`);
    if (!existsSync(clipPath)) throw new UsageError(`${clipPath} does not exist: make it with \`npx spt-seg pretrain\` (about an hour on 2 cores) or pass --clip`);
    useDevice(args.get('device'));
    const t0 = performance.now();
    const clip = await loadClip(clipPath);
    const g = clip.config.vision.imageSize / clip.config.vision.patchSize;
    io.err(`world: SPT-SEG on a ${clip.config.vision.layers}-block width-${clip.config.vision.width} CLIP (${g}×${g} tokens), ${attention} decoder (${decoderInit} init); `
      + `${steps} steps × ${batch} scenes, seen classes only (${DEFAULT_SPLIT.unseen.map((c) => WORLD_CLASS_NAMES[c]).join(', ')} held out)`);
    const describeGates = (gates: GateReport[]): string => gates.map((q) => `layer ${q.layer} ${(100 * q.openBefore).toFixed(0)}% open${q.flipped ? ` (prompt sign flipped: ${(100 * q.open).toFixed(0)}%)` : ''}`).join(', ');
    const onStart = ({ gates, calibration: cal }: { gates: GateReport[]; calibration: CalibrationReport | null }): void => {
      if (gates.length) io.err(`decoder gates before training: ${describeGates(gates)}`);
      if (cal) io.err(`calibrated before training: final logits ×${cal.scale} ${cal.shift < 0 ? '−' : '+'} ${Math.abs(cal.shift)} (shift channel ${cal.channel}), first-batch loss ${cal.lossBefore.toFixed(2)} → ${cal.loss.toFixed(2)}`);
    };
    const r = await runWorld(clip, { steps, batch, seed, testScenes: testN, spectral: true, attention, decoderInit, ignoreMode, lr, outDir: out, label: 'train', onStart });
    const { rows, sptTest, testScenes, model, trainable, trainSeconds, gates } = r;
    const gateLine = describeGates(gates);
    const { seen, unseen } = DEFAULT_SPLIT;
    const K = WORLD_CLASS_NAMES.length;
    const tuned = rows[0].offset;
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
    await writeFileAtomic(join(out, 'samples.png'), worldGrid(triples.map((x) => x.scene), 8, 2, triples.map((x) => x.pred)));
    const curvePath = join(out, 'loss.png');
    const html = renderWorldReport({
      title: 'SPT-SEG on the zero-shot shapes world',
      settings: {
        clip: clipPath, steps, batch, seed, 'test scenes': testN, 'validation scenes': testN, 'trainable parameters': trainable,
        decoder: `${attention}, ${decoderInit} init`, 'training time': formatTime(trainSeconds), 'decoder gates at start': gateLine || 'none (cross-attention decoder)',
        'calibration at start': r.calibration ? `final logits ×${r.calibration.scale} − ${-r.calibration.shift}` : 'none', 'label-255 pixels in the loss': ignoreMode, lr,
        'seen classes': seen.map((c) => WORLD_CLASS_NAMES[c]).join(', '),
        'unseen classes': unseen.map((c) => WORLD_CLASS_NAMES[c]).join(', '), world: JSON.stringify(WORLD_DEFAULTS),
      },
      classNames: WORLD_CLASS_NAMES, unseenIds: unseen, rows,
      lossCurve: existsSync(curvePath) ? new Uint8Array(await readFile(curvePath)) : null, triples,
    });
    await writeFileAtomic(join(out, 'report.html'), html);
    await saveSafetensors(join(out, 'weights.safetensors'), model.stateDict(), { vision_heads: String(clip.config.vision.heads) });
    const summary = {
      clip: clipPath, steps, batch, seed, testScenes: testN, decoder: attention, decoderInit, ignoreMode, lr,
      calibration: r.calibration, trainSeconds, totalSeconds: (performance.now() - t0) / 1000,
      rows: rows.map((row) => ({ name: row.name, offset: row.offset, mIoUSeen: row.metrics.mIoUSeen, mIoUUnseen: row.metrics.mIoUUnseen, hIoU: row.metrics.hIoU, iou: Object.fromEntries(WORLD_CLASS_NAMES.map((n, c) => [n, row.metrics.iou[c]])) })),
    };
    await writeFileAtomic(join(out, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
    io.out(`wrote ${join(out, 'report.html')}, ${join(out, 'samples.png')}, ${join(out, 'metrics.json')} and ${join(out, 'weights.safetensors')} (${formatTime((performance.now() - t0) / 1000)} in all)`);
    return 0;
  },
};
