// SPT-SEG checkpoints both ways between spt-seg and PyTorch (model/spt-interop.ts, engine/io/torch-writer.ts),
// against tools/reference/sptseg_interop.py (fixtures in test/fixtures/interop, no Python in CI):
//  - export: the weights of test/fixtures/sptseg/grid8.safetensors exported in memory hash to the sha256 of
//    the files torch loaded with load_state_dict(strict=True) (the .pt ones with torch.load(weights_only=True)),
//    so those are our bytes; spt-seg's mask logits equal torch's on them within 1e-5 relative;
//  - import: a PyTorch-initialised model's torch.save files (plain and mmseg-wrapped) load here, with the
//    unused official modules dropped and reported, and the logits equal torch's within 1e-5 relative;
//  - the checks: a missing, unexpected or mis-shaped key is named with both shapes; a pickle naming a
//    global off the allow-list is refused.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor, type Tensor } from '../../engine/index.ts';
import { parseSafetensors, toFloat32, type RawTensor } from '../../engine/io/safetensors.ts';
import { unpickle } from '../../engine/io/pickle.ts';
import { readTorchArchive } from '../../engine/io/torchscript.ts';
import { tensorsFromRaw } from '../../engine/io/tensors.ts';
import { writeZip } from '../../engine/io/zip-writer.ts';
import { readSptStateDict, serializeSptSeg, sptSegFromOfficial, StateDictError } from '../../model/spt-interop.ts';
import { relErr, sameShape } from './fixtures.ts';

const DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const TOL = 1e-5;

