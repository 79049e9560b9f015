// One device model: the fastest correct CPU path is the default, each backend is created once per
// name (a second useDevice('cpu') gives the same object, so a model and a later batch meet), creation
// functions take `like` / `device`, and every composite of engine/functional run on gpu:cpu makes no
// tensor on another backend.
import t from 'tap';
import {
  arange, avgPool2d, binaryCrossEntropyWithLogits, causalMask, conv2d, crossEntropy, device, dropout,
  eye, full, gelu, getBackend, interpolate, layerNorm, linear, logSoftmax, mean, mseLoss, norm, normalize,
  ones, onesLike, padTo, quickGelu, rand, randn, resize2d, scaledDotProductAttention, setBackend, softmax,
  tensor, useDevice, variance, windowPartition, windowReverse, zeros, zerosLike, type Backend, type Tensor,
} from '../../engine/index.ts';
import { complexMul } from '../../engine/functional/complex.ts';
import { CLIP } from '../../model/clip.ts';
import { VisionTransformer } from '../../model/vit.ts';
import { wasmUnavailableReason } from '../../kernels/wasm/index.ts';

const quiet = { quiet: true };
const TINY_VIT = { imageSize: 16, patchSize: 8, width: 16, layers: 1, heads: 2, outputDim: 4 };

// First: nothing has chosen a backend yet in this process.
t.test('the default backend is wasm where it can run, else cpu', async (t) => {
  const reason = wasmUnavailableReason();
  t.equal(getBackend().name, reason === null ? 'wasm' : 'cpu', reason ?? 'wasm available');
  t.equal(getBackend(), device('auto'), 'the same object as device("auto")');
  t.equal(tensor([1, 2]).storage.backend, getBackend());
});

t.test('useDevice creates each backend once; setBackend(name) hands out the same object', async (t) => {
  const a = useDevice('cpu', quiet);
  const b = useDevice('cpu', quiet);
  t.equal(a, b, 'a second useDevice("cpu") returns the first backend');
  t.equal(setBackend('cpu'), a, 'setBackend("cpu") too');
  t.equal(device('CPU '), a, 'names are trimmed and case-blind');
  t.equal(useDevice('auto', quiet), device(getBackend().name));
  t.equal(useDevice('auto', quiet).name, wasmUnavailableReason() === null ? 'wasm' : 'cpu');
  t.throws(() => useDevice('tpu', quiet), /unknown device "tpu"; choose one of: auto, cpu, wasm, gpu/);
  t.throws(() => device('gpu:nope'), /unknown device "gpu:nope"/);
  t.throws(() => setBackend('nope'), /unknown device "nope"/);
});

t.test('SPT_DEVICE is read when no name is given', async (t) => {
  const saved = process.env.SPT_DEVICE;
  process.env.SPT_DEVICE = 'cpu';
  try {
    t.equal(useDevice(undefined, quiet), device('cpu'));
  } finally {
    if (saved === undefined) delete process.env.SPT_DEVICE;
    else process.env.SPT_DEVICE = saved;
  }
});

for (const name of ['cpu', 'wasm']) {
  t.test(`a model made on one useDevice("${name}") runs a batch made after a second one`, async (t) => {
    useDevice(name, quiet);
    const x0 = tensor([1, 2, 3]);
    const model = new VisionTransformer(TINY_VIT);
    useDevice(name, quiet); // e.g. the CLI selecting again, after the weights were loaded
    const batch = randn([2, 3, 16, 16]);
    t.equal(batch.storage.backend, model.parameters()[0].storage.backend);
    t.same(model.forward(batch).shape, [2, 4]);
    t.same(x0.add(tensor([1, 1, 1])).toArray(), [2, 3, 4], 'tensors made before and after meet');
  });
}

t.test('creation functions accept { like } and { device }', async (t) => {
  const cpu = useDevice('cpu', quiet);
  const gpu = device('gpu:cpu');
  const g = zeros([2, 3], { device: 'gpu:cpu' });
  t.equal(g.storage.backend, gpu);
  t.equal(getBackend(), cpu, 'creating on a device does not change the active one');
  const made: Tensor[] = [
    tensor([1, 2], undefined, { like: g }), full([2], 7, { like: g }), ones([1], { like: g }),
    arange(4, undefined, 1, { like: g }), eye(2, { like: g }), randn([3], { like: g }), rand([2], { device: gpu }),
    zerosLike(g), onesLike(g),
  ];
  for (const m of made) t.equal(m.storage.backend, gpu);
  t.equal(zerosLike(g, { device: 'cpu' }).storage.backend, cpu, 'an explicit device wins over zerosLike\'s input');
  t.equal(arange(3, undefined, 1, { like: g, dtype: 'int32' }).dtype, 'int32', 'like does not imply a dtype');
  t.throws(() => zeros([1], { like: g, device: 'cpu' }), /like \(on "gpu"\) and device "cpu" disagree/);
});

