/**
 * `spt-seg segment <image> --weights <file> [--classes "sky,tree,road"] [--clip <file> | --text-embeddings <file>]
 *  --out mask.png`: zero-shot semantic segmentation of one image with SPT-SEG.
 *
 * Writes three files: <out> (a palette PNG: pixel = class index, 255 = background), <out stem>.overlay.png
 * (the class colours blended over the image) and <out stem>.legend.txt (class index, name, colour,
 * pixel share). The colours are model/palette.ts's, the same as the web page's and the world report's.
 * The weights' model card (model/model-card.ts) gives the defaults, each overridden by its option:
 * the normalisation (--normalization), the classes and which were seen in training (--classes,
 * --seen), the prompt templates (--templates), the seen-class offset (--offset) and the background
 * rule (--background). A file without a card gets the official defaults, with a warning per field.
 * Class text embeddings come from a CLIP text encoder (--clip) or from a cached file (--text-embeddings:
 * a safetensors file holding `text_embeddings` [C, E], with a `classes` JSON list in its metadata;
 * --save-text-embeddings writes one).
 * Inference is model/segment-image.ts `segmentImage`, the one path the API, `eval` and the web page
 * take too (method.md §4.2): keep-ratio resize to the model's input side (mmseg, cv2 bilinear), the
 * card's normalisation, sliding-window probabilities (seen classes minus the offset), resized back
 * to the image size, argmax; under a background rule 'threshold p', pixels where no class reaches p
 * are background: label 255, black, left unblended in the overlay.
 * Does not: multi-scale or flip testing.
 */
import type { Tensor } from '../../engine/index.ts';
import { writeFileAtomic } from '../../engine/io/files.ts';
import {
  classTextEmbeddings, COCO_TEMPLATES, loadClip, loadTextEmbeddings, saveTextEmbeddings, VOC_TEMPLATES,
} from '../../model/index.ts';
import { describeBackground, describeNormalization } from '../../model/model-card.ts';
import { classPalette } from '../../model/palette.ts';
import { BACKGROUND_LABEL, maskBytes, segmentImage } from '../../model/segment-image.ts';
import { loadSptSegWithCard } from '../../model/spt-weights.ts';
import { parseClassList, UsageError } from '../args.ts';
import { archFromArgs, ARCH_OPTIONS, gapWarnings, INPUT_OPTIONS, overridesFromArgs } from '../card-options.ts';
import type { Command } from '../command.ts';
import { readImage, toRgb, writeLabelPng, writePng } from '../image-io.ts';
import { inputFile, outputFile } from '../paths.ts';

/** The label of background pixels in the mask (mmseg's ignore index; the world's masks use it too). */
export { BACKGROUND_LABEL };

