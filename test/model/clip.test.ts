// CLIP against PyTorch: every checkpoint layout we load (OpenAI safetensors, TorchScript .pt in fp32
// and fp16, Hugging Face safetensors) must give PyTorch's image features, text features, logits and
// dense tokens within 1e-5, and the gradients of sum(logits · w) with respect to the pixels and to
// every parameter within 1e-4 (errors are max|ours − torch| / max|torch|, float32 against a float64
// reference). The fixture weights are fp16-exact, so the fp16 .pt is compared with the same values
// (tools/reference/clip_fixtures.py explains why).
import t from 'tap';
import { noGrad, type Tensor } from '../../engine/index.ts';
import { loadClip, type CLIP } from '../../model/index.ts';
import { FIXTURES, ref, refValues, relErr, sameShape } from './fixtures.ts';

const FORWARD_TOL = 1e-5;
const GRAD_TOL = 1e-4;
const PATHS = ['openai.safetensors', 'openai_fp32.pt', 'openai_fp16.pt', 'hf.safetensors'];

function tokenRows(): number[][] {
  const flat = refValues('input.tokens');
  return Array.from({ length: 3 }, (_, b) => flat.slice(b * 77, (b + 1) * 77));
}

/** Compare and report: one assertion per check, the error in its message. */
function close(tt: Pick<typeof t, 'ok'>, name: string, actual: Tensor, expected: Tensor, tol: number, worst: Map<string, number>): void {
  tt.ok(sameShape(actual, expected), `${name}: shape [${actual.shape}] vs [${expected.shape}]`);
  const err = relErr(actual, expected);
  worst.set(name, Math.max(worst.get(name) ?? 0, err));
  tt.ok(err <= tol, `${name}: error ${err.toExponential(2)} <= ${tol}`);
}

const models = new Map<string, CLIP>();
const worst = new Map<string, number>();

t.before(async () => {
  for (const p of PATHS) models.set(p, await loadClip(FIXTURES + p));
});

t.test('every load path gives the same float32 weights', async (tt) => {
  const base = models.get(PATHS[0])!.stateDict();
  for (const p of PATHS.slice(1)) {
    const other = models.get(p)!.stateDict();
    tt.same([...other.keys()].sort(), [...base.keys()].sort(), `${p}: same keys`);
    const differing = [...base].filter(([k, v]) => relErr(other.get(k)!, v) !== 0).map(([k]) => k);
    tt.same(differing, [], `${p}: bitwise equal to ${PATHS[0]}`);
  }
});

for (const p of PATHS) {
  t.test(`${p}: features and logits match PyTorch`, async (tt) => {
    const model = models.get(p)!;
    const images = ref('input.images');
    const tokens = tokenRows();
    noGrad(() => {
      close(tt, 'image_features', model.encodeImage(images), ref('ref.image_features'), FORWARD_TOL, worst);
      close(tt, 'text_features', model.encodeText(tokens), ref('ref.text_features'), FORWARD_TOL, worst);
      close(tt, 'logits', model.logits(images, tokens), ref('ref.logits'), FORWARD_TOL, worst);
      close(tt, 'image_tokens', model.visual.forwardTokens(images), ref('ref.image_tokens'), FORWARD_TOL, worst);
    });
  });

  t.test(`${p}: gradients match PyTorch`, async (tt) => {
    const model = models.get(p)!;
    model.zeroGrad();
    const images = ref('input.images').requiresGrad_();
    const loss = model.logits(images, tokenRows()).mul(ref('input.loss_weight')).sum();
    loss.backward();
    close(tt, 'grad.images', images.grad!, ref('ref.grad.images'), GRAD_TOL, worst);
    let params = 0;
    for (const [name, param] of model.namedParameters()) {
      tt.ok(param.grad, `${name} has a gradient`);
      if (param.grad) close(tt, `grad.${name}`, param.grad, ref(`ref.grad.${name}`), GRAD_TOL, worst);
      params++;
    }
    tt.equal(params, 62, 'every parameter of the tiny CLIP was checked');
  });
}

t.test('positional embedding interpolated to a 6x5 grid (96x80 image) matches PyTorch', async (tt) => {
  const model = models.get(PATHS[0])!;
  noGrad(() => close(tt, 'interp.image_features', model.encodeImage(ref('interp.images')), ref('interp.image_features'), FORWARD_TOL, worst));
});

t.teardown(() => {
  const groups = new Map<string, number>();
  for (const [name, err] of worst) {
    const group = name.startsWith('grad.') && name !== 'grad.images' ? 'grad.<every parameter>' : name;
    groups.set(group, Math.max(groups.get(group) ?? 0, err));
  }
  console.log('# worst errors over all load paths: ' +
    [...groups].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', '));
});
