/**
 * `spt-seg world`: the whole method on the zero-shot shapes world, end to end on this machine.
 *
 *   1. load the world CLIP (assets/world-clip.safetensors, made by `spt-seg pretrain` from images and
 *      captions only: it never saw a mask);
 *   2. build SPT-SEG from it at the official initialisation and train it on the 9 seen shapes only,
 *      unseen pixels ignored (the official inductive setting), with a progress bar and a validation
 *      curve (train/world/run.ts, `WORLD_RECIPE`);
 *   3. evaluate on held-out scenes with all 12 classes: SPT-SEG and the frozen-CLIP baselines, the
 *      seen-class offset tuned on validation scenes (never the test scenes) and the paper's 0.1;
 *   4. print one labelled table and a sentence on what it means, and write report.html
 *      (self-contained), the weights, the metrics, the checkpoint, the log and the loss curve.
 * Ctrl-C saves the checkpoint and stops: nothing is evaluated or reported, the exit code is 130, and
 * `--resume` finishes the run.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useDevice } from '../../engine/index.ts';
import { saveSafetensors, writeFileAtomic } from '../../engine/io/files.ts';
import { loadClip } from '../../model/weights.ts';
import { formatTime } from '../../train/progress.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { worldGrid } from '../../train/world/export.ts';
import { renderWorldReport } from '../../train/world/report.ts';
import { runWorld, WORLD_RECIPE, type CurvePoint, type WorldRecipe, type WorldRow } from '../../train/world/run.ts';
import { WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import type { CalibrationReport } from '../../model/decoder-start.ts';
import type { GateReport } from '../../model/spt-init.ts';
import { argmaxWithOffset } from '../../train/world/segment.ts';
import { cardMetadata } from '../../model/model-card.ts';
import { worldCard } from '../../train/model-cards.ts';
import { defaultAsset } from '../assets.ts';
import { inputFile } from '../paths.ts';
import { intOption, UsageError, type ParsedArgs } from '../args.ts';
import type { CliIO, Command } from '../command.ts';

export const WORLD_CLIP_ASSET = 'assets/world-clip.safetensors';

const pct = (v: number): string => (Number.isNaN(v) ? 'nan' : (100 * v).toFixed(1));

function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = args.get(name) ?? fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got ${v}`);
  return v as T;
}

/** The recipe options shared by `world` and `ablate` (flags override WORLD_RECIPE). */
export function recipeFromArgs(args: ParsedArgs): WorldRecipe {
  const lr = Number(args.get('lr') ?? WORLD_RECIPE.lr);
  if (!(lr > 0 && lr < 1)) throw new UsageError(`--lr must be a number in (0, 1), got ${args.get('lr')}`);
  const warmup = Number(args.get('warmup') ?? WORLD_RECIPE.warmup);
  if (!(warmup >= 0 && warmup < 1)) throw new UsageError(`--warmup must be a fraction of the steps in [0, 1), got ${args.get('warmup')}`);
  const rawClip = args.get('clip-norm');
  const clipNorm = rawClip === undefined ? WORLD_RECIPE.clipNorm : rawClip === 'none' ? null : Number(rawClip);
  if (clipNorm !== null && !(clipNorm > 0)) throw new UsageError(`--clip-norm must be a positive number or none, got ${rawClip}`);
  return {
    steps: intOption(args, 'steps', WORLD_RECIPE.steps), batch: intOption(args, 'batch', WORLD_RECIPE.batch), lr, warmup, clipNorm,
    decoderInit: choice(args, 'decoder-init', ['official', 'aligned'] as const, WORLD_RECIPE.decoderInit),
    gate: choice(args, 'gate', ['clamp', 'soft'] as const, WORLD_RECIPE.gate),
    ssim: choice(args, 'ssim', ['logits', 'probabilities', 'off'] as const, WORLD_RECIPE.ssim),
    ignoreMode: choice(args, 'ignore', ['reference', 'mask'] as const, WORLD_RECIPE.ignoreMode),
    tokens: intOption(args, 'tokens', WORLD_RECIPE.tokens), decoderLayers: intOption(args, 'decoder-layers', WORLD_RECIPE.decoderLayers),
  };
}

