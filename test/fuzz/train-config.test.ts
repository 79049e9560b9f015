// Fuzz parseTrainConfig (train/config.ts, `spt-seg train --config run.json`) and its `--set key=value`
// overrides: fields replaced by interesting values or values of the wrong type, keys dropped and
// added (including "__proto__" and inherited names), NaN / Infinity / huge literals, cut text, deep
// nesting, byte mutations. Every failure must be a ConfigError naming its source.
import t from 'tap';
import { ConfigError, TRAIN_DEFAULTS, applyOverrides, parseTrainConfig } from '../../train/config.ts';
import { caseCount, fuzz } from './harness.ts';
import { INTERESTING_JSON, Rng, mutateJson, mutateJsonText } from './mutate.ts';

const seeds: unknown[] = [TRAIN_DEFAULTS, { train: { steps: 10, lr: 0.001 } }, {}];
const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'train', 'model', 'steps', 'lr'];

interface ConfigInput { text: string; overrides: string[] }

function generate(rng: Rng): ConfigInput {
  const seed = rng.pick(seeds);
  let value = seed;
  for (let k = 1 + rng.int(3); k > 0; k--) value = mutateJson(value, rng);
  let text = rng.chance(0.8) ? JSON.stringify(value) : mutateJsonText(JSON.stringify(seed), rng);
  if (rng.chance(0.1)) text = text.replace(/^\{/, `{"${rng.pick(NAMES)}": ${JSON.stringify(rng.pick(INTERESTING_JSON))},`);
  const overrides = rng.chance(0.3)
    ? [`${rng.pick(['train', 'model', 'loss', '__proto__', 'constructor'])}.${rng.pick(NAMES)}=${JSON.stringify(rng.pick(INTERESTING_JSON))}`]
    : [];
  return { text, overrides };
}

t.test('train config: malformed JSON and overrides fail as ConfigError naming the file', async (t) => {
  const stats = fuzz<ConfigInput>(t, {
    name: 'train-config', generate, errors: [ConfigError],
    parse: ({ text, overrides }, source) => applyOverrides(parseTrainConfig(text, source), overrides, source),
  }, 6, caseCount(10000));
  t.ok(stats.accepted > 0, 'some mutations stay valid');
  t.equal(({} as Record<string, unknown>).steps, undefined, 'no prototype was polluted');
});
