/**
 * The committed world CLIP (assets/world-clip.safetensors, written by `spt-seg pretrain` with its
 * defaults) passes both gates on fresh held-out scenes: zero-shot shape accuracy ≥ 90% and the
 * per-patch linear probe ≥ 60% (docs/world.md). `npm start` and the web page start from it.
 */
import t from 'tap';
import { main } from '../../cli/spt-seg.ts';

t.test('the committed world CLIP passes both gates on held-out scenes', async (t) => {
  const out: string[] = [], err: string[] = [];
  const code = await main(['pretrain', '--eval', 'assets/world-clip.safetensors'], { out: (l) => out.push(l), err: (l) => err.push(l) });
  const text = out.join('\n');
  const zs = Number(/^zero-shot shape accuracy (\d+\.\d)%$/m.exec(text)?.[1]);
  const probe = Number(/^patch probe (\d+\.\d)%/m.exec(text)?.[1]);
  t.ok(zs >= 90, `zero-shot shape accuracy ${zs}% ≥ 90%`);
  t.ok(probe >= 60, `patch probe ${probe}% ≥ 60%`);
  t.equal(code, 0, err.join('\n'));
});
