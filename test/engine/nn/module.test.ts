// Module: parameter naming, state dicts, loading errors, train/eval.
import t from 'tap';
import { manualSeed, randn, zeros } from '../../../engine/index.ts';
import { Dropout, LayerNorm, Linear, Module, ModuleList, Sequential } from '../../../engine/nn/index.ts';

class Block extends Module {
  ln_1 = new LayerNorm(4);
  mlp = new Sequential(new Linear(4, 8), new Linear(8, 4, false));
  drop = new Dropout(0.5);
}

class Net extends Module {
  resblocks = new ModuleList([new Block(), new Block()]);
  proj = new Linear(4, 2);
}

t.test('parameters are named by their property paths', async (t) => {
  const names = new Net().namedParameters().map(([n]) => n);
  // Definition order, depth first, as PyTorch's named_parameters().
  t.same(names.slice(0, 6), [
    'resblocks.0.ln_1.weight', 'resblocks.0.ln_1.bias', 'resblocks.0.mlp.0.weight',
    'resblocks.0.mlp.0.bias', 'resblocks.0.mlp.1.weight', 'resblocks.1.ln_1.weight',
  ]);
  t.same(names.slice(-2), ['proj.weight', 'proj.bias']);
  t.ok(names.includes('resblocks.1.mlp.1.weight'));
  t.notOk(names.includes('resblocks.1.mlp.1.bias'), 'bias=false adds no parameter');
  t.equal(names.length, 2 * (2 + 2 + 1) + 2);
});

t.test('stateDict round trip copies values', async (t) => {
  manualSeed(1);
  const a = new Net();
  const b = new Net();
  b.loadStateDict(a.stateDict());
  for (const [name, p] of a.namedParameters()) t.same(b.stateDict().get(name)!.toArray(), p.toArray(), name);
});

t.test('loadStateDict names every missing, unexpected and mismatched key', async (t) => {
  const net = new Net();
  const dict = net.stateDict();
  dict.delete('proj.bias');
  dict.set('extra.weight', zeros([1]));
  dict.set('proj.weight', randn([3, 4]));
  let message = '';
  try {
    net.loadStateDict(dict);
  } catch (err) {
    message = (err as Error).message;
  }
  t.match(message, /proj\.weight: expected shape \[2, 4\], got \[3, 4\]/);
  t.match(message, /missing key\(s\): proj\.bias/);
  t.match(message, /unexpected key\(s\): extra\.weight/);
  dict.set('proj.weight', randn([2, 4]));
  const res = net.loadStateDict(dict, { strict: false });
  t.same(res.missingKeys, ['proj.bias']);
  t.same(res.unexpectedKeys, ['extra.weight']);
});

t.test('train/eval reach every sub-module; dropout is the identity in eval', async (t) => {
  const net = new Net().eval();
  t.ok(net.namedModules().every(([, m]) => !m.training));
  const x = randn([3, 4]);
  const block = net.resblocks.at(0);
  t.same(block.drop.forward(x).toArray(), x.toArray());
  net.train();
  t.ok(block.drop.training);
});
