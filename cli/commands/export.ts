/**
 * `spt-seg export <in> <out>`: SPT-SEG weights (or a training checkpoint + `--base`) -> the official
 * PyTorch state dict, float32, as safetensors or (`--format pt`) a torch.save zip; `--mmseg` wraps it
 * as an mmseg checkpoint for the official code's `load_from=`. The logic is model/spt-interop.ts.
 */
import { stat } from 'node:fs/promises';
import { exportSptSeg, type SptFileFormat } from '../../model/spt-interop.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { inputFile, outputFile } from '../paths.ts';
import { interopOptionsFromArgs, INTEROP_CARD_OPTIONS, printInteropReport } from './import.ts';

export const exportCommand: Command = {
  spec: {
    name: 'export',
    summary: 'Write SPT-SEG weights for the official PyTorch code (safetensors or torch.save .pt, official key names).',
    positionals: [
      { name: 'in', help: 'spt-seg weights (e.g. <run>/weights.safetensors) or a training checkpoint (<run>/checkpoint.safetensors, needs --base)' },
      { name: 'out', help: 'output file: the whole state dict under the official names, float32' },
    ],
    options: [
      { name: 'format', type: 'string', value: '<safetensors|pt>', help: 'output container (default: pt when <out> ends in .pt or .pth, else safetensors)' },
      { name: 'mmseg', type: 'boolean', help: 'wrap as an mmseg checkpoint {"meta": ..., "state_dict": ...} (with --format pt)' },
      { name: 'base', type: 'string', value: '<weights>', help: 'weights that supply the frozen tensors (and the model card) a training checkpoint does not hold' },
      ...INTEROP_CARD_OPTIONS,
    ],
    details: 'The .pt file holds only tensors, OrderedDicts and torch\'s rebuild function: torch.load(path, weights_only=True) reads it.\n' +
      'Example: spt-seg export runs/voc/weights.safetensors spt_voc.pth --mmseg',
  },
  async run(args, io) {
    const [input, output] = args.positionals;
    const given = args.get('format');
    if (given !== undefined && given !== 'safetensors' && given !== 'pt') throw new UsageError(`--format must be safetensors or pt, got ${given}`);
    const format: SptFileFormat = (given as SptFileFormat | undefined) ?? (/\.pth?$/i.test(output) ? 'pt' : 'safetensors');
    if (args.flag('mmseg') && format !== 'pt') throw new UsageError('--mmseg needs --format pt (an mmseg checkpoint is a torch.save file)');
    inputFile(input, '<in>');
    const opts = await interopOptionsFromArgs(args);
    const base = args.get('base');
    if (base !== undefined) inputFile(base, '--base');
    outputFile(output, '<out>');
    const r = await exportSptSeg(input, output, { ...opts, format, mmseg: args.flag('mmseg'), base });
    printInteropReport(io, input, r);
    const kind = format === 'pt' ? `torch.save zip${args.flag('mmseg') ? ' (mmseg {"meta", "state_dict"})' : ''}` : 'safetensors';
    io.out(`wrote    ${output}: ${kind}, ${r.keys} tensors, ${r.parameters.toLocaleString('en-US')} parameters, float32, ${((await stat(output)).size / 2 ** 20).toFixed(1)} MiB`);
    return 0;
  },
};
