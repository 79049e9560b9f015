// Fuzz parseClipConfig (the `clip_config` JSON our safetensors files carry): fields replaced by
// interesting values or values of the wrong type, keys dropped and added, NaN / Infinity / huge
// literals, cut text, deep nesting, byte mutations. Every failure must be a ClipConfigError naming
// its source; every accepted config must be within CLIP_CONFIG_LIMITS.
import t from 'tap';
import { CLIP_CONFIG_LIMITS, CLIP_VIT_B_16, ClipConfigError, parseClipConfig, type CLIPConfig } from '../../model/clip.ts';
import { caseCount, fuzz } from './harness.ts';
import { Rng, mutateJson, mutateJsonText } from './mutate.ts';

const tiny: CLIPConfig = {
  embedDim: 8,
  vision: { imageSize: 32, patchSize: 16, width: 16, layers: 1, heads: 2, outputDim: 8 },
  text: { contextLength: 7, vocabSize: 20, width: 16, layers: 1, heads: 2, outputDim: 8 },
};
const seeds = [CLIP_VIT_B_16, tiny];

function generate(rng: Rng): string {
  const seed = rng.pick(seeds);
  let value: unknown = seed;
  for (let k = 1 + rng.int(3); k > 0; k--) value = mutateJson(value, rng);
  return rng.chance(0.75) ? JSON.stringify(value) : mutateJsonText(JSON.stringify(seed), rng);
}

function check(result: unknown): string | undefined {
  const c = result as CLIPConfig;
  const sizes = [c.embedDim, ...Object.values(c.vision), ...Object.values(c.text)].filter((v) => typeof v === 'number');
  return sizes.every((v) => Number.isInteger(v) && v >= 1 && v <= CLIP_CONFIG_LIMITS.maxSize) ? undefined : `sizes ${sizes}`;
}

t.test('clip_config: malformed JSON fails as ClipConfigError naming its source', async (t) => {
  const stats = fuzz(t, {
    name: 'clip-config', generate, check, errors: [ClipConfigError],
    parse: (json, source) => parseClipConfig(json, source),
  }, 4, caseCount(12000));
  t.ok(stats.accepted > 0, 'some mutations stay valid');
});
