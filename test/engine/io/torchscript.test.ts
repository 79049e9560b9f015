// torch archives: a torch.save state dict and a CLIP-shaped TorchScript module load with the exact
// values PyTorch wrote (tools/reference/make_pt_fixtures.py); malicious and malformed pickles are refused.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { readTorchArchive, type TorchArchive } from '../../../engine/io/torchscript.ts';
import { PickleBox, PickleFunction, unpickle, type PickleValue } from '../../../engine/io/pickle.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/io/${name}`, import.meta.url));

interface Expected {
  tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
  scalars: Record<string, number>;
}

/** Every expected tensor is present with its dtype, shape and exact values (F16/BF16 as raw bits). */
function checkAgainst(t: Test, got: TorchArchive, expected: Expected): void {
  t.same([...got.tensors.keys()], Object.keys(expected.tensors), 'same names, same order');
  for (const [name, want] of Object.entries(expected.tensors)) {
    const raw = got.tensors.get(name);
    if (!raw) continue;
    t.equal(raw.dtype, want.dtype, `${name} dtype`);
    t.same(raw.shape, want.shape, `${name} shape`);
    t.equal(raw.data.length, want.values.length, `${name} length`);
    const values = Array.from(raw.data as ArrayLike<number | bigint>, Number);
    t.same(values, want.values.map((v) => (want.dtype === 'F32' ? Math.fround(v) : v)), `${name} values`);
  }
  for (const [name, value] of Object.entries(expected.scalars)) t.equal(got.scalars.get(name), value, `scalar ${name}`);
}

t.test('torch.save(state_dict): fp32/fp16/bf16/f64/ints, transposed and shared-storage views', async (t) => {
  const expected = JSON.parse(fixture('state_dict.expected.json').toString()) as Expected;
  const got = readTorchArchive(fixture('state_dict.pt'), 'state_dict.pt');
  checkAgainst(t, got, expected);
  t.equal(got.scalars.size, 0, "the state dict's _metadata attribute is not read as entries (its version numbers are not scalars)");
  t.type(got.tensors.get('half.weight')!.data, Uint16Array, 'fp16 stays raw bits');
  t.type(got.tensors.get('ids')!.data, BigInt64Array);
  t.same(got.tensors.get('scalar')!.shape, [], '0-d tensor');
});

t.test('TorchScript module tree: dotted CLIP names, fp16 weights, int attributes', async (t) => {
  const expected = JSON.parse(fixture('torchscript.expected.json').toString()) as Expected;
  const got = readTorchArchive(fixture('torchscript.pt'), 'torchscript.pt');
  checkAgainst(t, got, expected);
  const inProj = got.tensors.get('visual.transformer.resblocks.1.attn.in_proj_weight')!;
  t.equal(inProj.dtype, 'F16');
  t.same(inProj.shape, [24, 8]);
  t.equal(got.tensors.get('visual.conv1.bias'), undefined, 'a None attribute is skipped');
  t.equal(got.scalars.get('visual.transformer.resblocks.0.attn.dropout'), 0, 'float attributes are scalars too');
  t.notOk(got.scalars.has('visual.ln_pre.eps'), 'TorchScript __constants__ (eps) live in the code, not data.pkl');
  t.notOk(got.scalars.has('training'), 'booleans are not scalars');
});

t.test('a pickle calling os.system is refused by name', async (t) => {
  t.throws(() => readTorchArchive(fixture('malicious.pt'), 'malicious.pt'),
    { name: 'PickleError', message: /malicious\.pt.*refusing pickle global "os\.system"/ });
});

/** A one-entry torch archive around a hand-written data.pkl. */
const archive = (pkl: number[], extra: Record<string, Uint8Array> = {}) =>
  zipSync({ 'x/data.pkl': new Uint8Array(pkl), ...extra });
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

t.test('unknown opcodes and unlisted globals are refused', async (t) => {
  t.throws(() => readTorchArchive(archive([0x80, 2, 0xff, 0x2e]), 'x.pt'), { message: /unknown pickle opcode 0xff at byte 2/ });
  t.throws(() => readTorchArchive(archive([0x80, 2, 0x49, ...ascii('1\n.')]), 'x.pt'), { message: /unknown pickle opcode 0x49/ },
    'text-protocol INT is not supported');
  // STACK_GLOBAL builtins.eval
  const stackGlobal = [0x80, 4, 0x8c, 8, ...ascii('builtins'), 0x8c, 4, ...ascii('eval'), 0x93, 0x2e];
  t.throws(() => readTorchArchive(archive(stackGlobal), 'x.pt'), { message: /refusing pickle global "builtins\.eval"/ });
  // GLOBAL of a class that is not __torch__: torch.save of a whole nn.Module
  t.throws(() => readTorchArchive(archive([0x63, ...ascii('__main__\nNet\n'), 0x2e]), 'x.pt'),
    { message: /refusing pickle global "__main__\.Net"/ });
});

