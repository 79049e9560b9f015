/**
 * The committed world SPT-SEG (assets/world-sptseg.safetensors: `npm start`'s run, copied from
 * runs/world/weights.safetensors; its numbers in assets/world-sptseg.json) segments fresh held-out
 * scenes, never seen in its training, validation or test draws, at the issue's floor: hIoU ≥ 50 with
 * mIoU(U) ≥ 40 at the offset its run tuned on validation scenes. The web page runs these weights.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { useDevice } from '../../engine/index.ts';
import { loadSptSeg } from '../../model/spt-weights.ts';
import { loadClip } from '../../model/weights.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import { metricsAt, scoreScenes, sptProbabilities, worldClassText, worldScenes } from '../../train/world/segment.ts';

t.test('the committed world SPT-SEG segments unseen shapes on fresh scenes', async (t) => {
  useDevice('wasm', { quiet: true });
  const clip = await loadClip('assets/world-clip.safetensors');
  const model = await loadSptSeg('assets/world-sptseg.safetensors');
  const recorded = JSON.parse(readFileSync('assets/world-sptseg.json', 'utf8')) as { rows: { name: string; offset: number }[] };
  const offset = recorded.rows[0].offset;
  const text = worldClassText(clip, WORLD_CLASS_NAMES); // [12, E]
  const scenes = worldScenes(9001, 0, 300, WORLD_DEFAULTS); // a seed no run of `spt-seg world` draws (they use 3·seed + 1…3)
  const scored = scoreScenes(scenes, WORLD_CLASS_NAMES.length, 25, (im) => sptProbabilities(model.eval(), im, text));
  const m = metricsAt(scored, DEFAULT_SPLIT.seen, DEFAULT_SPLIT.unseen, offset);
  const pct = (v: number) => (100 * v).toFixed(1);
  t.ok(m.hIoU >= 0.5, `hIoU ${pct(m.hIoU)} ≥ 50 (mIoU(S) ${pct(m.mIoUSeen)}, offset ${offset})`);
  t.ok(m.mIoUUnseen >= 0.4, `mIoU(U) ${pct(m.mIoUUnseen)} ≥ 40`);
  for (const c of DEFAULT_SPLIT.unseen) t.ok(m.iou[c] > 0.2, `unseen ${WORLD_CLASS_NAMES[c]}: IoU ${pct(m.iou[c])} > 20`);
});
