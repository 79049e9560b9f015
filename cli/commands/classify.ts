/**
 * `spt-seg classify <image> --weights <file> --labels "cat,dog,car"`: CLIP zero-shot classification.
 * Prints one line per label, most likely first: the label, its probability and a bar. Progress goes
 * to stderr, so stdout holds only the results.
 */
import { noGrad, tidy, useDevice } from '../../engine/index.ts';
import { clipPreprocess, describeConfig, l2normalize, loadClip } from '../../model/index.ts';
import { parseClassList, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { inputFile } from '../paths.ts';
import { readImage } from '../image-io.ts';

const BAR_WIDTH = 40;

export const classify: Command = {
  spec: {
    name: 'classify',
    summary: 'Zero-shot image classification with CLIP: the probability of each label for one image.',
    positionals: [{ name: 'image', help: 'a PNG or JPEG file' }],
    options: [
      { name: 'weights', type: 'string', value: '<file>', required: true, help: 'CLIP checkpoint (any format `convert` reads)' },
      { name: 'labels', type: 'string', value: '"cat,dog,car"', required: true, help: 'comma-separated class names' },
      { name: 'template', type: 'string', value: '"a photo of a {}."', repeat: true,
        help: 'prompt with {} where the label goes; several are averaged (default "a photo of a {}.")' },
      { name: 'top', type: 'string', value: '<k>', help: 'print only the k most likely labels' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode> (default: SPT_DEVICE or the fastest CPU path)' },
    ],
    details: 'The image is resized (bicubic, shorter side), centre-cropped to the model\'s input size and\n' +
      'normalised as CLIP does. Probabilities are softmax(exp(logit_scale) · cosine similarity).\n' +
      'Example: spt-seg classify cat.jpg --weights clip-b16.safetensors --labels "cat,dog,car"',
  },
  async run(args, io) {
    const labels = parseClassList(args.get('labels'), '--labels');
    if (labels.length < 2) throw new UsageError('--labels needs at least two comma-separated names');
    const templates = args.list('template');
    if (templates.length === 0) templates.push('a photo of a {}.');
    const bad = templates.find((t) => !t.includes('{}'));
    if (bad !== undefined) throw new UsageError(`--template ${JSON.stringify(bad)} has no {} for the label`);
    const topArg = args.get('top');
    const top = topArg === undefined ? labels.length : Number(topArg);
    if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer, got ${topArg}`);

    useDevice(args.get('device'));
    const [imagePath] = args.positionals;
    inputFile(args.get('weights')!, '--weights');
    const image = await readImage(inputFile(imagePath, '<image>'));
    let t0 = performance.now();
    const model = await loadClip(args.get('weights')!);
    const size = model.config.vision.imageSize;
    io.err(`weights  ${args.get('weights')}: CLIP ${describeConfig(model.config)} (${seconds(t0)} s)`);
    io.err(`image    ${imagePath}: ${image.width}x${image.height} -> ${size}x${size}`);
    t0 = performance.now();
    // tidy: every intermediate (on a GPU, device memory) is freed once the numbers are read.
    const probs = tidy(() => noGrad(() => {
      const img = l2normalize(model.encodeImage(clipPreprocess(image, size))); // [1, E]
      const txt = model.encodeTextPrompts(labels, templates); // [C, E], unit rows
      return img.matmul(txt.t()).mul(model.logit_scale.exp()).softmax(-1).toArray(); // [C]
    }), () => model.parameters());
    io.err(`encoded  1 image, ${labels.length} labels x ${templates.length} template(s) (${seconds(t0)} s)`);
    const order = labels.map((label, i) => ({ label, p: probs[i] })).sort((a, b) => b.p - a.p).slice(0, top);
    const width = Math.max(...order.map((r) => r.label.length));
    for (const { label, p } of order) io.out(`${label.padEnd(width)}  ${p.toFixed(4)}  ${'█'.repeat(Math.round(p * BAR_WIDTH))}`);
    return 0;
  },
};

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
