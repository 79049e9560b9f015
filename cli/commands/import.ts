/**
 * `spt-seg import <in> <out.safetensors>`: an SPT-SEG state dict from PyTorch (torch.save .pt/.pth,
 * plain or an mmseg checkpoint, or safetensors) -> an spt-seg weights file for `eval` / `segment`.
 * Every key and shape is checked before anything is written; the logic is model/spt-interop.ts.
 * The model card travels: read from the input (written there by `spt-seg export`), else built from the
 * official defaults with a warning naming each field it could not recover and the option that sets it;
 * the card options override either way.
 */
import { COCO_TEMPLATES, VOC_TEMPLATES } from '../../model/clip.ts';
import { describeCard } from '../../model/model-card.ts';
import { importSptSeg, readCardFile, type InteropOptions, type InteropReport } from '../../model/spt-interop.ts';
import { parseClassList, UsageError, type OptionSpec, type ParsedArgs } from '../args.ts';
import { archFromArgs, ARCH_OPTIONS, gapWarnings, INPUT_OPTIONS, overridesFromArgs } from '../card-options.ts';
import type { CliIO, Command } from '../command.ts';
import { inputFile, outputFile } from '../paths.ts';

/** The card options of `import` and `export`: the architecture, the input, the classes and templates. */
export const INTEROP_CARD_OPTIONS: OptionSpec[] = [
  { name: 'card-from', type: 'string', value: '<file>', help: 'take the model card from this file (weights spt-seg wrote, or a card .json): for a checkpoint trained on in PyTorch' },
  ...ARCH_OPTIONS,
  ...INPUT_OPTIONS,
  { name: 'classes', type: 'string', value: '"a,b,c"', help: 'the class names the model was trained with, in train-id order (model card classes)' },
  { name: 'seen', type: 'string', value: '"a,b"', help: 'which of them were seen in training (the rest are unseen)' },
  { name: 'templates', type: 'string', value: 'voc|coco', help: 'the prompt templates the class names were embedded with' },
];

/** The card (--card-from), architecture settings and card fields given on the command line. */
export async function interopOptionsFromArgs(args: ParsedArgs): Promise<InteropOptions> {
  const cardFrom = args.get('card-from');
  const card = cardFrom === undefined ? undefined : await readCardFile(inputFile(cardFrom, '--card-from'));
  const overrides = overridesFromArgs(args);
  if (args.get('classes') !== undefined) overrides.classes = parseClassList(args.get('classes'), '--classes');
  if (args.get('seen') !== undefined) overrides.seen = parseClassList(args.get('seen'), '--seen');
  const t = args.get('templates');
  if (t !== undefined && t !== 'voc' && t !== 'coco') throw new UsageError(`--templates must be voc or coco, got ${t}`);
  if (t !== undefined) overrides.templates = [...(t === 'coco' ? COCO_TEMPLATES : VOC_TEMPLATES)];
  return { ...archFromArgs(args), ...(card && { card }), overrides };
}

export const importCommand: Command = {
  spec: {
    name: 'import',
    summary: 'Read SPT-SEG weights saved by PyTorch (.pt/.pth, mmseg checkpoints too) into an spt-seg weights file.',
    positionals: [
      { name: 'in', help: 'a torch.save state dict or mmseg checkpoint (.pth), or a safetensors state dict, official key names' },
      { name: 'out.safetensors', help: 'output: official key names, float32 safetensors with the model card (loadSptSeg, spt-seg eval / segment)' },
    ],
    options: INTEROP_CARD_OPTIONS,
    details: 'The pickle is read by a restricted unpickler: a file naming anything but tensors, dicts and torch\'s rebuild\n' +
      'functions is refused. A file written by spt-seg export carries its model card; a checkpoint the official code saved\n' +
      'after training on one does not (mmseg writes its own meta): --card-from the exported file gives it back. For any\n' +
      'other file, say what it cannot (each missing field is named in a warning).\n' +
      'Example: spt-seg import work_dirs/voc/iter_20000.pth spt_voc.safetensors --card-from runs/voc/weights.safetensors',
  },
  async run(args, io) {
    const [input, output] = args.positionals;
    inputFile(input, '<in>');
    const opts = await interopOptionsFromArgs(args);
    outputFile(output, '<out.safetensors>');
    const r = await importSptSeg(input, output, opts);
    printInteropReport(io, input, r);
    io.out(`wrote    ${output}: ${r.keys} tensors, ${r.parameters.toLocaleString('en-US')} parameters, float32, with its model card`);
    return 0;
  },
};

/** The lines both commands print about what they read, the card they wrote, and what it lacks. */
export function printInteropReport(io: CliIO, input: string, r: InteropReport): void {
  const kinds = { 'safetensors': 'safetensors state dict', 'torch-zip': 'torch.save zip', 'training-checkpoint': 'spt-seg training checkpoint' };
  io.out(`read     ${input}: ${kinds[r.container]}${r.unwrapped ? ` (keys under "${r.unwrapped}")` : ''}`);
  if (r.fromBase > 0) io.out(`base     ${r.fromBase} frozen tensors from --base`);
  if (r.dropped.length > 0) io.out(`dropped  ${r.dropped.length} tensors that are not weights: ${abbreviate(r.dropped)}`);
  if (r.ignoredKeys.length > 0) io.out(`ignored  ${r.ignoredKeys.length} weights the official forward never uses: ${abbreviate(r.ignoredKeys)}`);
  const { encoder: e, decoder: d } = r.config;
  io.out(`model    SPT-SEG: ViT width ${e.vision.width}, ${e.vision.layers} blocks, ${e.vision.heads} heads, patch ${e.vision.patchSize}, ${e.numTokens} prompts × ${1 + e.deepLayers} sets, ` +
    `spectral grid ${e.spectralGrid ? e.spectralGrid.join('x') : 'none'}; decoder ${d.layers} × width ${d.width} (${d.attention ?? 'hilo'}${d.attention === 'cross' ? '' : `, ${d.hilo?.gate ?? 'clamp'} gate`})`);
  for (const line of describeCard(r.card)) io.out(`card     ${line}`);
  for (const line of gapWarnings(r.gaps, input)) io.err(line);
}

function abbreviate(keys: readonly string[], n = 6): string {
  return keys.length <= n ? keys.join(', ') : `${keys.slice(0, n).join(', ')}, … (${keys.length - n} more)`;
}
