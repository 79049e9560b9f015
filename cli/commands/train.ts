/**
 * `spt-seg train --config run.json [--set key=value ...]`: train SPT-SEG on a segmentation dataset
 * (VOC, COCO-Stuff or an images + masks folder) with the one loop of train/loop.ts.
 *
 * Writes into the run folder (train config `out`): config.json (the merged config), checkpoint.safetensors
 * (model's trainable tensors, optimizer, schedule, RNG, data position: atomic), log.jsonl (one line per
 * step), loss.png (the curve), text-embeddings.safetensors (the class embeddings cache), and, at the
 * end, weights.safetensors: the whole model under the official key names, with its model card (the
 * dataset's classes and split, the normalisation, the offset; train/model-cards.ts) for eval / segment / export.
 * `--resume` continues from the run folder's checkpoint exactly (same per-step losses as a run that
 * never stopped). Ctrl-C saves a checkpoint and exits with 130; a NaN loss stops with exit 1 and keeps
 * the last good checkpoint.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useDevice } from '../../engine/index.ts';
import { saveSafetensors, writeFileAtomic } from '../../engine/io/files.ts';
import { COCO_TEMPLATES, VOC_TEMPLATES } from '../../model/clip.ts';
import { cardMetadata } from '../../model/model-card.ts';
import { applyOverrides, parseTrainConfig, TRAIN_DEFAULTS, type SegTrainConfig } from '../../train/config.ts';
import { SegLoader } from '../../train/data/loader.ts';
import { NonFiniteLossError, runTraining } from '../../train/loop.ts';
import { prepareRun } from '../../train/setup.ts';
import { datasetCard } from '../../train/model-cards.ts';
import { segmentationTask } from '../../train/segmentation.ts';
import { UsageError, type ParsedArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { inputFile, inputFolder } from '../paths.ts';

/** What `--config` must name when it names nothing: the file's form, and the way round it. */
const NO_CONFIG = 'a run config is a JSON object of train/config.ts\'s fields, e.g. {"dataset": {"kind": "folder", "root": "data/shapes"}, ' +
  '"model": {"clip": "ViT-B-16.pt"}, "train": {"steps": 200}}; without --config the defaults (ZegCLIP\'s VOC recipe) apply, and ' +
  '--data, --clip, --set key=value change them';

/** The merged config of `--config` and the shortcut and `--set` options; the files they name are checked. */
export async function configFromArgs(args: ParsedArgs): Promise<SegTrainConfig> {
  const path = args.get('config');
  if (path !== undefined) inputFile(path, '--config', NO_CONFIG);
  for (const opt of ['clip', 'init']) if (args.get(opt) !== undefined) inputFile(args.get(opt)!, `--${opt}`);
  if (args.get('data') !== undefined) inputFolder(args.get('data')!, '--data');
  const cfg = path ? parseTrainConfig(await readFile(path, 'utf8'), path) : TRAIN_DEFAULTS;
  const shortcuts: [string, string, boolean][] = [
    ['steps', 'train.steps', false], ['out', 'out', true], ['clip', 'model.clip', true], ['init', 'model.init', true],
    ['seed', 'train.seed', false], ['batch-size', 'train.batchSize', false], ['lr', 'train.lr', false],
  ];
  const sets: string[] = [];
  for (const [opt, key, isString] of shortcuts) {
    const v = args.get(opt);
    if (v !== undefined) sets.push(`${key}=${isString ? JSON.stringify(v) : v}`);
  }
  const data = args.get('data');
  if (data !== undefined) sets.push(`dataset=${JSON.stringify({ kind: 'folder', root: data })}`);
  return applyOverrides(cfg, [...sets, ...args.list('set')]);
}

