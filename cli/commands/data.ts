/**
 * `spt-seg data shapes [--out dir --count N --seed S]`: write scenes of the zero-shot shapes world
 * (train/world/) as an images + masks folder (images/, masks/, class_names.txt, captions.jsonl,
 * splits.json), and optionally the README's grid of scenes above their masks (--grid file.png).
 * Thin: parses options, calls train/world, prints what it wrote.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/files.ts';
import { WORLD_CLASS_NAMES, DEFAULT_SPLIT } from '../../train/world/classes.ts';
import { worldGrid, writeWorldFolder } from '../../train/world/export.ts';
import { drawWorldScenes, WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import { intOption, UsageError } from '../args.ts';
import type { Command } from '../command.ts';


const W = WORLD_DEFAULTS;

export const data: Command = {
  spec: {
    name: 'data',
    summary: 'Write a procedural dataset (the zero-shot shapes world) as an images + masks folder.',
    positionals: [{ name: 'world', help: 'which world: shapes' }],
    options: [
      { name: 'out', type: 'string', value: '<dir>', help: 'output folder (default data/shapes)' },
      { name: 'count', type: 'string', value: '<n>', help: 'number of scenes (default 200)' },
      { name: 'seed', type: 'string', value: '<n>', help: 'seed of the scenes (default 0); scene i depends only on (seed, i)' },
      { name: 'grid', type: 'string', value: '<file.png>', help: 'also write a grid of the first 12 scenes above their masks' },
    ],
    details: `Scenes are ${W.size}×${W.size} RGB with ${W.minObjects}-${W.maxObjects} objects (radius ${W.minRadius}-${W.maxRadius} px) from ` +
      `${WORLD_CLASS_NAMES.length} shapes:\n${WORLD_CLASS_NAMES.join(', ')}.\n` +
      `masks/*.png hold class ids (line i of class_names.txt), 255 = background (ignored).\n` +
      `splits.json: seen ${DEFAULT_SPLIT.seen.length} / unseen ${DEFAULT_SPLIT.unseen.map((i) => WORLD_CLASS_NAMES[i]).join(', ')}.\n` +
      'Example: spt-seg data shapes --out data/shapes --count 1000 --seed 1',
  },
  async run(args, io) {
    const [world] = args.positionals;
    if (world !== 'shapes') throw new UsageError(`unknown world ${JSON.stringify(world)}: the only one is "shapes"`);
    const count = intOption(args, 'count', 200, 1);
    const seed = intOption(args, 'seed', 0, 0);
    const out = args.get('out') ?? join('data', 'shapes');
    const scenes = drawWorldScenes(seed, count);
    await writeWorldFolder(out, scenes);
    io.out(`wrote ${count} scenes (seed ${seed}) to ${out}: images/, masks/, class_names.txt, captions.jsonl, splits.json`);
    const grid = args.get('grid');
    if (grid !== undefined) {
      await writeFileAtomic(grid, worldGrid(scenes.slice(0, 12)));
      io.out(`wrote ${grid}`);
    }
    return 0;
  },
};