const R = WORLD_RECIPE;
/** The flags of `recipeFromArgs`. */
export const RECIPE_OPTIONS = [
  { name: 'steps', type: 'string', value: '<n>', help: `training steps (default ${R.steps})` },
  { name: 'batch', type: 'string', value: '<n>', help: `scenes per step (default ${R.batch})` },
  { name: 'lr', type: 'string', value: '<x>', help: `base learning rate (default ${R.lr}; prompts, spectral filter and decoder take 10×)` },
  { name: 'warmup', type: 'string', value: '<f>', help: `linear warm-up, as a fraction of the steps (default ${R.warmup}, the official 1,500 of 20k)` },
  { name: 'clip-norm', type: 'string', value: '<x|none>', help: `clip the gradient norm (default ${R.clipNorm ?? 'none'}, as the official config)` },
  { name: 'decoder-init', type: 'string', value: '<official|aligned>', help: `official: trunc_normal(0.02) (default ${R.decoderInit}); aligned: start at the frozen-CLIP scores, calibrated (our option)` },
  { name: 'gate', type: 'string', value: '<clamp|soft>', help: `HiLo gate: clamp(cos, 0, 1) (official) or (1 + cos) / 2 (ours, cannot shut everywhere); default ${R.gate}` },
  { name: 'ssim', type: 'string', value: '<logits|probabilities|off>', help: `what 1 − SSIM compares with the masks: the raw logits (official), sigmoid probabilities, or no SSIM term; default ${R.ssim}` },
  { name: 'tokens', type: 'string', value: '<n>', help: `prompt tokens per block (default ${R.tokens})` },
  { name: 'decoder-layers', type: 'string', value: '<n>', help: `decoder layers (default ${R.decoderLayers})` },
  { name: 'ignore', type: 'string', value: '<reference|mask>', help: `label-255 pixels (unseen shapes, background) in the loss: reference = negatives for every class, as the official code; mask = left out (default ${R.ignoreMode})` },
] as const;

/** The labelled results table and one sentence on what it says. */
export function resultsTable(rows: readonly WorldRow[], testScenes: number, valScenes: number): string[] {
  const w = Math.max(...rows.map((r) => r.name.length), 6);
  const lines = [
    `results on ${testScenes} held-out test scenes (mIoU over the seen / unseen classes, hIoU their harmonic mean; offset: the`,
    `seen-class offset, tuned on ${valScenes} validation scenes, or the paper's 0.1):`,
    `  ${'method'.padEnd(w)}  offset  mIoU(S)  mIoU(U)   hIoU`,
    ...rows.map((r) => `  ${r.name.padEnd(w)}  ${String(r.offset).padEnd(6)}  ${pct(r.metrics.mIoUSeen).padStart(7)}  ${pct(r.metrics.mIoUUnseen).padStart(7)}  ${pct(r.metrics.hIoU).padStart(5)}`),
  ];
  const spt = rows[0], frozen = rows.filter((r) => r.name.startsWith('frozen CLIP'));
  if (frozen.length === 0) return lines;
  const best = frozen.reduce((a, b) => (b.metrics.hIoU > a.metrics.hIoU ? b : a));
  const dh = 100 * (spt.metrics.hIoU - best.metrics.hIoU), du = 100 * (spt.metrics.mIoUUnseen - best.metrics.mIoUUnseen);
  const vs = `the better frozen CLIP row (${best.name}, the same CLIP with no training)`;
  const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
  lines.push(dh > 0
    ? `SPT-SEG against ${vs}: hIoU ${signed(dh)}, mIoU(U) ${signed(du)}. Trained on the 9 seen shapes only, it segments the 3 unseen ones, whose masks it never saw, ${du > 0 ? 'better than' : 'no better than'} the CLIP it started from.`
    : `SPT-SEG against ${vs}: hIoU ${signed(dh)}: on this run training did not beat the frozen CLIP.`);
  return lines;
}

const describeGates = (gates: GateReport[]): string => gates.map((q) => `layer ${q.layer} ${(100 * q.openBefore).toFixed(0)}% open${q.flipped ? ` (prompt sign flipped: ${(100 * q.open).toFixed(0)}%)` : ''}`).join(', ');

