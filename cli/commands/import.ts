/**
 * `spt-seg import <in> <out.safetensors>`: an SPT-SEG state dict from PyTorch (torch.save .pt/.pth,
 * plain or an mmseg checkpoint, or safetensors) -> an spt-seg weights file for `eval` / `segment`.
 * Every key and shape is checked before anything is written; the logic is model/spt-interop.ts.
 */
import { importSptSeg, type InteropReport } from '../../model/spt-interop.ts';
import type { CliIO, Command } from '../command.ts';

export const importCommand: Command = {
  spec: {
    name: 'import',
    summary: 'Read SPT-SEG weights saved by PyTorch (.pt/.pth, mmseg checkpoints too) into an spt-seg weights file.',
    positionals: [
      { name: 'in', help: 'a torch.save state dict or mmseg checkpoint (.pth), or a safetensors state dict, official key names' },
      { name: 'out.safetensors', help: 'output: official key names, float32 safetensors (loadSptSeg, spt-seg eval / segment)' },
    ],
    options: [],
    details: 'The pickle is read by a restricted unpickler: a file naming anything but tensors, dicts and torch\'s rebuild\n' +
      'functions is refused. Example: spt-seg import work_dirs/vpt_seg_zero_vit-b_512x512_20k_12_10/iter_20000.pth spt_voc.safetensors',
  },
  async run(args, io) {
    const [input, output] = args.positionals;
    const r = await importSptSeg(input, output);
    printInteropReport(io, input, r);
    io.out(`wrote    ${output}: ${r.keys} tensors, ${r.parameters.toLocaleString('en-US')} parameters, float32`);
    return 0;
  },
};

/** The lines both commands print about what they read. */
export function printInteropReport(io: CliIO, input: string, r: InteropReport): void {
  const kinds = { 'safetensors': 'safetensors state dict', 'torch-zip': 'torch.save zip', 'training-checkpoint': 'spt-seg training checkpoint' };
  io.out(`read     ${input}: ${kinds[r.container]}${r.unwrapped ? ` (keys under "${r.unwrapped}")` : ''}`);
  if (r.fromBase > 0) io.out(`base     ${r.fromBase} frozen tensors from --base`);
  if (r.dropped.length > 0) io.out(`dropped  ${r.dropped.length} tensors that are not weights: ${abbreviate(r.dropped)}`);
  if (r.ignoredKeys.length > 0) io.out(`ignored  ${r.ignoredKeys.length} weights the official forward never uses: ${abbreviate(r.ignoredKeys)}`);
  const { encoder: e, decoder: d } = r.config;
  io.out(`model    SPT-SEG: ViT width ${e.vision.width}, ${e.vision.layers} blocks, patch ${e.vision.patchSize}, ${e.numTokens} prompts × ${1 + e.deepLayers} sets, ` +
    `spectral grid ${e.spectralGrid ? e.spectralGrid.join('x') : 'none'}; decoder ${d.layers} × width ${d.width} (${d.attention ?? 'hilo'})`);
}

function abbreviate(keys: readonly string[], n = 6): string {
  return keys.length <= n ? keys.join(', ') : `${keys.slice(0, n).join(', ')}, … (${keys.length - n} more)`;
}
