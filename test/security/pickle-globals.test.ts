// A .pt whose pickle names a dangerous callable, or any global outside the allow-list, is refused by
// name at the GLOBAL / STACK_GLOBAL opcode, before any REDUCE could call it; and nothing the
// allow-list admits executes code (classes only record their state).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { PickleClass, PickleError, PickleObject, unpickle } from '../../engine/io/pickle.ts';
import { readTorchArchive } from '../../engine/io/torchscript.ts';
import { torchZip } from '../fuzz/hostile.ts';

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
/** GLOBAL module\nname\n, then REDUCE it with ('echo pwned',): the classic pickle exploit. */
const viaGlobal = (module: string, name: string) => Uint8Array.from([0x80, 2, 0x63, ...ascii(`${module}\n${name}\n`),
  0x58, 10, 0, 0, 0, ...ascii('echo pwned'), 0x85, 0x52, 0x2e]);
/** The same through protocol 4's STACK_GLOBAL (module and name as strings on the stack). */
const viaStackGlobal = (module: string, name: string) => Uint8Array.from([0x80, 4, 0x8c, module.length, ...ascii(module),
  0x8c, name.length, ...ascii(name), 0x93, 0x58, 10, 0, 0, 0, ...ascii('echo pwned'), 0x85, 0x52, 0x2e]);

const DANGEROUS: [string, string][] = [
  ['os', 'system'], ['posix', 'system'], ['nt', 'system'], ['os', 'popen'], ['os', 'execv'],
  ['builtins', 'eval'], ['builtins', 'exec'], ['builtins', 'compile'], ['builtins', 'getattr'], ['builtins', '__import__'],
  ['__builtin__', 'eval'], ['subprocess', 'Popen'], ['subprocess', 'run'], ['subprocess', 'check_output'],
  ['shutil', 'rmtree'], ['socket', 'socket'], ['pickle', 'loads'], ['torch', 'load'], ['torch.serialization', 'load'],
  ['numpy.core.multiarray', '_reconstruct'], ['runpy', '_run_code'], ['webbrowser', 'open'], ['__main__', 'Net'],
  // near misses of the allow-list
  ['__torch__x', 'Evil'], ['torch._utils', '_rebuild_tensor_v2x'], ['torch', 'HalfStorageX'], ['collections', 'OrderedDictX'],
  ['torch.jit._pickle', 'build_intlist.__globals__'], ['collections.OrderedDict', ''],
];

t.test('every dangerous or unlisted global is refused by name, through GLOBAL and STACK_GLOBAL', async (t) => {
  for (const [module, name] of DANGEROUS) {
    const message = new RegExp(`evil\\.pt:.*refusing pickle global "${`${module}.${name}`.replace(/[.$]/g, '\\$&')}" \\(not on the allow-list\\)`);
    t.throws(() => readTorchArchive(torchZip(viaGlobal(module, name)), 'evil.pt'), { name: 'PickleError', message }, `GLOBAL ${module}.${name}`);
    t.throws(() => readTorchArchive(torchZip(viaStackGlobal(module, name)), 'evil.pt'), { name: 'PickleError', message }, `STACK_GLOBAL ${module}.${name}`);
  }
});

t.test('the fixture written by PyTorch that calls os.system is refused', async (t) => {
  const file = readFileSync(new URL('../fixtures/io/malicious.pt', import.meta.url));
  t.throws(() => readTorchArchive(file, 'malicious.pt'), { name: 'PickleError', message: /malicious\.pt.*refusing pickle global "os\.system"/ });
});

t.test('refusal happens at the GLOBAL, before anything is called', async (t) => {
  const calls: string[] = [];
  const resolveGlobal = (m: string, n: string) => { calls.push(`${m}.${n}`); return undefined; };
  t.throws(() => unpickle(viaGlobal('os', 'system'), { resolveGlobal, source: 'x.pkl' }), PickleError);
  t.same(calls, ['os.system'], 'the resolver was asked once and nothing after it ran');
  // Without a persistentLoad, persistent ids (how a pickle reaches outside itself) are refused too.
  t.throws(() => unpickle(Uint8Array.from([0x4e, 0x51, 0x2e]), { resolveGlobal, source: 'p.pkl' }), { message: /p\.pkl: persistent ids are not allowed here/ });
});

t.test('an allowed __torch__ class runs no code when "called": it records arguments and state', async (t) => {
  // __torch__.Evil('echo pwned') then BUILD {'x': 1}
  const pkl = Uint8Array.from([0x80, 2, 0x63, ...ascii('__torch__\nEvil\n'), 0x58, 10, 0, 0, 0, ...ascii('echo pwned'), 0x85, 0x52,
    0x7d, 0x8c, 1, ...ascii('x'), 0x4b, 1, 0x73, 0x62, 0x2e]);
  const v = unpickle(pkl, { resolveGlobal: (m, n) => (m === '__torch__' ? new PickleClass(`${m}.${n}`) : undefined) });
  t.type(v, PickleObject);
  t.same((v as PickleObject).args, ['echo pwned']);
  t.same([...((v as PickleObject).state as Map<string, number>)], [['x', 1]]);
  t.same(Object.keys(new PickleClass('a.b')), ['qualname'], 'a PickleClass holds a name, no function');
});