function readFixture(name: string): { tensors: Map<string, Tensor>; raw: Map<string, RawTensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = parseSafetensors(readFileSync(DIR + name), name);
  return { tensors: new Map([...tensors].map(([k, r]) => [k, tensor(toFloat32(r, k), r.shape)])), raw: tensors, metadata };
}
function get(m: Map<string, Tensor>, k: string): Tensor {
  const v = m.get(k);
  if (!v) throw new Error(`fixture has no ${k}`);
  return v;
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const grid8 = readFixture('sptseg/grid8.safetensors');
const exported = readFixture('interop/export.safetensors');
const imported = readFixture('interop/import.safetensors');
const grid8Weights = () => tensorsFromRaw(new Map([...grid8.raw].filter(([k]) => /^(backbone|decode_head)\./.test(k))), 'float32');

function closeTo(tt: Pick<typeof t, 'ok'>, label: string, actual: Tensor, expected: Tensor): void {
  tt.ok(sameShape(actual, expected), `${label}: shape [${actual.shape}] vs [${expected.shape}]`);
  const peak = expected.abs().max().item();
  tt.ok(peak > 1e-4, `${label}: the reference is not degenerate (max |logit| ${peak.toExponential(2)})`);
  const err = relErr(actual, expected);
  tt.ok(err <= TOL, `${label}: max rel error ${err.toExponential(2)} <= ${TOL}`);
}

t.test('export: our bytes are the files torch loaded strictly, and the logits match', (tt) => {
  const { model } = sptSegFromOfficial(grid8Weights(), {}, 'grid8');
  const files = {
    safetensors: serializeSptSeg(model),
    pt: serializeSptSeg(model, { format: 'pt' }),
    mmseg: serializeSptSeg(model, { format: 'pt', mmseg: true }),
  };
  const ours = model.forward(get(grid8.tensors, 'in.image'), get(grid8.tensors, 'in.text')).maskLogits; // [B, C, 8, 8]
  for (const [kind, bytes] of Object.entries(files)) {
    tt.equal(sha256(bytes), exported.metadata[`sha256.${kind}`], `${kind}: byte-identical to the file torch read`);
    tt.same(sha256(bytes), sha256(serializeSptSeg(model, kind === 'safetensors' ? {} : { format: 'pt', mmseg: kind === 'mmseg' })), `${kind}: byte-stable`);
    closeTo(tt, `${kind}: spt-seg vs torch logits`, ours, get(exported.tensors, `torch.logits.${kind}`));
  }
  // The .pt reads back here to the same float32 tensors under the same names.
  const back = readTorchArchive(files.pt, 'exported.pt').tensors;
  const sd = model.stateDict();
  tt.same([...back.keys()], [...sd.keys()], 'the .pt holds the state dict, in the model\'s order');
  tt.same(back.get('backbone.complex_weight')!.shape, [8, 5, 64, 2], 'complex_weight as [Gh, Gw/2+1, D, 2]');
  tt.ok([...back.values()].every((r) => r.dtype === 'F32'), 'float32');
  tt.same(Array.from(toFloat32(back.get('decode_head.q_proj.weight')!)), Array.from(sd.get('decode_head.q_proj.weight')!.data()), 'values round-trip exactly');
  const wrapped = readSptStateDict(files.mmseg, 'exported.pth');
  tt.equal(wrapped.unwrapped, 'state_dict.', 'the mmseg file unwraps from "state_dict"');
  tt.equal(wrapped.tensors.size, sd.size);
  tt.end();
});

for (const file of ['torch_plain.pt', 'torch_mmseg.pth']) {
  t.test(`import ${file}: a PyTorch-initialised model gives torch's logits`, (tt) => {
    const src = readSptStateDict(readFileSync(DIR + 'interop/' + file), file);
    tt.equal(src.container, 'torch-zip');
    const mmseg = file.endsWith('.pth');
    tt.equal(src.unwrapped, mmseg ? 'state_dict.' : '');
    tt.same(src.dropped, mmseg ? JSON.parse(imported.metadata.dropped) : [], 'tensors outside state_dict are dropped');
    const { model, ignoredKeys } = sptSegFromOfficial(tensorsFromRaw(src.tensors, 'float32'), {}, file);
    tt.same([...ignoredKeys].sort(), JSON.parse(imported.metadata.ignored), 'the unused official modules are dropped and reported');
    tt.same(model.config.encoder.spectralGrid, [4, 4]);
    tt.equal(model.config.decoder.width, 16);
    const logits = model.forward(get(imported.tensors, 'in.image'), get(imported.tensors, 'in.text')).maskLogits; // [1, 3, 4, 4]
    closeTo(tt, `${file}: spt-seg vs torch logits`, logits, get(imported.tensors, 'torch.logits'));
    tt.end();
  });
}

t.test('a missing, unexpected or mis-shaped key is named with both shapes', (tt) => {
  const check = (edit: (m: Map<string, Tensor>) => void, pattern: RegExp, what: string) => {
    const dict = grid8Weights();
    edit(dict);
    tt.throws(() => sptSegFromOfficial(dict, {}, 'edited.pt'), pattern, what);
  };
  check((m) => m.delete('decode_head.q_proj.bias'),
    /edited\.pt: 1 problem.*\n {2}missing key decode_head\.q_proj\.bias: expected shape \[32\], not in the file/, 'missing');
  check((m) => m.set('backbone.extra.weight', tensor(new Float32Array(6), [2, 3])),
    /unexpected key backbone\.extra\.weight: shape \[2, 3\], no such parameter/, 'unexpected');
  check((m) => m.set('backbone.ln_pre.weight', tensor(new Float32Array(63), [63])),
    /size mismatch for backbone\.ln_pre\.weight: expected shape \[64\] \(from the inferred architecture\), got \[63\]/, 'mis-shaped');
  const dict = grid8Weights();
  dict.delete('decode_head.q_proj.bias');
  try {
    sptSegFromOfficial(dict, {}, 'edited.pt');
    tt.fail('should throw');
  } catch (err) {
    tt.ok(err instanceof StateDictError, 'a StateDictError');
    tt.same((err as StateDictError).problems.missing.length, 1, 'problems are listed one by one');
  }
  tt.end();
});

t.test('a pickle naming a global off the allow-list is refused', (tt) => {
  // data.pkl = os.system('echo owned'): protocol 2, GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP.
  const arg = new TextEncoder().encode('echo owned');
  const pkl = Uint8Array.from([0x80, 2, ...new TextEncoder().encode('cos\nsystem\n'), 0x58, arg.length, 0, 0, 0, ...arg, 0x85, 0x52, 0x2e]);
  const zip = writeZip([{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/version', data: new TextEncoder().encode('3\n') }]);
  tt.throws(() => readSptStateDict(zip, 'evil.pt'), /evil\.pt.*refusing pickle global "os\.system"/);
  tt.end();
});

// Found while writing these fixtures: APPEND (a one-element list, e.g. an mmcv optimizer with one param
// group) was mis-read by engine/io/pickle.ts, which evaluated `listOf(top())` before popping the item.
t.test('a one-element list (APPEND) unpickles', (tt) => {
  // {'a': [7]}: PROTO 2, EMPTY_DICT, BINUNICODE 'a', EMPTY_LIST, BININT1 7, APPEND, SETITEM, STOP
  const pkl = Uint8Array.from([0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x5d, 0x4b, 7, 0x61, 0x73, 0x2e]);
  let value: unknown = null;
  try {
    value = unpickle(pkl, { resolveGlobal: () => undefined });
  } catch (err) {
    tt.fail((err as Error).message);
  }
  tt.same(value, new Map([['a', [7]]]));
  tt.end();
});
