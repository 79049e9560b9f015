/**
 * Optimizer, schedule and RNG state dicts (engine/optim/*, engine/rng.ts): a run interrupted after
 * 10 steps, saved through safetensors + JSON as a checkpoint would be, and resumed into fresh objects
 * must end on the same weights, bit for bit, as the run that never stopped. Also: the loaders refuse
 * a state dict that does not fit, naming the entry.
 */
import t from 'tap';
import { dropout, Generator, manualSeed, noGrad, randn, Tensor } from '../../../engine/index.ts';
import { parseSafetensors, serializeSafetensors, type RawTensor } from '../../../engine/io/safetensors.ts';
import { tensorFromRaw, tensorToRaw } from '../../../engine/io/tensors.ts';
import { Linear, Module } from '../../../engine/nn/index.ts';
import { AdamW, polyLr, SGD, type LrSchedule, type Optimizer, type StateTree } from '../../../engine/optim/index.ts';

/** A two-layer MLP with dropout, so that the RNG state matters. */
class Mlp extends Module {
  fc1 = new Linear(4, 8);
  fc2 = new Linear(8, 3);
  forward(x: Tensor, g: Generator): Tensor {
    return this.fc2.forward(dropout(this.fc1.forward(x).relu(), 0.3, true, g));
  }
}

interface Run {
  model: Mlp;
  opt: Optimizer;
  schedule: LrSchedule;
  dropoutGen: Generator;
  x: Tensor;
  y: Tensor;
}

/** Everything built from `seed`; two groups with their own multipliers (the head decays less). */
function makeRun(kind: 'adamw' | 'sgd', seed: number): Run {
  manualSeed(seed);
  const model = new Mlp();
  const groups = [
    { params: model.fc1.parameters(), name: 'body' },
    { params: model.fc2.parameters(), name: 'head', lrMult: 10, decayMult: 0.5 },
  ];
  const opt = kind === 'adamw'
    ? new AdamW(groups, { lr: 1e-2, weightDecay: 0.05, betas: [0.85, 0.99] })
    : new SGD(groups, { lr: 1e-2, momentum: 0.9, weightDecay: 1e-3, nesterov: true });
  const schedule = polyLr({ baseLr: 1e-2, maxIters: 30, warmupIters: 5 + seed, minLr: 1e-4 });
  const data = new Generator(5); // the same batch in every run (a data stream restores its position itself)
  return {
    model, opt, schedule, dropoutGen: new Generator(seed + 100),
    x: randn([6, 4], { generator: data }), y: randn([6, 3], { generator: data }),
  };
}

/** `n` steps from iteration `from`. */
function train(r: Run, from: number, n: number): void {
  for (let it = from; it < from + n; it++) {
    r.opt.lr = r.schedule(it);
    r.opt.zeroGrad();
    const d = r.model.forward(r.x, r.dropoutGen).sub(r.y);
    d.mul(d).mean().backward();
    r.opt.step();
  }
}

/** A checkpoint's bytes: tensors in a safetensors table, the rest of the tree as JSON metadata. */
function save(r: Run): Uint8Array {
  const tensors = new Map<string, RawTensor>();
  const skeleton = (v: StateTree, path: string): unknown => {
    if (v instanceof Tensor) {
      tensors.set(path, tensorToRaw(v));
      return { $tensor: path };
    }
    if (Array.isArray(v)) return v.map((x, i) => skeleton(x, `${path}/${i}`));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, skeleton(x as StateTree, `${path}/${k}`)]));
    }
    return v;
  };
  const tree = {
    model: Object.fromEntries(r.model.stateDict()),
    optimizer: r.opt.stateDict(),
    schedule: r.schedule.stateDict(),
    rng: r.dropoutGen.stateDict(),
  } as StateTree;
  const json = JSON.stringify(skeleton(tree, 'ckpt'));
  return serializeSafetensors(tensors, { tree: json });
}

function load(r: Run, bytes: Uint8Array): void {
  const parsed = parseSafetensors(bytes, 'ckpt');
  const revive = (v: unknown): StateTree => {
    if (Array.isArray(v)) return v.map(revive);
    if (v !== null && typeof v === 'object') {
      const ref = (v as { $tensor?: string }).$tensor;
      if (ref !== undefined) return tensorFromRaw(parsed.tensors.get(ref)!, ref);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
    }
    return v as StateTree;
  };
  const tree = revive(JSON.parse(parsed.metadata.tree)) as Record<string, StateTree>;
  noGrad(() => r.model.loadStateDict(tree.model as Record<string, Tensor>));
  r.opt.loadStateDict(tree.optimizer);
  r.schedule.loadStateDict(tree.schedule);
  r.dropoutGen.loadStateDict(tree.rng);
}

/** The weights' bytes, for a bit-for-bit comparison. */
function weightBits(r: Run): number[] {
  return r.model.parameters().flatMap((p) => Array.from(new Uint32Array((p.data() as Float32Array).slice().buffer)));
}

