/**
 * `spt-seg pretrain`: image-caption pretraining of the world's tiny CLIP (train/pretrain.ts), then its
 * gate on fresh held-out scenes (train/world/probe.ts): zero-shot shape accuracy; the per-patch probe is
 * reported beside it (what SPT-SEG has to unveil), not a gate. `spt-seg pretrain --eval <file>` only
 * measures a saved model. The weights go to --asset (assets/world-clip.safetensors) only when the gate
 * passes; below it the command says so, keeps the model in --out only, and exits 1. Thin: options,
 * calls, printing.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { useDevice } from '../../engine/index.ts';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../../engine/io/files.ts';
import { CLIP, type CLIPConfig } from '../../model/clip.ts';
import { child, loadCheckpoint, tensorMap } from '../../train/checkpoint.ts';
import { formatTime } from '../../train/progress.ts';
import { PRETRAIN_DEFAULTS, pretrain, type PretrainConfig } from '../../train/pretrain.ts';
import { patchProbe, zeroShotAccuracy } from '../../train/world/probe.ts';
import { WORLD_DEFAULTS, type WorldSettings } from '../../train/world/scenes.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import type { CliIO, Command } from '../command.ts';

/** The gate (docs/world.md): zero-shot shape accuracy on single centred objects. */
export const GATES = { zeroShot: 0.9 } as const;
/** Held-out scenes come from these seeds, far from the training stream's. */
const EVAL_SEEDS = { zeroShot: 1_000_001, probe: 2_000_003 } as const;

