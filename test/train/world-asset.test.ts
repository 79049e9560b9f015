/**
 * The committed world CLIP (assets/world-clip.safetensors, written by `spt-seg pretrain` with its
 * defaults: images and captions only, no mask) passes its gate on fresh held-out scenes: zero-shot
 * shape accuracy ≥ 90% (docs/world.md); the per-patch probe is printed beside it. Its recorded recipe
 * (assets/world-clip.json) switches on no term that reads masks. `npm start` and the page start from it.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { main } from '../../cli/spt-seg.ts';

t.test('the committed world CLIP passes its gate on held-out scenes, and was trained without masks', async (t) => {
  const out: string[] = [], err: string[] = [];
  const code = await main(['pretrain', '--eval', 'assets/world-clip.safetensors'], { out: (l) => out.push(l), err: (l) => err.push(l) });
  const text = out.join('\n');
  const zs = Number(/^zero-shot shape accuracy (\d+\.\d)%$/m.exec(text)?.[1]);
  t.ok(zs >= 90, `zero-shot shape accuracy ${zs}% ≥ 90%`);
  t.match(text, /^patch probe \d+\.\d%/m, 'the probe is reported');
  t.equal(code, 0, err.join('\n'));
  const log = JSON.parse(readFileSync('assets/world-clip.json', 'utf8')) as { recipe: { regionWeight: number; patchWeight: number } };
  t.equal(log.recipe.regionWeight, 0, 'no region-text term');
  t.equal(log.recipe.patchWeight, 0, 'no per-patch term');
});
