// The shapes demo really learns, and is reproducible from its seed.
import t from 'tap';
import { useDevice } from '../../../engine/index.ts';
import { SHAPES_DEFAULTS, trainShapes } from '../../../train/demo/trainer.ts';
import { drawScenes, SHAPES } from '../../../train/demo/scenes.ts';

useDevice(undefined, { quiet: true });

t.test('scenes are reproducible and labelled', async (t) => {
  const a = drawScenes(3, 4, { size: 32 });
  const b = drawScenes(3, 4, { size: 32 });
  t.same(Array.from(a[2].image.slice(0, 50)), Array.from(b[2].image.slice(0, 50)));
  for (const s of a) {
    const covered = s.labels.filter((l) => l === s.classes[0]).length;
    t.ok(covered > 20, `a ${SHAPES[s.classes[0]].name} covers ${covered} pixels`);
    t.ok(s.labels.every((l) => l === 255 || l === s.classes[0]));
  }
});

t.test('150 steps learn well above chance, and the same seed gives the same run', async (t) => {
  const cfg = { ...SHAPES_DEFAULTS, steps: 150, testScenes: 192 };
  const first = trainShapes(cfg);
  t.ok(first.accuracy > 2 / SHAPES.length, `held-out accuracy ${first.accuracy.toFixed(3)} vs chance ${(1 / SHAPES.length).toFixed(3)}`);
  t.ok(first.history[first.history.length - 1].loss < first.history[0].loss, 'the loss went down');
  const again = trainShapes({ ...cfg, steps: 5 });
  const again2 = trainShapes({ ...cfg, steps: 5 });
  t.same(again.history.map((h) => h.loss), again2.history.map((h) => h.loss), 'same seed, same losses');
});