function num(args: ParsedArgs, name: string, fallback: number, integer: boolean, min: number): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${raw}`);
  }
  return v;
}

export interface GateReport {
  zeroShot: number;
  perClass: number[];
  probeOutput: number;
  probeValue: number;
  passed: boolean;
}

/** Measure the gate and the probe, and print both. */
export function measureGates(clip: CLIP, world: WorldSettings, io: CliIO): GateReport {
  const zs = zeroShotAccuracy(clip, world, EVAL_SEEDS.zeroShot);
  const probe = patchProbe(clip, world, EVAL_SEEDS.probe);
  const best = Math.max(probe.output, probe.value);
  io.out(`zero-shot shape accuracy ${(100 * zs.accuracy).toFixed(1)}%`);
  io.out(`patch probe ${(100 * best).toFixed(1)}%  (dense output ${(100 * probe.output).toFixed(1)}%, ` +
    `value path ${(100 * probe.value).toFixed(1)}%; ${probe.trainPatches} train / ${probe.testPatches} test patches; reported, not a gate)`);
  const passed = zs.accuracy >= GATES.zeroShot;
  return { zeroShot: zs.accuracy, perClass: zs.perClass, probeOutput: probe.output, probeValue: probe.value, passed };
}

/**
 * A model file written by this command (weights + `config` / `world` metadata), or a run folder's
 * loop checkpoint (runs/pretrain/checkpoint.safetensors: the model mid-run, its config inside).
 */
async function loadWorldClip(path: string): Promise<{ clip: CLIP; world: WorldSettings }> {
  const { tensors, metadata } = await loadSafetensors(path);
  if (metadata.config === undefined) {
    const state = await loadCheckpoint(path).catch(() => null);
    const cfg = state && typeof state === 'object' && 'config' in state && typeof state.config === 'string'
      ? (JSON.parse(state.config) as Partial<PretrainConfig>) : null;
    if (state === null || cfg?.clip === undefined) {
      throw new Error(`${path}: no "config" metadata; expected a model or a loop checkpoint written by spt-seg pretrain`);
    }
    const clip = new CLIP(cfg.clip);
    clip.loadStateDict(Object.fromEntries(tensorMap(child(state, 'model', path), path)), { strict: true });
    return { clip, world: cfg.world ?? WORLD_DEFAULTS };
  }
  const clip = new CLIP(JSON.parse(metadata.config) as CLIPConfig);
  clip.loadStateDict(tensors, { strict: true });
  const world = metadata.world === undefined ? WORLD_DEFAULTS : (JSON.parse(metadata.world) as WorldSettings);
  return { clip, world };
}

export const pretrainCommand: Command = {
  spec: {
    name: 'pretrain',
    summary: 'Pretrain the shapes world\'s tiny CLIP from images and captions, and check its zero-shot gate.',
    positionals: [],
    options: [
      { name: 'eval', type: 'string', value: '<file>', help: 'only measure the gates of a saved model or of a run\'s checkpoint.safetensors mid-run' },
      { name: 'steps', type: 'string', value: '<n>', help: `optimizer steps (default ${PRETRAIN_DEFAULTS.steps})` },
      { name: 'batch', type: 'string', value: '<n>', help: `scenes per step (default ${PRETRAIN_DEFAULTS.batchSize})` },
      { name: 'lr', type: 'string', value: '<x>', help: `peak learning rate (default ${PRETRAIN_DEFAULTS.lr})` },
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the weights and the scenes (default 0)' },
      { name: 'mention-weight', type: 'string', value: '<x>', help: `weight of the caption-mention term (default ${PRETRAIN_DEFAULTS.mentionWeight}; 0: InfoNCE alone)` },
      { name: 'region-weight', type: 'string', value: '<x>', help: `weight of the region-text term, which reads the SEEN classes' masks (default ${PRETRAIN_DEFAULTS.regionWeight}: off)` },
      { name: 'patch-weight', type: 'string', value: '<x>', help: `weight of the per-patch term, which reads the SEEN classes' masks (default ${PRETRAIN_DEFAULTS.patchWeight}: off)` },
      { name: 'detach-prompts', type: 'boolean', help: 'keep the name-prompt terms off the text tower (default: they train it too)' },
      { name: 'out', type: 'string', value: '<dir>', help: 'run folder: loop checkpoint, log, model, gates (default runs/pretrain)' },
      { name: 'asset', type: 'string', value: '<file>', help: 'where a model that passes the gates goes (default assets/world-clip.safetensors)' },
      { name: 'resume', type: 'boolean', help: 'continue from the run folder\'s checkpoint' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode> (default: SPT_DEVICE or the fastest CPU path)' },
    ],
    details: 'Gate, on fresh held-out scenes: zero-shot shape accuracy ≥ 90% ("a photo of a {shape}", single\n' +
      'centred objects). The per-patch linear probe is reported beside it. See docs/world.md.\n' +
      'By default the CLIP learns from images and captions only; the dense options never read an unseen class\'s mask.\n' +
      'The wasm backend uses every core the process may run on: `taskset -c 0 spt-seg pretrain` keeps it to one.\n' +
      'Examples: spt-seg pretrain --steps 1500      spt-seg pretrain --eval assets/world-clip.safetensors',
  },
  async run(args, io) {
    useDevice(args.get('device'));
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`);
    const evalPath = args.get('eval');
    if (evalPath !== undefined) {
      const { clip, world } = await loadWorldClip(evalPath);
      const r = measureGates(clip, world, io);
      io.out(r.passed ? 'gate: passed' : 'gate: NOT passed');
      return r.passed ? 0 : 1;
    }
    const cfg: PretrainConfig = {
      ...PRETRAIN_DEFAULTS,
      steps: num(args, 'steps', PRETRAIN_DEFAULTS.steps, true, 1),
      batchSize: num(args, 'batch', PRETRAIN_DEFAULTS.batchSize, true, 2),
      lr: num(args, 'lr', PRETRAIN_DEFAULTS.lr, false, 0),
      seed: num(args, 'seed', PRETRAIN_DEFAULTS.seed, true, 0),
      mentionWeight: num(args, 'mention-weight', PRETRAIN_DEFAULTS.mentionWeight, false, 0),
      regionWeight: num(args, 'region-weight', PRETRAIN_DEFAULTS.regionWeight, false, 0),
      patchWeight: num(args, 'patch-weight', PRETRAIN_DEFAULTS.patchWeight, false, 0),
      trainPrompts: !args.flag('detach-prompts'),
    };
    const outDir = args.get('out') ?? join('runs', 'pretrain');
    const asset = args.get('asset') ?? join('assets', 'world-clip.safetensors');
    const v = cfg.clip.vision;
    io.err(`pretrain: ViT ${v.layers} blocks × width ${v.width}, conv stem ${[3, ...(v.stemWidths ?? []), v.width].join('→')}, ` +
      `${v.imageSize / v.patchSize}×${v.imageSize / v.patchSize} tokens; text ${cfg.clip.text.layers} blocks × ${cfg.clip.text.width}; ` +
      `${cfg.steps} steps × ${cfg.batchSize} scenes`);
    const t0 = Date.now();
    const { clip, result } = await pretrain(cfg, { outDir, resume: args.flag('resume') ? 'auto' : null });
    const trainSeconds = (Date.now() - t0) / 1000;
    if (result.stopped !== 'done' || result.step < cfg.steps) {
      io.err(`stopped (${result.stopped}) at step ${result.step} of ${cfg.steps}; continue with --resume`);
      return 130;
    }
    const gates = measureGates(clip, cfg.world, io);
    // `clip_config` is what loadClip reads (model/weights.ts), so `spt-seg world --clip` and the page load it as is.
    const meta = { config: JSON.stringify(cfg.clip), clip_config: JSON.stringify(cfg.clip), world: JSON.stringify(cfg.world), steps: String(cfg.steps), seed: String(cfg.seed) };
    await mkdir(outDir, { recursive: true });
    const model = join(outDir, 'world-clip.safetensors');
    await saveSafetensors(model, clip.stateDict(), meta);
    const last = result.records[result.records.length - 1];
    const { clip: _c, world: _w, ...recipe } = cfg;
    const log = { ...gates, gates: GATES, steps: cfg.steps, batch: cfg.batchSize, seed: cfg.seed, trainSeconds, recipe,
      finalLoss: last?.loss ?? null, world: cfg.world, clip: cfg.clip };
    await writeFileAtomic(join(outDir, 'gates.json'), JSON.stringify(log, null, 2) + '\n');
    io.out(`trained ${cfg.steps} steps in ${formatTime(trainSeconds)}; model in ${model}, log in ${join(outDir, 'gates.json')}`);
    if (!gates.passed) {
      io.err(`below the gate (zero-shot ≥ ${100 * GATES.zeroShot}%): ${asset} was NOT written`);
      return 1;
    }
    await mkdir(join(asset, '..'), { recursive: true });
    await saveSafetensors(asset, clip.stateDict(), meta);
    await writeFileAtomic(asset.replace(/\.safetensors$/, '') + '.json', JSON.stringify(log, null, 2) + '\n');
    io.out(`gate passed: wrote ${asset}`);
    return 0;
  },
};
