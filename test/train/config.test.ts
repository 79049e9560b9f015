// Training configs: defaults, checked fields with errors naming file and key, and --set overrides.
import t from 'tap';
import { applyOverrides, ConfigError, parseTrainConfig, TRAIN_DEFAULTS } from '../../train/config.ts';

t.test('a partial config merges over the defaults', async (t) => {
  const cfg = parseTrainConfig('{"train": {"steps": 200, "clipNorm": 1}, "loss": {"ignoreMode": "mask"}}', 'run.json');
  t.equal(cfg.train.steps, 200);
  t.equal(cfg.train.clipNorm, 1);
  t.equal(cfg.train.lr, TRAIN_DEFAULTS.train.lr, 'untouched fields keep the ZegCLIP defaults');
  t.equal(cfg.loss.ignoreMode, 'mask');
  t.equal(cfg.loss.focal, 100);
  t.equal(TRAIN_DEFAULTS.train.steps, 20000, 'the defaults object is not changed');
});

t.test('bad configs name the file and the key', async (t) => {
  const bad: [string, RegExp][] = [
    ['{', /run\.json: not valid JSON/],
    ['{"train": {"stepz": 1}}', /run\.json: unknown key "train\.stepz" \(known: train\.setting, train\.steps/],
    ['{"train": {"lr": "fast"}}', /run\.json: train\.lr must be a number, got "fast"/],
    ['{"train": {"steps": 1.5}}', /train\.steps must be a positive integer/],
    ['{"train": {"steps": -3}}', /train\.steps must be a finite number ≥ 0/],
    ['{"loss": {"ignoreMode": "drop"}}', /loss\.ignoreMode must be one of reference, mask/],
    ['{"train": {"batchSize": 6, "accumulate": 4}}', /multiple of train\.accumulate/],
    ['{"train": null}', /train may not be null|train must be an object/],
    ['{"model": {"clip": 3}}', /model\.clip must be a string, got 3/],
    ['{"dataset": [1]}', /dataset must be an object or null/],
  ];
  for (const [text, re] of bad) t.throws(() => parseTrainConfig(text, 'run.json'), re, text);
  t.throws(() => parseTrainConfig('{"x": 1}', 'run.json'), ConfigError);
});

t.test('--set overrides parse JSON values and fall back to strings', async (t) => {
  const cfg = applyOverrides(TRAIN_DEFAULTS, ['train.steps=50', 'model.clip=weights/ViT-B-16.pt', 'train.clipNorm=null', 'dataset={"kind":"voc","root":"d"}']);
  t.equal(cfg.train.steps, 50);
  t.equal(cfg.model.clip, 'weights/ViT-B-16.pt');
  t.equal(cfg.train.clipNorm, null);
  t.same(cfg.dataset, { kind: 'voc', root: 'd' });
  t.throws(() => applyOverrides(TRAIN_DEFAULTS, ['steps']), /expected key=value/);
  t.throws(() => applyOverrides(TRAIN_DEFAULTS, ['train.nope=1']), /--set: unknown key "train\.nope"/);
});
