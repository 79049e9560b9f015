/**
 * `spt-seg info [--weights <file> | --preset voc-vit-b16]`: the architecture of an SPT-SEG model and
 * its parameter table, trainable and frozen per part, under the official freezing (method.md §1.3):
 * the CLIP image encoder frozen except the prompts (and the spectral filter, unless
 * --freeze-spectral), the decode head trainable. Ends with `trainable parameters: N`
 * (12,888,640 for the VOC ViT-B/16 preset). A preset is built with skip-init (shapes only): instant.
 * For a weights file it also prints its model card (input and normalisation, classes and split,
 * templates, offset, background rule; model/model-card.ts) and warns about each field it lacks.
 * Does not: count the CLIP text encoder (it only makes the class embeddings, and is frozen).
 */
import { skipInit } from '../../engine/nn/index.ts';
import { SptSeg, trainableParameters, VOC_VIT_B16, type SptSegConfig } from '../../model/index.ts';
import { describeCard } from '../../model/model-card.ts';
import { loadSptSegWithCard } from '../../model/spt-weights.ts';
import { UsageError } from '../args.ts';
import { gapWarnings } from '../card-options.ts';
import type { Command } from '../command.ts';
import { inputFile } from '../paths.ts';

const PRESETS: Record<string, SptSegConfig> = { 'voc-vit-b16': VOC_VIT_B16 };

/** The table row a parameter belongs to. */
function partOf(name: string): string {
  if (name === 'backbone.complex_weight') return 'spectral filter (complex_weight)';
  if (name.startsWith('backbone.') && name.includes('prompt')) return 'prompts (VPT: embeddings, prompt_proj, prompt_norm)';
  if (name.startsWith('backbone.')) return 'CLIP image encoder';
  if (name.startsWith('decode_head.q_proj.')) return 'query projection (q_proj)';
  const layer = /^decode_head\.decoder_1\.layers\.(\d+)\./.exec(name);
  return layer ? `decoder layer ${layer[1]}` : 'other';
}

/** The parameter table and the trainable total, as printed lines. */
export function parameterTable(model: SptSeg, trainSpectral = true): string[] {
  const trainable = new Set(trainableParameters(model, { trainSpectral }).map(([n]) => n));
  const rows = new Map<string, { trainable: number; frozen: number }>();
  for (const [name, p] of model.namedParameters()) {
    const row = rows.get(partOf(name)) ?? { trainable: 0, frozen: 0 };
    if (trainable.has(name)) row.trainable += p.size;
    else row.frozen += p.size;
    rows.set(partOf(name), row);
  }
  const fmt = (n: number) => n.toLocaleString('en-US');
  const width = Math.max(4, ...[...rows.keys()].map((k) => k.length));
  const lines = [`${'part'.padEnd(width)}  ${'trainable'.padStart(12)}  ${'frozen'.padStart(12)}`];
  let total = 0, frozen = 0;
  for (const [part, r] of rows) {
    lines.push(`${part.padEnd(width)}  ${fmt(r.trainable).padStart(12)}  ${fmt(r.frozen).padStart(12)}`);
    total += r.trainable;
    frozen += r.frozen;
  }
  lines.push(`${'total'.padEnd(width)}  ${fmt(total).padStart(12)}  ${fmt(frozen).padStart(12)}`, '');
  lines.push(`trainable parameters: ${total}`, `frozen parameters: ${frozen}`);
  return lines;
}

function describe(c: SptSegConfig): string {
  const v = c.encoder.vision, e = c.encoder, d = c.decoder;
  const g = e.spectralGrid;
  return [
    `image encoder  ViT width ${v.width}, ${v.layers} blocks, ${v.heads} heads, patch ${v.patchSize}${v.stem === 'conv' ? ' (conv stem)' : ''}, embed ${v.outputDim}`,
    `prompts        T = ${e.numTokens}, deep prompt sets ${e.deepLayers}, spectral filter ${g ? `${g[0]}x${g[1]} grid (input ${g[0] * v.patchSize}x${g[1] * v.patchSize})` : 'none'}`,
    `decoder        ${d.attention ?? 'hilo'}${d.attention === 'cross' ? '' : ` (${d.hilo?.gate ?? 'clamp'} gate)`}, width ${d.width}, ${d.layers} layers, FFN ${d.ffn}`,
  ].join('\n');
}

export const info: Command = {
  spec: {
    name: 'info',
    summary: 'The architecture and parameter table (trainable / frozen per part) of an SPT-SEG model.',
    positionals: [],
    options: [
      { name: 'weights', type: 'string', value: '<file>', help: 'SPT-SEG safetensors (official key names)' },
      { name: 'preset', type: 'string', value: '<name>', help: `a built-in architecture: ${Object.keys(PRESETS).join(', ')}` },
      { name: 'freeze-spectral', type: 'boolean', help: 'keep the spectral filter frozen (ZegCLIP\'s literal exclude_key="prompt")' },
    ],
    details: 'Example: spt-seg info --preset voc-vit-b16',
  },
  async run(args, io) {
    const weights = args.get('weights'), preset = args.get('preset');
    if ((weights === undefined) === (preset === undefined)) throw new UsageError('give exactly one of --weights and --preset');
    let model: SptSeg;
    if (preset !== undefined) {
      const config = PRESETS[preset];
      if (!config) throw new UsageError(`unknown preset "${preset}"; presets: ${Object.keys(PRESETS).join(', ')}`);
      model = skipInit(() => new SptSeg(config));
      io.out(describe(model.config));
    } else {
      const loaded = await loadSptSegWithCard(inputFile(weights!, '--weights'));
      model = loaded.model;
      io.out(describe(model.config));
      for (const line of describeCard(loaded.card)) io.out(`${line.replace(/^(\S+)\s+/, (_, k: string) => `${k.padEnd(15)}`)}`);
      for (const line of gapWarnings(loaded.gaps, weights!, [])) io.err(line);
    }
    io.out('');
    for (const line of parameterTable(model, !args.flag('freeze-spectral'))) io.out(line);
    return 0;
  },
};
