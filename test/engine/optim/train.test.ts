// 20 optimizer steps of an MLP (AdamW, and SGD with gradient clipping) and of a pre-LN transformer
// block, replayed from PyTorch's initial weights and data (tools/reference/train_fixtures.py): the
// loss (and the clipped gradient norm) must match at every step. The loading, models and loop are
// shared with the backend parity tests: test/helpers/train-replay.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadRun, replay, RUN_NAMES } from '../../helpers/train-replay.ts';

for (const name of RUN_NAMES) {
  t.test(`${name}: 20 optimizer steps match PyTorch's losses`, async (t) => {
    const run = loadRun(name, new Uint8Array(readFileSync(new URL(`../../fixtures/train/${name}.safetensors`, import.meta.url))));
    const r = await replay(run);
    t.equal(r.losses.length, 20);
    for (const [step, rel] of r.relErrors.entries()) {
      if (rel > 1e-4) t.fail(`step ${step}: loss ${r.losses[step]} vs PyTorch ${r.expected[step]} (relative error ${rel.toExponential(2)})`);
    }
    for (const [step, rel] of r.normRelErrors.entries()) {
      if (rel > 1e-4) t.fail(`step ${step}: gradient norm off by ${rel.toExponential(2)} relative to PyTorch's ${run.gradNorms![step]}`);
    }
    if (run.gradNorms) t.equal(r.normRelErrors.length, 20, 'the gradient norm was checked at every step');
    t.ok(r.worst <= 1e-4, `worst relative loss error over ${r.losses.length} steps: ${r.worst.toExponential(2)}`);
  });
}
