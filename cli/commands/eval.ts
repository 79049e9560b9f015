/**
 * `spt-seg eval --weights w.safetensors --data <dir> | --config run.json`: zero-shot evaluation of
 * SPT-SEG on every class of a dataset, the unseen ones included (method.md §4.5).
 *
 * Prints the per-class IoU table (seen / unseen marked) and the lines `mIoU(S) x.x`, `mIoU(U) x.x`,
 * `hIoU x.x`, `pAcc x.x`; `--json` prints the same as one JSON object instead. `--samples dir` writes
 * image / ground truth / prediction PNG triples for the first `--num-samples` images. The seen-class
 * offset (0.1 inductive, `--offset`) and slide inference follow the official test pipeline.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useDevice } from '../../engine/index.ts';
import { vocPalette, writeLabelPng, writePng } from '../../engine/io/image.ts';
import { formatMetricsTable } from '../../train/metrics.ts';
import { prepareRun } from '../../train/run.ts';
import { evaluateSegmentation } from '../../train/segmentation.ts';
import { Progress } from '../../train/progress.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
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
      { name: 'offset', type: 'string', value: '<p>', help: 'seen-class offset (default 0.1; 0 for a transductive model)' },
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
    let cfg = await configFromArgs(args);
    const weights = args.get('weights');
    if (weights !== undefined) cfg = { ...cfg, model: { ...cfg.model, init: weights } };
    const emb = args.get('text-embeddings');
    if (emb !== undefined) cfg = { ...cfg, model: { ...cfg.model, textEmbeddings: emb } };
    if (!cfg.model.init) throw new UsageError('eval needs --weights (or model.init in the config)');
    const offset = args.get('offset') === undefined ? (cfg.train.setting === 'transductive' ? 0 : 0.1) : Number(args.get('offset'));
    if (!Number.isFinite(offset)) throw new UsageError(`--offset must be a number, got ${args.get('offset')}`);
    const limit = args.get('limit') === undefined ? undefined : Number(args.get('limit'));
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive integer, got ${args.get('limit')}`);
    const numSamples = Number(args.get('num-samples') ?? 8);
    useDevice(args.get('device'));
    const { dataset, model, text } = await prepareRun(cfg, cfg.valDataset ?? cfg.dataset, io.err);
    const samplesDir = args.get('samples');
    if (samplesDir) await mkdir(samplesDir, { recursive: true });
    const crop = model.inputSize[0];
    const bar = args.flag('json') ? null : new Progress({ total: Math.min(dataset.length, limit ?? Infinity), label: 'eval' });
    const palette = vocPalette();
    const result = await evaluateSegmentation(model, dataset, {
      text, seenIds: dataset.seenIds, unseenIds: dataset.unseenIds, offset, crop, limit,
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