/** Every kernel call on `backend` while `fn` runs, by method name. */
function callsOn(backend: Backend, fn: () => void): string[] {
  const calls: string[] = [];
  const target = backend as unknown as Record<string, unknown>;
  const names = new Set<string>();
  for (let p: object | null = backend; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor' && typeof target[k] === 'function') names.add(k);
  }
  const saved = new Map<string, unknown>();
  for (const k of names) {
    const orig = target[k] as (...a: unknown[]) => unknown;
    saved.set(k, Object.getOwnPropertyDescriptor(backend, k));
    target[k] = (...args: unknown[]) => {
      calls.push(k);
      return orig.apply(backend, args);
    };
  }
  try {
    fn();
  } finally {
    for (const k of names) {
      const d = saved.get(k) as PropertyDescriptor | undefined;
      if (d) Object.defineProperty(backend, k, d);
      else delete target[k];
    }
  }
  return calls;
}

t.test('every composite of engine/functional on gpu:cpu makes nothing on cpu (forward and backward)', async (t) => {
  const cpu = useDevice('cpu', quiet); // the active backend is cpu: constants must follow the inputs instead
  const gpu = device('gpu:cpu');
  const on = { device: gpu };
  const p = (shape: number[]) => randn(shape, { ...on, requiresGrad: true });
  const x = p([2, 4, 4, 4]); // [B, C, H, W]
  const seq = p([2, 3, 8]); // [B, L, D]
  const w = p([5, 8]);
  const b = p([5]);
  const labels = tensor([1, 0], [2], { ...on, dtype: 'int32' });
  const cases: Record<string, () => Tensor> = {
    softmax: () => softmax(seq, -1), logSoftmax: () => logSoftmax(seq, 1),
    gelu: () => gelu(seq), geluTanh: () => gelu(seq, 'tanh'), quickGelu: () => quickGelu(seq),
    linear: () => linear(seq, w, b), layerNorm: () => layerNorm(seq, p([8]), p([8])),
    dropout: () => dropout(seq, 0.5, true),
    mean: () => mean(seq, [1, 2]), variance: () => variance(seq, -1), norm: () => norm(seq, -1), normalize: () => normalize(seq, { dim: -1 }),
    crossEntropy: () => crossEntropy(linear(seq, w, b).mean(1), labels),
    crossEntropySpatial: () => crossEntropy(x, tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0], [2, 4, 4], { ...on, dtype: 'int32' })),
    bce: () => binaryCrossEntropyWithLogits(seq, rand([2, 3, 8], on)), mse: () => mseLoss(seq, zeros([2, 3, 8], on)),
    attention: () => scaledDotProductAttention(seq, seq, seq, { mask: causalMask(3, seq), dropoutP: 0.1 }),
    conv2d: () => conv2d(x, p([3, 4, 3, 3]), p([3]), { padding: 1 }),
    interpolate: () => interpolate(x, [6, 5], { mode: 'bilinear' }), resize2d: () => resize2d(x, 8, 8),
    avgPool2d: () => avgPool2d(x, 2),
    windows: () => windowReverse(windowPartition(x.permute([0, 2, 3, 1]), 2), 2, 4, 4),
    padTo: () => padTo(x, [2, 3], 3),
    complexMul: () => complexMul(p([3, 2]), p([3, 2])),
  };
  for (const [name, run] of Object.entries(cases)) {
    let out: Tensor | null = null;
    const calls = callsOn(cpu, () => {
      out = run();
      out.sum().backward();
    });
    t.same(calls, [], `${name}: no kernel ran on cpu`);
    t.equal(out!.storage.backend, gpu, `${name}: the result is on gpu:cpu`);
  }
});

t.test('the text tower on gpu:cpu, with cpu active: ids and the causal mask follow the weights', async (t) => {
  const gpu = useDevice('gpu:cpu', quiet);
  const clip = new CLIP({
    embedDim: 8,
    vision: { imageSize: 16, patchSize: 8, width: 16, layers: 1, heads: 2, outputDim: 8 },
    text: { contextLength: 6, vocabSize: 20, width: 16, layers: 1, heads: 2, outputDim: 8 },
  });
  const cpu = useDevice('cpu', quiet);
  let out: Tensor | null = null;
  const calls = callsOn(cpu, () => {
    out = clip.encodeText([[1, 5, 7, 19, 0, 0], [1, 19, 0, 0, 0, 0]]);
  });
  t.same(calls, [], 'no kernel ran on cpu');
  t.equal(out!.storage.backend, gpu);
  t.same(out!.shape, [2, 8]);
});