t.test('malformed archives fail with clear messages', async (t) => {
  t.throws(() => readTorchArchive(new Uint8Array([0x80, 2, 0x7d, 0x2e]), 'old.pt'), { message: /old\.pt: not a zip archive; the legacy/ });
  t.throws(() => readTorchArchive(zipSync({ 'x/version': new Uint8Array([51]) }), 'x.pt'), { message: /expected one <archive>\/data\.pkl/ });
  t.throws(() => readTorchArchive(archive([0x80, 2, 0x7d, 0x28]), 'x.pt'), { message: /pickle truncated/ });
  // {'w': _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', 4), 0, (4,), (1,), False, OrderedDict())}
  const tensor = (key: string, size: number) => [
    0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, ...ascii('w'),
    0x63, ...ascii('torch._utils\n_rebuild_tensor_v2\n'), 0x28,
    0x28, 0x58, 7, 0, 0, 0, ...ascii('storage'), 0x63, ...ascii('torch\nFloatStorage\n'),
    0x58, 1, 0, 0, 0, ...ascii(key), 0x58, 3, 0, 0, 0, ...ascii('cpu'), 0x4b, 4, 0x74, 0x51,
    0x4b, 0, 0x4b, size, 0x85, 0x4b, 1, 0x85, 0x89, 0x63, ...ascii('collections\nOrderedDict\n'), 0x29, 0x52,
    0x74, 0x52, 0x73, 0x2e];
  const four = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const ok = readTorchArchive(archive(tensor('0', 4), { 'x/data/0': four }), 'x.pt');
  t.same(Array.from(ok.tensors.get('w')!.data as Float32Array), [1, 2, 3, 4], 'hand-written tensor pickle');
  t.throws(() => readTorchArchive(archive(tensor('1', 4), { 'x/data/0': four }), 'x.pt'), { message: /storage x\/data\/1 is missing/ });
  t.throws(() => readTorchArchive(archive(tensor('0', 5), { 'x/data/0': four }), 'x.pt'),
    { message: /tensor \[5\] on storage 0 reads element 4, but the storage holds 4/ });
});

t.test('unpickle: values, memo and caller-defined globals', async (t) => {
  // (None, True, -1 via LONG1 0xff, 2**70 via LONG1, 1.5 BINFLOAT, 'é' BINUNICODE, b'ab'), memoised and fetched
  const pkl = [0x80, 2, 0x28, 0x4e, 0x88, 0x8a, 1, 0xff, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40,
    0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x58, 2, 0, 0, 0, 0xc3, 0xa9, 0x43, 2, 0x61, 0x62, 0x74,
    0x71, 0, 0x30, 0x68, 0, 0x2e];
  const v = unpickle(new Uint8Array(pkl), { resolveGlobal: () => undefined }) as PickleValue[];
  t.same(v.slice(0, 6), [null, true, -1, 2n ** 70n, 1.5, 'é']);
  t.same(Array.from(v[6] as Uint8Array), [0x61, 0x62]);
  // GLOBAL m.f; REDUCE with (2,) -> the caller's function runs, and only it
  const call = [0x63, ...ascii('m\nf\n'), 0x4b, 2, 0x85, 0x52, 0x2e];
  const seen: string[] = [];
  const out = unpickle(new Uint8Array(call), {
    resolveGlobal: (m, n) => new PickleFunction(`${m}.${n}`, (args) => { seen.push(`${m}.${n}`); return new PickleBox('x', args); }),
  });
  t.same(seen, ['m.f']);
  t.same((out as PickleBox).value, [2]);
});

t.test('strings: a state dict\'s _metadata attribute and an mmseg meta, as engine/io/torch-writer.ts writes them', async (t) => {
  const { serializeTorchArchive } = await import('../../../engine/io/torch-writer.ts');
  const tensors = new Map([['w', { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) }]]);
  const plain = readTorchArchive(serializeTorchArchive(tensors, { metadata: { '': { card: '{"a": 1}', version: 1 } } }), 'plain.pt');
  t.same([...plain.tensors.keys()], ['w'], 'the attribute holds no entries of the state dict');
  t.equal(plain.strings.get('_metadata..card'), '{"a": 1}', "sd._metadata['']['card']");
  t.equal(plain.scalars.size, 0, 'numbers in _metadata are not scalars');
  const wrapped = readTorchArchive(serializeTorchArchive(tensors, { wrap: { meta: { card: 'x', CLASSES: ['cat', 'dog'], iter: 3 } } }), 'mm.pth');
  t.same([...wrapped.tensors.keys()], ['state_dict.w']);
  t.equal(wrapped.strings.get('meta.card'), 'x');
  t.same(wrapped.strings.get('meta.CLASSES'), ['cat', 'dog'], 'a tuple of strings');
  t.equal(wrapped.scalars.get('meta.iter'), 3);
});
