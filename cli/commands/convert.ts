/** `spt-seg convert <in> <out.safetensors>`: any CLIP checkpoint -> our canonical float32 safetensors. */
import { stat } from 'node:fs/promises';
import { convertCheckpoint, describeConfig } from '../../model/index.ts';
import type { Command } from '../command.ts';
import { inputFile, outputFile } from '../paths.ts';

export const convert: Command = {
  spec: {
    name: 'convert',
    summary: 'Convert a CLIP checkpoint (OpenAI .pt, OpenAI or Hugging Face safetensors) to one float32 safetensors file.',
    positionals: [
      { name: 'in', help: 'OpenAI ViT-B-16.pt (TorchScript, fp16), or a safetensors file in OpenAI or HF CLIPModel layout' },
      { name: 'out.safetensors', help: 'output: OpenAI key names, float32, the model config in __metadata__' },
    ],
    options: [],
    details: 'The format is detected from the file content. Every key and shape is checked before anything is written.\n' +
      'Example: spt-seg convert ViT-B-16.pt clip-b16.safetensors',
  },
  async run(args, io) {
    const [input, output] = args.positionals;
    inputFile(input, '<in>');
    outputFile(output, '<out.safetensors>');
    const t0 = performance.now();
    const r = await convertCheckpoint(input, output);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const mb = ((await stat(output)).size / 2 ** 20).toFixed(1);
    io.out(`read     ${input}: ${r.container === 'torch-zip' ? 'PyTorch zip archive' : 'safetensors'}, ` +
      `${r.layout === 'hf' ? 'Hugging Face CLIPModel' : 'OpenAI'} layout, dtypes ${r.sourceDtypes.join('/')}`);
    if (r.dropped.length > 0) io.out(`dropped  ${r.dropped.join(', ')} (not weights)`);
    io.out(`model    CLIP ${describeConfig(r.config)}`);
    io.out(`wrote    ${output}: ${r.parameters.toLocaleString('en-US')} parameters, float32, ${mb} MiB (${seconds} s)`);
    return 0;
  },
};