for (const kind of ['adamw', 'sgd'] as const) {
  t.test(`${kind}: train 10, save, train 10 == load into fresh objects, train 10 (bit for bit)`, (t) => {
    const a = makeRun(kind, 1);
    train(a, 0, 10);
    const bytes = save(a);
    train(a, 10, 10);

    const fresh = makeRun(kind, 2); // other seeds, other schedule settings: everything must come from the file
    const before = weightBits(fresh);
    load(fresh, bytes);
    t.notSame(weightBits(fresh), before, 'the fresh run started elsewhere');
    train(fresh, 10, 10);
    const bitsA = weightBits(a), bitsB = weightBits(fresh);
    t.equal(bitsA.length, 4 * 8 + 8 + 8 * 3 + 3);
    t.ok(bitsA.every((w, i) => w === bitsB[i]), 'the resumed weights equal the uninterrupted ones bit for bit');
    t.equal(fresh.opt.stepCount, 20);
    t.equal(fresh.schedule(3), a.schedule(3), 'the schedule settings came from the file');

    // Without the optimizer state (moments / momentum) the same resume is off: the test can fail.
    const noState = makeRun(kind, 2);
    load(noState, bytes);
    noState.opt.loadStateDict({ ...noState.opt.stateDict(), state: {} });
    train(noState, 10, 10);
    t.ok(weightBits(noState).some((w, i) => w !== bitsA[i]), 'dropping the optimizer state changes the result');
    t.end();
  });
}

t.test('AdamW state dict: step, moments, per-group settings', (t) => {
  const r = makeRun('adamw', 1);
  train(r, 0, 3);
  const sd = r.opt.stateDict() as Record<string, StateTree>;
  t.equal(sd.type, 'AdamW');
  t.equal(sd.stepCount, 3);
  t.same(sd.hyper, { betas: [0.85, 0.99], eps: 1e-8 });
  const groups = sd.paramGroups as Record<string, StateTree>[];
  t.same(groups.map((g) => [g.name, g.lrMult, g.decayMult, g.params]), [['body', 1, 1, [0, 1]], ['head', 10, 0.5, [2, 3]]]);
  t.equal(groups[1].lr, r.opt.lr * 10);
  t.equal(groups[1].weightDecay, 0.05 * 0.5);
  const s3 = (sd.state as Record<string, Record<string, StateTree>>)['3'];
  t.equal(s3.step, 3);
  t.same((s3.expAvg as Tensor).shape, [3]);
  t.end();
});

t.test('loadStateDict refuses a state dict that does not fit, naming the entry', (t) => {
  const r = makeRun('adamw', 1);
  train(r, 0, 2);
  const sd = r.opt.stateDict() as Record<string, StateTree>;
  const sgd = makeRun('sgd', 1);
  t.throws(() => sgd.opt.loadStateDict(sd), /from a AdamW optimizer, not SGD/);
  const other = new AdamW([new Linear(4, 8).weight], { lr: 1 });
  t.throws(() => other.loadStateDict(sd), /2 parameter groups, this optimizer 1/);
  const state = sd.state as Record<string, Record<string, StateTree>>;
  const badShape = { ...sd, state: { ...state, 1: { ...state[1], expAvg: randn([7]) } } };
  const fresh = makeRun('adamw', 3);
  const lrBefore = fresh.opt.lr;
  t.throws(() => fresh.opt.loadStateDict(badShape), /state\.1\.expAvg: has shape \[7\] but its parameter has shape \[8\]/);
  t.equal(fresh.opt.lr, lrBefore, 'nothing was changed by the refused load');
  t.throws(() => fresh.opt.loadStateDict({ ...sd, state: { ...state, 9: state[0] } }), /parameter "9", but there are 4/);
  t.throws(() => fresh.opt.loadStateDict({ ...sd, hyper: { eps: 1e-8 } }), /hyper\.betas: expected an array, got nothing/);
  t.throws(() => r.schedule.loadStateDict({ type: 'polyLr', baseLr: 1 }), /"maxIters": expected a number/);
  t.end();
});

t.test('Generator state dict: exact resume, JSON-safe, checked', (t) => {
  const g = new Generator(7);
  g.normal(); // leaves a spare normal pending
  const state = JSON.parse(JSON.stringify(g.stateDict()));
  const next = [g.normal(), g.random(), g.nextUint32()];
  const h = new Generator(99);
  h.loadStateDict(state);
  t.same([h.normal(), h.random(), h.nextUint32()], next);
  t.throws(() => h.loadStateDict({ s: [1, 2, 3], spare: null }), /4 unsigned 32-bit integers/);
  t.throws(() => h.loadStateDict({ s: [0, 0, 0, 0], spare: null }), /all-zero/);
  t.throws(() => h.loadStateDict({ s: [1, 2, 3, 4], spare: 'x' }), /finite number or null/);
  t.end();
});
