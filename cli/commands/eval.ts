/**
 * `spt-seg eval --weights w.safetensors --data <dir> | --config run.json`: zero-shot evaluation of
 * SPT-SEG on every class of a dataset, the unseen ones included (method.md §4.5).
 *
 * Prints the per-class IoU table (seen / unseen marked) and the lines `mIoU(S) x.x`, `mIoU(U) x.x`,
 * `hIoU x.x`, `pAcc x.x`; `--json` prints the same as one JSON object instead. `--samples dir` writes
 * image / ground truth / prediction PNG triples for the first `--num-samples` images, in the class
 * colours `segment`, the world report and the web page use (model/palette.ts). The seen-class
 * offset and the normalisation come from the weights' model card (model/model-card.ts; `--offset`,
 * `--normalization` override; a file without a card: 0.1 inductive, 0 transductive, and ImageNet's,
 * with a warning). Each image goes through model/segment-image.ts `segmentImage`, the inference
 * `segment`, the API and the web page use (the official test pipeline), except that the card's
 * background rule is not applied: the metrics score labelled pixels only, each of which has a class.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useDevice } from '../../engine/index.ts';
import { writeLabelPng, writePng } from '../../engine/io/image.ts';
import { classPalette } from '../../model/palette.ts';
import { formatMetricsTable } from '../../train/metrics.ts';
import { prepareRun } from '../../train/setup.ts';
import { evaluateSegmentation } from '../../train/segmentation.ts';
import { Progress } from '../../train/progress.ts';
import { UsageError } from '../args.ts';
import { gapWarnings, overridesFromArgs } from '../card-options.ts';
import type { Command } from '../command.ts';
import { inputFile } from '../paths.ts';
import { configFromArgs } from './train.ts';

const pct = (v: number): string => (Number.isNaN(v) ? 'nan' : (100 * v).toFixed(1));

export const evalCommand: Command = {
  spec: {
    name: 'eval',
    summary: 'Evaluate SPT-SEG on seen and unseen classes: per-class IoU, mIoU(S), mIoU(U), hIoU, pAcc.',
    positionals: [],
    options: [
      { name: 'weights', type: 'string', value: '<file>', help: 'SPT-SEG weights (official key names), e.g. <run>/weights.safetensors' },
      { name: 'config', type: 'string', value: '<run.json>', help: 'a training config: its valDataset (or dataset) and model fields' },
      { name: 'set', type: 'string', value: '<key=value>', repeat: true, help: 'override one config field' },
      { name: 'data', type: 'string', value: '<dir>', help: 'an images + masks folder to evaluate on' },
      { name: 'clip', type: 'string', value: '<file>', help: 'CLIP weights, to embed the class names (unless cached)' },
      { name: 'text-embeddings', type: 'string', value: '<file>', help: 'cached class embeddings' },
      { name: 'offset', type: 'string', value: '<p>', help: 'seen-class offset (default: the model card\'s, else 0.1; 0 for a transductive config)' },
      { name: 'normalization', type: 'string', value: '<imagenet|world|clip|m,m,m/s,s,s>', help: 'input normalisation (default: the model card\'s, else imagenet); m/s on the 0..255 scale' },
      { name: 'limit', type: 'string', value: '<n>', help: 'evaluate the first n images only' },
      { name: 'samples', type: 'string', value: '<dir>', help: 'write image / ground truth / prediction PNGs here' },
      { name: 'num-samples', type: 'string', value: '<n>', help: 'how many sample triples (default 8)' },
      { name: 'json', type: 'boolean', help: 'print the metrics as JSON' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode>' },
    ],
    details: 'Example: spt-seg eval --weights runs/voc/weights.safetensors --clip ViT-B-16.pt \\\n' +
      '  --set \'valDataset={"kind":"voc","root":"data/VOCdevkit/VOC2012","split":"val"}\'',
  },
  async run(args, io) {
    const initSet = args.get('config') !== undefined || args.list('set').some((s) => s.startsWith('model.init=') || s.startsWith('model='));
    if (args.get('weights') === undefined && !initSet) throw new UsageError('eval needs --weights (or model.init in the config)');
    let cfg = await configFromArgs(args);
    const weights = args.get('weights');
    if (weights !== undefined) cfg = { ...cfg, model: { ...cfg.model, init: inputFile(weights, '--weights') } };
    const emb = args.get('text-embeddings');
    if (emb !== undefined) cfg = { ...cfg, model: { ...cfg.model, textEmbeddings: emb } };
    if (!cfg.model.init) throw new UsageError('eval needs --weights (or model.init in the config)');
    const given = overridesFromArgs(args);
    const limit = args.get('limit') === undefined ? undefined : Number(args.get('limit'));
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive integer, got ${args.get('limit')}`);
    const numSamples = Number(args.get('num-samples') ?? 8);
    useDevice(args.get('device'));
    const { dataset, model, text, card, gaps } = await prepareRun(cfg, cfg.valDataset ?? cfg.dataset, io.err);
    const settingOffset = cfg.train.setting === 'transductive' ? 0 : 0.1;
    const offset = given.offset ?? (card && !gaps.some((g) => g.field === 'inference.offset') ? card.inference.offset : settingOffset);
    const normalization = given.normalization ?? card?.input.normalization;
    const opts = evalCommand.spec.options.map((o) => o.name);
    const settled = new Set(['inference.background', 'classes', ...(given.offset !== undefined ? ['inference.offset'] : []), ...(given.normalization ? ['input.normalization'] : [])]);
    const told = gaps.filter((g) => !settled.has(g.field)) // eval uses neither the background rule nor the card's classes
      .map((g) => (g.field === 'inference.offset' ? { ...g, assumed: `${settingOffset} (train.setting ${cfg.train.setting})` } : g));
    for (const line of gapWarnings(told, cfg.model.init!, opts)) io.err(line);
    const named = card?.classes;
    if (named && named.names.join('\n') === dataset.classNames.join('\n') && named.unseen.join() !== [...dataset.unseenIds].sort((a, b) => a - b).join()) {
      io.err(`warning: ${cfg.model.init} was trained with unseen ${named.unseen.map((c) => named.names[c]).join(', ')}, the dataset holds out ` +
        `${dataset.unseenIds.map((c) => dataset.classNames[c]).join(', ')}: the dataset's split is scored`);
    }
    const samplesDir = args.get('samples');
    if (samplesDir) await mkdir(samplesDir, { recursive: true });
    const bar = args.flag('json') ? null : new Progress({ total: Math.min(dataset.length, limit ?? Infinity), label: 'eval' });
    const palette = classPalette(); // the class colours of segment, the report and the page; 255 (ignored): black
    const result = await evaluateSegmentation(model, dataset, {
      text, seenIds: dataset.seenIds, unseenIds: dataset.unseenIds, offset, limit, normalization,
      onImage: async (i, n, pred, sample) => {
        bar?.update(i + 1);
        if (samplesDir && i < numSamples) {
          const { width, height } = sample;
          await writePng(join(samplesDir, `${sample.name}.image.png`), { width, height, channels: 3, data: sample.image });
          await writeLabelPng(join(samplesDir, `${sample.name}.truth.png`), { width, height, data: sample.label }, palette);
          await writeLabelPng(join(samplesDir, `${sample.name}.pred.png`), { width, height, data: pred }, palette);
        }
      },
    });
    bar?.done();
    const m = result.metrics;
    if (args.flag('json')) {
      io.out(JSON.stringify({
        images: result.images, offset, mIoU_seen: m.mIoUSeen, mIoU_unseen: m.mIoUUnseen, hIoU: m.hIoU, pAcc: m.pixelAccuracy,
        classes: dataset.classNames.map((name, c) => ({ name, seen: dataset.seenIds.includes(c), iou: Number.isNaN(m.iou[c]) ? null : m.iou[c] })),
      }));
      return 0;
    }
    io.out(formatMetricsTable(m, dataset.classNames, { seen: dataset.seenIds, unseen: dataset.unseenIds }));
    io.out(`mIoU(S) ${pct(m.mIoUSeen)}`);
    io.out(`mIoU(U) ${pct(m.mIoUUnseen)}`);
    io.out(`hIoU ${pct(m.hIoU)}`);
    io.out(`pAcc ${pct(m.pixelAccuracy)}`);
    io.out(`(${result.images} images, seen-class offset ${offset})`);
    return 0;
  },
};
