/**
 * The command-line side of the model card (model/model-card.ts): the options that override what a
 * weights file says of itself, and the warnings for what it does not say.
 *
 *   ARCH_OPTIONS     --vision-heads, --hilo-gate (settings the shapes do not show)
 *   INPUT_OPTIONS    --normalization, --offset, --background
 *   archFromArgs(args), overridesFromArgs(args)     the values, checked (UsageError names the option)
 *   gapWarnings(gaps, source)                       one line per field the file did not say, with its option
 * Used by segment, eval, info, export and import; `parseClassList` is args.ts's.
 */
import type { BackgroundRule, CardGap, CardOverrides, CardNormalization } from '../model/model-card.ts';
import { IMAGENET_NORMALIZATION, WORLD_NORMALIZATION } from '../model/model-card.ts';
import { CLIP_MEAN, CLIP_STD } from '../model/preprocess.ts';
import type { SptLoadOptions } from '../model/spt-weights.ts';
import { UsageError, type OptionSpec, type ParsedArgs } from './args.ts';

/** Architecture settings a file may lack (older files, official checkpoints). */
export const ARCH_OPTIONS: OptionSpec[] = [
  { name: 'vision-heads', type: 'string', value: '<n>', help: 'attention heads of the ViT (default: the model card, else width / 64)' },
  { name: 'hilo-gate', type: 'string', value: '<clamp|soft>', help: 'the HiLo gate the decoder was trained with (default: the model card, else clamp)' },
];

/** How images are prepared and predictions read. */
export const INPUT_OPTIONS: OptionSpec[] = [
  { name: 'normalization', type: 'string', value: '<imagenet|world|clip|m,m,m/s,s,s>', help: 'input normalisation (default: the model card, else imagenet); m/s per RGB channel on the 0..255 scale' },
  { name: 'offset', type: 'string', value: '<p>', help: 'subtracted from the seen classes\' probabilities (default: the model card, else 0.1)' },
  { name: 'background', type: 'string', value: '<none|p>', help: 'none: every pixel gets a class; p: pixels where no class reaches p are background (default: the model card, else none)' },
];

const NAMED: Record<string, CardNormalization> = {
  imagenet: IMAGENET_NORMALIZATION, world: WORLD_NORMALIZATION,
  clip: { mean: CLIP_MEAN.map((m) => m * 255), std: CLIP_STD.map((s) => s * 255) },
};

/**
 * `imagenet`, `world`, `clip` or `m,m,m/s,s,s` (0..255 scale).
 *
 * @example
 * parseNormalization('127.5,127.5,127.5/63.75,63.75,63.75', '--normalization');   // WORLD_NORMALIZATION's values
 */
export function parseNormalization(value: string, option: string): CardNormalization {
  const named = NAMED[value];
  if (named) return { mean: [...named.mean], std: [...named.std] };
  const parts = value.split('/').map((p) => p.split(',').map((x) => Number(x.trim())));
  const ok = parts.length === 2 && parts.every((p) => p.length === 3 && p.every(Number.isFinite)) && parts[1].every((s) => s > 0);
  if (!ok) throw new UsageError(`${option} must be imagenet, world, clip or mean,mean,mean/std,std,std (0..255 scale, std > 0), got ${value}`);
  return { mean: parts[0], std: parts[1] };
}

/** `none` or a probability in [0, 1]. */
export function parseBackground(value: string, option: string): BackgroundRule {
  if (value === 'none') return { rule: 'none' };
  const p = Number(value);
  if (value.trim() === '' || !(p >= 0 && p <= 1)) throw new UsageError(`${option} must be none or a probability in [0, 1], got ${value}`);
  return { rule: 'threshold', below: p };
}

/** `--vision-heads` and `--hilo-gate`, when given. */
export function archFromArgs(args: ParsedArgs): SptLoadOptions {
  const opts: SptLoadOptions = {};
  const heads = args.get('vision-heads');
  if (heads !== undefined) {
    const n = Number(heads);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--vision-heads must be a positive integer, got ${heads}`);
    opts.visionHeads = n;
  }
  const gate = args.get('hilo-gate');
  if (gate !== undefined) {
    if (gate !== 'clamp' && gate !== 'soft') throw new UsageError(`--hilo-gate must be clamp or soft, got ${gate}`);
    opts.hiloGate = gate;
  }
  return opts;
}

/** `--normalization`, `--offset` and `--background`, when given. */
export function overridesFromArgs(args: ParsedArgs): CardOverrides {
  const o: CardOverrides = {};
  const norm = args.get('normalization'), offset = args.get('offset'), background = args.get('background');
  if (norm !== undefined) o.normalization = parseNormalization(norm, '--normalization');
  if (offset !== undefined) {
    o.offset = Number(offset);
    if (offset.trim() === '' || !(Math.abs(o.offset) <= 1)) throw new UsageError(`--offset must be a number in [-1, 1], got ${offset}`);
  }
  if (background !== undefined) o.background = parseBackground(background, '--background');
  return o;
}

/** What each field is called, and the option that sets it. */
const GAP_TEXT: Record<CardGap['field'], [string, string]> = {
  'config.encoder.vision.heads': ['vision heads', '--vision-heads'],
  'config.decoder.hilo.gate': ['HiLo gate', '--hilo-gate'],
  'input.normalization': ['normalisation', '--normalization'],
  'classes': ['class names and seen / unseen split', '--classes and --seen'],
  'inference.offset': ['seen-class offset', '--offset'],
  'inference.background': ['background rule', '--background'],
};

/**
 * One warning per field `source` did not say, naming what was assumed and the option that sets it.
 * `options` limits the advice to the options the command has (the rest: re-import with them).
 *
 * @example
 * gapWarnings(report.gaps, 'rt/world.pth');   // ['warning: rt/world.pth has no model card: vision heads unknown, assumed ...; pass --vision-heads', ...]
 */
export function gapWarnings(gaps: readonly CardGap[], source: string, options?: readonly string[]): string[] {
  return gaps.map(({ field, assumed }) => {
    if (field === 'classes' && assumed !== null) { // the names are known, the split is not
      const has = options === undefined || options.includes('seen');
      return `warning: ${source} has no model card: seen / unseen split unknown (${assumed}); ${has ? 'pass --seen' : `set it with \`spt-seg import ${source} <out.safetensors> --seen ...\``}`;
    }
    const [what, flag] = GAP_TEXT[field];
    const has = options === undefined || flag.split(' and ').every((f) => options.includes(f.slice(2)));
    const advice = has ? `pass ${flag} to set it` : `set it with \`spt-seg import ${source} <out.safetensors> ${flag} ...\``;
    return `warning: ${source} has no model card: ${what} unknown, ${assumed === null ? 'left out' : `assumed ${assumed}`}; ${advice}`;
  });
}
