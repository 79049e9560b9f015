/**
 * `spt-seg segment <image> --weights <file> --classes "sky,tree,road" [--clip <file> | --text-embeddings <file>]
 *  --out mask.png`: zero-shot semantic segmentation of one image with SPT-SEG.
 *
 * Writes three files: <out> (a palette PNG, one colour per class), <out stem>.overlay.png (the mask
 * blended over the image) and <out stem>.legend.txt (class index, name, colour, pixel share).
 * Class text embeddings come from a CLIP text encoder (--clip, templates: VOC's single one or the
 * COCO ensemble, --templates) or from a cached file (--text-embeddings: a safetensors file holding
 * `text_embeddings` [C, E], with a `classes` JSON list in its metadata; --save-text-embeddings writes one).
 * Pipeline (method.md §4.2): resize so the short side is the model's input side (bilinear), ImageNet
 * mean/std normalisation, sliding-window probabilities (seen classes minus --offset, when --seen
 * names them), resized back to the image size, argmax.
 * Does not: multi-scale or flip testing, or any background class (every pixel gets one of the classes).
 */
import { interpolate, tidy, type Tensor } from '../../engine/index.ts';
import { writeFileAtomic } from '../../engine/io/files.ts';
import {
  classTextEmbeddings, COCO_TEMPLATES, imagenetNormalize, loadClip, loadSptSeg, loadTextEmbeddings, resizeShortSide, saveTextEmbeddings,
  VOC_TEMPLATES,
} from '../../model/index.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { readImage, toRgb, vocPalette, writeLabelPng, writePng } from '../image-io.ts';

/** Comma-separated names, trimmed, non-empty, without duplicates. */
export function parseClassList(value: string | undefined, option: string): string[] {
  const names = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`${option} needs at least one class name (comma-separated)`);
  if (new Set(names).size !== names.length) throw new UsageError(`${option} has duplicate names`);
  return names;
}

export const segment: Command = {
  spec: {
    name: 'segment',
    summary: 'Zero-shot semantic segmentation with SPT-SEG: a colour mask, an overlay and a legend.',
    positionals: [{ name: 'image', help: 'a PNG or JPEG file' }],
    options: [
      { name: 'weights', type: 'string', value: '<file>', required: true, help: 'SPT-SEG safetensors (official key names)' },
      { name: 'classes', type: 'string', value: '"sky,tree,road"', required: true, help: 'comma-separated class names' },
      { name: 'clip', type: 'string', value: '<file>', help: 'CLIP weights whose text encoder embeds the class names' },
      { name: 'text-embeddings', type: 'string', value: '<file>', help: 'cached class embeddings (safetensors text_embeddings [C, E])' },
      { name: 'save-text-embeddings', type: 'string', value: '<file>', help: 'write the embeddings computed with --clip here' },
      { name: 'templates', type: 'string', value: 'voc|coco', help: 'prompt templates for --clip: VOC\'s single one (default) or the COCO ensemble' },
      { name: 'seen', type: 'string', value: '"a,b"', help: 'classes seen in training: --offset is subtracted from them' },
      { name: 'offset', type: 'string', value: '<p>', help: 'seen-class calibration (default 0.1)' },
      { name: 'out', type: 'string', value: '<mask.png>', required: true, help: 'the mask PNG; .overlay.png and .legend.txt go next to it' },
    ],
    details: 'Example: spt-seg segment street.jpg --weights spt-voc.safetensors --clip clip-b16.safetensors \\\n' +
      '  --classes "sky,tree,road,car" --out street-mask.png',
  },
  async run(args, io) {
    const classes = parseClassList(args.get('classes'), '--classes');
    const clipPath = args.get('clip'), embPath = args.get('text-embeddings');
    if ((clipPath === undefined) === (embPath === undefined)) throw new UsageError('give exactly one of --clip and --text-embeddings');
    const templatesName = args.get('templates') ?? 'voc';
    if (templatesName !== 'voc' && templatesName !== 'coco') throw new UsageError(`--templates must be voc or coco, got ${templatesName}`);
    const seen = args.get('seen') === undefined ? null : parseClassList(args.get('seen'), '--seen');
    const unknown = seen?.find((s) => !classes.includes(s));
    if (unknown !== undefined) throw new UsageError(`--seen names "${unknown}", which is not in --classes`);
    const offset = args.get('offset') === undefined ? 0.1 : Number(args.get('offset'));
    if (!Number.isFinite(offset)) throw new UsageError(`--offset must be a number, got ${args.get('offset')}`);
    const out = args.get('out')!;
    if (!out.endsWith('.png')) throw new UsageError(`--out must name a .png file, got ${out}`);

    const [imagePath] = args.positionals;
    const image = toRgb(await readImage(imagePath));
    const model = await loadSptSeg(args.get('weights')!);
    let text: Tensor;
    if (embPath !== undefined) {
      text = await loadTextEmbeddings(embPath, classes);
    } else {
      const clip = await loadClip(clipPath!);
      text = classTextEmbeddings(clip, classes, templatesName === 'coco' ? COCO_TEMPLATES : VOC_TEMPLATES);
      const save = args.get('save-text-embeddings');
      if (save) await saveTextEmbeddings(save, text, classes);
    }
    const E = model.config.decoder.embedDim;
    if (text.shape[1] !== E) throw new Error(`text embeddings are ${text.shape[1]}-d, but the model's image embeddings are ${E}-d`);
    const side = Math.min(...model.inputSize);
    const resized = resizeShortSide(image, side, 'bilinear');
    io.err(`image    ${imagePath}: ${image.width}x${image.height} -> ${resized.width}x${resized.height}`);
    const labels = tidy(() => {
      const { probs } = model.predict(imagenetNormalize(resized), text, {
        seenMask: seen ? classes.map((c) => seen.includes(c)) : null, offset,
      }); // [1, C, h, w]
      return interpolate(probs, [image.height, image.width]).argmax(1).data(); // [1, H, W]
    }, () => model.parameters());
    const label = Uint8Array.from(labels);
    const palette = vocPalette().slice(3, 3 + 3 * classes.length); // VOC colours 1..C (0 is black)
    await writeLabelPng(out, { width: image.width, height: image.height, data: label }, palette);
    const overlay = new Uint8Array(image.width * image.height * 3);
    for (let i = 0; i < label.length; i++) {
      for (let c = 0; c < 3; c++) overlay[i * 3 + c] = Math.round(0.5 * image.data[i * 3 + c] + 0.5 * palette[label[i] * 3 + c]);
    }
    const stem = out.slice(0, -'.png'.length);
    await writePng(`${stem}.overlay.png`, { width: image.width, height: image.height, channels: 3, data: overlay });
    const counts = classes.map((_, c) => label.reduce((n, v) => n + (v === c ? 1 : 0), 0));
    const legend = classes.map((name, c) => {
      const rgb = [...palette.slice(c * 3, c * 3 + 3)].join(',');
      return `${c}\t${name}\trgb(${rgb})\t${((100 * counts[c]) / label.length).toFixed(1)}%`;
    });
    await writeFileAtomic(`${stem}.legend.txt`, legend.join('\n') + '\n');
    for (const line of legend) io.out(line);
    io.err(`wrote    ${out}, ${stem}.overlay.png, ${stem}.legend.txt`);
    return 0;
  },
};