export const segment: Command = {
  spec: {
    name: 'segment',
    summary: 'Zero-shot semantic segmentation with SPT-SEG: a colour mask, an overlay and a legend.',
    positionals: [{ name: 'image', help: 'a PNG or JPEG file' }],
    options: [
      { name: 'weights', type: 'string', value: '<file>', required: true, help: 'SPT-SEG safetensors (official key names), with its model card' },
      { name: 'classes', type: 'string', value: '"sky,tree,road"', help: 'comma-separated class names (default: the model card\'s)' },
      { name: 'clip', type: 'string', value: '<file>', help: 'CLIP weights whose text encoder embeds the class names' },
      { name: 'text-embeddings', type: 'string', value: '<file>', help: 'cached class embeddings (safetensors text_embeddings [C, E])' },
      { name: 'save-text-embeddings', type: 'string', value: '<file>', help: 'write the embeddings computed with --clip here' },
      { name: 'templates', type: 'string', value: 'voc|coco', help: 'prompt templates for --clip: VOC\'s single one or the COCO ensemble (default: the model card\'s, else voc)' },
      { name: 'seen', type: 'string', value: '"a,b"', help: 'classes seen in training, which get the offset (default: those of --classes the model card marks seen)' },
      ...INPUT_OPTIONS,
      ...ARCH_OPTIONS,
      { name: 'out', type: 'string', value: '<mask.png>', required: true, help: 'the mask PNG; .overlay.png and .legend.txt go next to it' },
    ],
    details: 'How background is decided: every pixel first gets the class with the highest probability (sigmoid, the\n' +
      'offset subtracted from the seen classes). Under --background none (the official test, and the default for\n' +
      'weights without a model card) that is the answer: no pixel is background. Under --background p, pixels where\n' +
      'no class reaches p are background: label 255 in the mask, black, not coloured in the overlay, a legend line.\n' +
      'The default is the model card\'s rule (the world model\'s card says p = 0.2, the web page\'s default too).\n' +
      'The same function (segmentImage) segments for `eval` (without the background rule), the API and the web page.\n' +
      'Example: spt-seg segment street.jpg --weights spt-voc.safetensors --clip clip-b16.safetensors \\\n' +
      '  --classes "sky,tree,road,car" --out street-mask.png',
  },
  async run(args, io) {
    const clipPath = args.get('clip'), embPath = args.get('text-embeddings');
    if ((clipPath === undefined) === (embPath === undefined)) throw new UsageError('give exactly one of --clip and --text-embeddings');
    const templatesName = args.get('templates');
    if (templatesName !== undefined && templatesName !== 'voc' && templatesName !== 'coco') throw new UsageError(`--templates must be voc or coco, got ${templatesName}`);
    const arch = archFromArgs(args), overrides = overridesFromArgs(args);
    const out = args.get('out')!;
    if (!out.endsWith('.png')) throw new UsageError(`--out must name a .png file, got ${out}`);
    // Every path is checked before the model runs: errors name the option, not a temp file.
    const [imagePath] = args.positionals;
    inputFile(imagePath, '<image>');
    const weights = inputFile(args.get('weights')!, '--weights');
    if (clipPath !== undefined) inputFile(clipPath, '--clip');
    if (embPath !== undefined) inputFile(embPath, '--text-embeddings');
    outputFile(out, '--out');
    const save = args.get('save-text-embeddings');
    if (save) outputFile(save, '--save-text-embeddings');

    const { model, card, gaps } = await loadSptSegWithCard(weights, arch, overrides);
    for (const line of gapWarnings(gaps, weights, segment.spec.options.map((o) => o.name))) io.err(line);
    const known = card.classes;
    const classes = args.get('classes') !== undefined ? parseClassList(args.get('classes'), '--classes') : known?.names;
    if (!classes) throw new UsageError(`--classes is needed: ${weights} has no class names in its model card`);
    const seen = args.get('seen') !== undefined ? parseClassList(args.get('seen'), '--seen')
      : known ? classes.filter((c) => known.seen.some((i) => known.names[i] === c)) : null;
    const unknown = seen?.find((s) => !classes.includes(s));
    if (unknown !== undefined) throw new UsageError(`--seen names "${unknown}", which is not in --classes`);
    const { offset, background } = card.inference;
    io.err(`model    ${weights}: input ${card.input.size.join('x')}, normalised ${describeNormalization(card.input.normalization)}; ` +
      `seen-class offset ${offset} on ${seen?.length ? seen.join(', ') : 'no class'}; background ${describeBackground(background)}`);

    const image = toRgb(await readImage(imagePath));
    let text: Tensor;
    if (embPath !== undefined) {
      text = await loadTextEmbeddings(embPath, classes);
    } else {
      const clip = await loadClip(clipPath!);
      const templates = templatesName === 'coco' ? COCO_TEMPLATES : templatesName === 'voc' ? VOC_TEMPLATES : card.text?.templates ?? VOC_TEMPLATES;
      text = classTextEmbeddings(clip, classes, templates);
      if (save) await saveTextEmbeddings(save, text, classes);
    }
    const E = model.config.decoder.embedDim;
    if (text.shape[1] !== E) throw new Error(`text embeddings are ${text.shape[1]}-d, but the model's image embeddings are ${E}-d`);
    const seenMask = seen ? classes.map((c) => seen.includes(c)) : classes.map(() => false);
    const r = await segmentImage(model, card, text, image, { classes, seen: seenMask });
    io.err(`image    ${imagePath}: ${image.width}x${image.height} -> ${r.resized[1]}x${r.resized[0]} for the model`);
    const label = maskBytes(r.labels); // [H, W]
    const palette = classPalette(); // class c: model/palette.ts classColour(c); 255 (background): black
    await writeLabelPng(out, { width: image.width, height: image.height, data: label }, palette);
    const overlay = new Uint8Array(image.width * image.height * 3);
    for (let i = 0; i < label.length; i++) {
      const bg = label[i] === BACKGROUND_LABEL;
      for (let c = 0; c < 3; c++) overlay[i * 3 + c] = bg ? image.data[i * 3 + c] : Math.round(0.5 * image.data[i * 3 + c] + 0.5 * palette[label[i] * 3 + c]);
    }
    const stem = out.slice(0, -'.png'.length);
    await writePng(`${stem}.overlay.png`, { width: image.width, height: image.height, channels: 3, data: overlay });
    const share = (v: number) => `${(100 * v).toFixed(1)}%`;
    const legend = classes.map((name, c) => `${c}\t${name}\trgb(${[...palette.slice(c * 3, c * 3 + 3)].join(',')})\t${share(r.shares[c])}`);
    if (background.rule !== 'none') legend.push(`${BACKGROUND_LABEL}\tbackground\trgb(${[...palette.slice(765)].join(',')})\t${share(r.backgroundShare)}`);
    await writeFileAtomic(`${stem}.legend.txt`, legend.join('\n') + '\n');
    for (const line of legend) io.out(line);
    io.err(`wrote    ${out}, ${stem}.overlay.png, ${stem}.legend.txt`);
    return 0;
  },
};
