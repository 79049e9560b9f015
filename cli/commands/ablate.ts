/**
 * `spt-seg ablate`: the paper's ablations on the zero-shot shapes world (Table 3 of SPT-SEG):
 *
 *   VPT + plain decoder        deep prompts only, ZegCLIP's cross-attention decoder
 *   + spectral prompts         the spectral prompt at the inputs of the first 2 blocks
 *   + spectral guided decoder  the HiLo decoder (high-frequency windows, low-frequency pooled cells)
 *   SPT-SEG (both)             spectral prompts and the HiLo decoder
 *
 * Each variant trains from the same world CLIP with `--seeds` seeds (3) and the recipe of `spt-seg
 * world` (WORLD_RECIPE: the official decoder init, the default length; the same flags override it);
 * the table gives mean ± std of mIoU(S), mIoU(U) and hIoU on held-out test scenes (offset tuned per
 * run on validation scenes), printed as Markdown and written to <out>/ablation.md and <out>/ablation.json.
 * Ctrl-C stops with exit 130 and no table (finished runs are in <out>/runs.jsonl, the interrupted one's
 * checkpoint in its own folder); `--resume` finishes the ablation.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { useDevice } from '../../engine/index.ts';
import { writeFileAtomic } from '../../engine/io/files.ts';
import { loadClip } from '../../model/weights.ts';
import { Progress, formatTime } from '../../train/progress.ts';
import { runWorld } from '../../train/world/run.ts';
import { defaultAsset } from '../assets.ts';
import { inputFile } from '../paths.ts';
import { intOption, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { RECIPE_OPTIONS, recipeFromArgs, WORLD_CLIP_ASSET } from './world.ts';

/** One run of the ablation: a variant, a seed, its test metrics at its tuned offset. */
interface AblationResult { variant: string; seed: number; mIoUSeen: number; mIoUUnseen: number; hIoU: number; offset: number }

export const VARIANTS = [
  { name: 'VPT + plain decoder', spectral: false, attention: 'cross' },
  { name: '+ spectral prompts', spectral: true, attention: 'cross' },
  { name: '+ spectral guided decoder', spectral: false, attention: 'hilo' },
  { name: 'SPT-SEG (both)', spectral: true, attention: 'hilo' },
] as const;

/** Mean and (sample) standard deviation, as "m ± s" in percent. */
export function meanStd(values: readonly number[]): string {
  const xs = values.filter((v) => !Number.isNaN(v)).map((v) => 100 * v);
  if (xs.length === 0) return 'nan';
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return `${m.toFixed(1)} ± ${s.toFixed(1)}`;
}