export const trainCommand: Command = {
  spec: {
    name: 'train',
    summary: 'Train SPT-SEG on a segmentation dataset (resumable, with progress and checkpoints).',
    positionals: [],
    options: [
      { name: 'config', type: 'string', value: '<run.json>', help: 'the run configuration (train/config.ts; defaults: ZegCLIP\'s VOC recipe)' },
      { name: 'set', type: 'string', value: '<key=value>', repeat: true, help: 'override one config field, e.g. --set train.steps=200' },
      { name: 'data', type: 'string', value: '<dir>', help: 'an images + masks folder (shortcut for dataset={"kind":"folder","root":dir})' },
      { name: 'clip', type: 'string', value: '<file>', help: 'CLIP weights to start from (model.clip)' },
      { name: 'init', type: 'string', value: '<file>', help: 'SPT-SEG weights to start from (model.init)' },
      { name: 'steps', type: 'string', value: '<n>', help: 'optimizer steps (train.steps)' },
      { name: 'batch-size', type: 'string', value: '<n>', help: 'images per step (train.batchSize)' },
      { name: 'lr', type: 'string', value: '<x>', help: 'base learning rate (train.lr; ×10 for backbone and head)' },
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the data order, augmentation and dropout (train.seed)' },
      { name: 'out', type: 'string', value: '<dir>', help: 'the run folder (out)' },
      { name: 'resume', type: 'boolean', help: 'continue from <out>/checkpoint.safetensors' },
      { name: 'stop-at', type: 'string', value: '<n>', help: 'stop after step n of the schedule (saving a checkpoint); --resume later' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode>' },
    ],
    details: 'Example (PASCAL VOC, inductive, ViT-B/16):\n' +
      '  spt-seg train --set \'dataset={"kind":"voc","root":"data/VOCdevkit/VOC2012","split":"trainaug"}\' \\\n' +
      '    --clip ViT-B-16.pt --out runs/voc --steps 20000',
  },
  async run(args, io) {
    const cfg = await configFromArgs(args);
    useDevice(args.get('device'));
    await mkdir(cfg.out, { recursive: true });
    const resume = args.flag('resume');
    const stopAtRaw = args.get('stop-at');
    const stopAt = stopAtRaw === undefined ? undefined : Number(stopAtRaw);
    if (stopAt !== undefined && (!Number.isInteger(stopAt) || stopAt < 1)) throw new UsageError(`--stop-at must be a positive integer, got ${stopAtRaw}`);
    const { dataset, model, text } = await prepareRun(cfg, cfg.dataset, io.err);
    const t = cfg.train;
    const loader = new SegLoader(dataset, {
      batchSize: t.batchSize / t.accumulate, seed: t.seed, workers: t.workers, onBadSample: t.onBadSample,
      augment: { cropSize: [t.crop, t.crop], imgScale: [4 * t.crop, t.crop] },
    });
    const task = segmentationTask(model, loader, {
      setting: t.setting, text, seenIds: dataset.seenIds, unseenIds: dataset.unseenIds, steps: t.steps, lr: t.lr, lrMult: t.lrMult,
      weightDecay: t.weightDecay, warmupIters: t.warmupIters, power: t.power, minLr: t.minLr, loss: cfg.loss, trainSpectral: cfg.model.trainSpectral, seed: t.seed,
    });
    const trainable = task.optimizer.allParams().reduce((n, p) => n + p.size, 0);
    io.err(`train: ${dataset.length} images, ${dataset.classNames.length} classes (${dataset.unseenIds.length} unseen, ${t.setting}); ` +
      `${trainable.toLocaleString('en-US')} trainable parameters; ${t.steps} steps × ${t.batchSize} images of ${t.crop}×${t.crop}`);
    await writeFileAtomic(join(cfg.out, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
    try {
      const result = await runTraining(task, {
        steps: t.steps, accumulate: t.accumulate, clipNorm: t.clipNorm, outDir: cfg.out, checkpointEvery: t.checkpointEvery,
        resume: resume ? 'auto' : null, config: JSON.parse(JSON.stringify(cfg)), label: 'train', stopAt,
      });
      const report = await loader.close();
      if (report.skipped.length > 0) {
        io.err(`skipped ${report.skipped.length} bad sample(s):`);
        for (const s of report.skipped) io.err(`  ${s.file}: ${s.message}`);
      }
      if (result.stopped === 'interrupted') {
        io.err(`interrupted at step ${result.step}; continue with the same command and --resume`);
        return 130;
      }
      if (result.stopped === 'paused') {
        io.out(`paused at step ${result.step} of ${t.steps}; continue with the same command and --resume`);
        return 0;
      }
      const weights = join(cfg.out, 'weights.safetensors');
      const templates = cfg.model.templates === 'coco' ? COCO_TEMPLATES : VOC_TEMPLATES;
      await saveSafetensors(weights, model.stateDict(), cardMetadata(datasetCard(model, dataset, { setting: t.setting, templates })));
      io.out(`trained ${result.step} steps; wrote ${weights}, ${join(cfg.out, 'checkpoint.safetensors')}, log.jsonl and loss.png in ${cfg.out}`);
      return 0;
    } catch (err) {
      await loader.close();
      if (err instanceof NonFiniteLossError) {
        io.err(`train: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};