/** Validation-curve points already measured by an interrupted run (its folder's curve.jsonl). */
async function earlierCurve(path: string, resume: boolean): Promise<CurvePoint[]> {
  if (!resume || !existsSync(path)) {
    await writeFile(path, '');
    return [];
  }
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as CurvePoint);
}

function announce(io: CliIO): (checks: { gates: GateReport[]; calibration: CalibrationReport | null }) => void {
  return ({ gates, calibration: cal }) => {
    if (gates.length) io.err(`decoder gates before training (share of tokens whose gate is open): ${describeGates(gates)}`);
    if (cal) io.err(`calibrated before training: final logits ×${cal.scale} ${cal.shift < 0 ? '−' : '+'} ${Math.abs(cal.shift)} (constant channel ${cal.channel}), first-batch loss ${cal.lossBefore.toFixed(2)} → ${cal.loss.toFixed(2)}`);
  };
}

export const worldCommand: Command = {
  spec: {
    name: 'world',
    summary: 'SPT-SEG on the zero-shot shapes world: train on 9 seen shapes, segment all 12 from their names.',
    positionals: [],
    options: [
      { name: 'clip', type: 'string', value: '<file>', help: `the world CLIP (default ${WORLD_CLIP_ASSET})` },
      ...RECIPE_OPTIONS,
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the scenes, the fresh weights and dropout (default 0)' },
      { name: 'test-scenes', type: 'string', value: '<n>', help: 'held-out test scenes (default 300; as many again for validation)' },
      { name: 'decoder', type: 'string', value: '<hilo|cross>', help: 'hilo: the spectral guided decoder (default); cross: ZegCLIP\'s plain decoder' },
      { name: 'out', type: 'string', value: '<dir>', help: 'run folder (default runs/world)' },
      { name: 'resume', type: 'boolean', help: 'continue an interrupted run from its folder\'s checkpoint (pass the same options)' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode>' },
    ],
    details: 'Seen: circle, square, triangle, cross, crescent, heart, diamond, hexagon, L-shape.\nUnseen: ring, star, arrow.\n'
      + 'Ctrl-C saves the checkpoint and stops (exit 130, nothing evaluated); --resume finishes the run.',
  },
  async run(args, io) {
    const recipe = recipeFromArgs(args);
    const seed = intOption(args, 'seed', 0, 0), testN = intOption(args, 'test-scenes', 300);
    const out = args.get('out') ?? join('runs', 'world');
    const clipPath = args.get('clip') ?? defaultAsset(WORLD_CLIP_ASSET);
    const attention = choice(args, 'decoder', ['hilo', 'cross'] as const, 'hilo');
    inputFile(clipPath, '--clip', `the default is ${WORLD_CLIP_ASSET} (in the repository and the package); \`npx spt-seg pretrain\` makes a new one (long)`);
    useDevice(args.get('device'));
    const t0 = performance.now();
    const clip = await loadClip(clipPath);
    const g = clip.config.vision.imageSize / clip.config.vision.patchSize;
    io.err(`world: SPT-SEG on a ${clip.config.vision.layers}-block width-${clip.config.vision.width} CLIP (${g}×${g} tokens), ${attention} decoder (${recipe.decoderInit} init`
      + `${attention === 'hilo' ? `, ${recipe.gate} gate` : ''}); ${recipe.steps} steps × ${recipe.batch} scenes, seen classes only (${DEFAULT_SPLIT.unseen.map((c) => WORLD_CLASS_NAMES[c]).join(', ')} held out)`);
    await mkdir(out, { recursive: true });
    const curvePath = join(out, 'curve.jsonl');
    const earlier = await earlierCurve(curvePath, args.flag('resume'));
    const onCurve = (p: CurvePoint): void => {
      const gate = p.gateOpen.length ? `, gates open ${p.gateOpen.map((v) => `${(100 * v).toFixed(0)}%`).join(' / ')}` : '';
      io.err(`validation at step ${p.step}: hIoU ${pct(p.hIoU)}  mIoU(S) ${pct(p.mIoUSeen)}  mIoU(U) ${pct(p.mIoUUnseen)}${gate}`);
      if (p.gateOpen.length && p.gateOpen.every((v) => v === 0) && recipe.gate === 'clamp') {
        io.err('warning: every HiLo gate is shut on the validation scenes: the logits are constant and no gradient passes the clamp (try --gate soft)');
      }
      void appendFile(curvePath, `${JSON.stringify(p)}\n`);
    };
    const r = await runWorld(clip, {
      ...recipe, seed, testScenes: testN, spectral: true, attention, outDir: out, label: 'train', onStart: announce(io), onCurve,
      resume: args.flag('resume'), skipFirstCurve: earlier.length > 0,
    });
    if (r.stopped === 'interrupted') {
      io.err(`interrupted at step ${r.step} of ${recipe.steps}: the checkpoint is in ${join(out, 'checkpoint.safetensors')}; nothing was evaluated or reported.`);
      io.err(`finish it with: npx spt-seg world --resume${args.get('out') ? ` --out ${out}` : ''} (and the same options)`);
      return 130;
    }
    const curve = [...earlier.filter((p) => p.step < (r.curve[0]?.step ?? Infinity)), ...r.curve];
    const { rows, sptTest, testScenes, model, trainable, trainSeconds, gates } = r;
    for (const line of resultsTable(rows, testN, testN)) io.out(line);

    const first = sptTest.batches[0];
    const seenSet = new Set<number>(DEFAULT_SPLIT.seen);
    const tuned = rows[0].offset;
    const preds = argmaxWithOffset(first.scores, first.n, WORLD_CLASS_NAMES.length, sptTest.pixels, seenSet, tuned, sptTest.kind);
    const triples = testScenes.slice(0, 8).map((scene, i) => ({ scene, pred: preds.slice(i * sptTest.pixels, (i + 1) * sptTest.pixels) }));
    await writeFileAtomic(join(out, 'samples.png'), worldGrid(triples.map((x) => x.scene), 8, 2, triples.map((x) => x.pred)));
    const log = existsSync(join(out, 'log.jsonl')) ? (await readFile(join(out, 'log.jsonl'), 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { step: number; loss: Record<string, number> }) : [];
    const html = renderWorldReport({
      title: 'SPT-SEG on the zero-shot shapes world',
      settings: {
        clip: clipPath, ...Object.fromEntries(Object.entries(recipe).map(([k, v]) => [k, String(v)])), seed, 'test scenes': testN, 'validation scenes': testN,
        'trainable parameters': trainable, decoder: attention, 'training time': formatTime(trainSeconds),
        'decoder gates at start': describeGates(gates) || 'none (cross-attention decoder)',
        'calibration at start': r.calibration ? `final logits ×${r.calibration.scale} − ${-r.calibration.shift}` : 'none',
        'seen classes': DEFAULT_SPLIT.seen.map((c) => WORLD_CLASS_NAMES[c]).join(', '),
        'unseen classes': DEFAULT_SPLIT.unseen.map((c) => WORLD_CLASS_NAMES[c]).join(', '), world: JSON.stringify(WORLD_DEFAULTS),
      },
      classNames: WORLD_CLASS_NAMES, unseenIds: DEFAULT_SPLIT.unseen, rows, lossCurve: null, triples,
      curve, curveBaselines: r.curveBaselines, losses: log,
    });
    await writeFileAtomic(join(out, 'report.html'), html);
    await saveSafetensors(join(out, 'weights.safetensors'), model.stateDict(), cardMetadata(worldCard(model, { offset: tuned })));
    const summary = {
      clip: clipPath, ...recipe, seed, testScenes: testN, decoder: attention,
      calibration: r.calibration, trainSeconds, totalSeconds: (performance.now() - t0) / 1000, curve, curveBaselines: r.curveBaselines,
      rows: rows.map((row) => ({ name: row.name, offset: row.offset, mIoUSeen: row.metrics.mIoUSeen, mIoUUnseen: row.metrics.mIoUUnseen, hIoU: row.metrics.hIoU, iou: Object.fromEntries(WORLD_CLASS_NAMES.map((n, c) => [n, row.metrics.iou[c]])) })),
    };
    await writeFileAtomic(join(out, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const files = ['report.html', 'samples.png', 'metrics.json', 'weights.safetensors', 'checkpoint.safetensors', 'log.jsonl', 'curve.jsonl', 'loss.png'];
    io.out(`wrote ${out}/: ${files.filter((f) => existsSync(join(out, f))).join(', ')} (${formatTime((performance.now() - t0) / 1000)} in all)`);
    return 0;
  },
};