export const ablateCommand: Command = {
  spec: {
    name: 'ablate',
    summary: 'The paper\'s ablations on the shapes world: spectral prompts × spectral guided decoder, 3 seeds each.',
    positionals: [],
    options: [
      { name: 'clip', type: 'string', value: '<file>', help: `the world CLIP (default ${WORLD_CLIP_ASSET})` },
      ...RECIPE_OPTIONS,
      { name: 'seeds', type: 'string', value: '<n>', help: 'seeds per variant (default 3)' },
      { name: 'test-scenes', type: 'string', value: '<n>', help: 'test scenes per run (default 300, as many for validation)' },
      { name: 'variants', type: 'string', value: '<list>', help: 'which rows to run, 1-based, e.g. 1,2 (default all four)' },
      { name: 'out', type: 'string', value: '<dir>', help: 'where the table goes (default runs/ablate)' },
      { name: 'resume', type: 'boolean', help: 'continue an interrupted ablation from <out>: finished runs are kept, the interrupted one resumes from its checkpoint' },
      { name: 'device', type: 'string', value: '<name>', help: 'cpu, wasm, gpu or gpu:<mode>' },
    ],
  },
  async run(args, io) {
    const recipe = recipeFromArgs(args);
    const { steps, batch, decoderInit } = recipe;
    const seeds = intOption(args, 'seeds', 3), testN = intOption(args, 'test-scenes', 300);
    const out = args.get('out') ?? join('runs', 'ablate');
    const picked = (args.get('variants') ?? '1,2,3,4').split(',').map((x) => Number(x.trim()));
    if (picked.some((i) => !Number.isInteger(i) || i < 1 || i > VARIANTS.length)) {
      throw new UsageError(`--variants takes row numbers 1-${VARIANTS.length} separated by commas, got ${args.get('variants')}`);
    }
    const variants = VARIANTS.filter((_, i) => picked.includes(i + 1));
    const clipPath = args.get('clip') ?? defaultAsset(WORLD_CLIP_ASSET);
    inputFile(clipPath, '--clip', `the default is ${WORLD_CLIP_ASSET} (in the repository and the package); \`npx spt-seg pretrain\` makes a new one (long)`);
    useDevice(args.get('device'));
    await mkdir(out, { recursive: true });
    const t0 = performance.now();
    const clip = await loadClip(clipPath);
    const bar = new Progress({ total: variants.length * seeds, label: 'ablate', every: 1 });
    // Each finished run is appended to runs.jsonl; each run in progress keeps a checkpoint in its own
    // folder, so Ctrl-C loses nothing and --resume continues where the ablation stopped.
    const runsFile = join(out, 'runs.jsonl');
    const results: AblationResult[] = args.flag('resume') && existsSync(runsFile)
      ? (await readFile(runsFile, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AblationResult) : [];
    if (results.length === 0) await writeFile(runsFile, '');
    let done = 0;
    for (const v of variants) {
      for (let seed = 0; seed < seeds; seed++) {
        if (results.some((r) => r.variant === v.name && r.seed === seed)) { bar.update(++done); continue; }
        const dir = join(out, `run-${VARIANTS.indexOf(v) + 1}-seed-${seed}`);
        const r = await runWorld(clip, {
          ...recipe, seed, testScenes: testN, spectral: v.spectral, attention: v.attention, outDir: dir, label: null, baseline: false, curveEvery: 0,
          resume: args.flag('resume') && existsSync(join(dir, 'checkpoint.safetensors')),
        });
        if (r.stopped === 'interrupted') {
          bar.done();
          io.err(`interrupted in "${v.name}", seed ${seed}, at step ${r.step} of ${steps}: ${results.length} finished runs are in ${runsFile}, this one's checkpoint in ${dir}; no table was written.`);
          io.err(`finish it with: npx spt-seg ablate --resume (and the same options)`);
          return 130;
        }
        const m = r.rows[0].metrics;
        const result = { variant: v.name, seed, mIoUSeen: m.mIoUSeen, mIoUUnseen: m.mIoUUnseen, hIoU: m.hIoU, offset: r.rows[0].offset };
        results.push(result);
        await appendFile(runsFile, `${JSON.stringify(result)}\n`);
        bar.update(++done, { hIoU: 100 * m.hIoU });
      }
    }
    bar.done();
    const lines = [
      `| variant | spectral prompts | decoder | mIoU(S) | mIoU(U) | hIoU |`,
      `|---|:---:|---|---:|---:|---:|`,
      ...variants.map((v) => {
        const rs = results.filter((r) => r.variant === v.name);
        const decoder = `${v.attention === 'hilo' ? `spectral guided (HiLo, ${recipe.gate} gate)` : 'plain cross-attention'}, ${decoderInit} init`;
        return `| ${v.name} | ${v.spectral ? '✓' : ''} | ${decoder} | `
          + `${meanStd(rs.map((r) => r.mIoUSeen))} | ${meanStd(rs.map((r) => r.mIoUUnseen))} | ${meanStd(rs.map((r) => r.hIoU))} |`;
      }),
    ];
    const note = `${seeds} seeds × ${steps} steps × ${batch} scenes per variant, ${testN} test scenes each; mean ± std; `
      + `offset tuned per run on validation scenes; ${clipPath}; ${formatTime((performance.now() - t0) / 1000)} in all.`;
    for (const l of lines) io.out(l);
    io.out(note);
    await writeFileAtomic(join(out, 'ablation.md'), `${lines.join('\n')}\n\n${note}\n`);
    await writeFileAtomic(join(out, 'ablation.json'), `${JSON.stringify({ ...recipe, seeds, testScenes: testN, results }, null, 2)}\n`);
    return 0;
  },
};
